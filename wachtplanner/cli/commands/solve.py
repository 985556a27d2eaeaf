"""``wachtplanner solve``: scenario in, verified roster files out."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from wachtplanner.cli.options import (
    json_option,
    language_option,
    output_dir_option,
    previous_option,
    scenario_argument,
    solver_params,
    time_limit_option,
    workers_option,
)
from wachtplanner.cli.report import echo_fairness, echo_penalties
from wachtplanner.export.bundle import roster_bundle
from wachtplanner.export.labels import Language
from wachtplanner.io.atomic import replace_folder
from wachtplanner.io.roster_files import (
    duty_history,
)
from wachtplanner.io.scenario_files import load_scenario_shifts
from wachtplanner.result import SolveStatus, StageResult
from wachtplanner.solver import solve

_PROGRESS_EVERY_S = 0.5


class _Progress:
    """Prints improvements to stderr, at most every half second per stage."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last: dict[str, float] = {}
        self.ended: set[str] = set()

    def __call__(self, stage: str, objective: int, bound: int, elapsed_s: float) -> None:
        now = time.perf_counter()
        if self.quiet or now - self.last.get(stage, -1e9) < _PROGRESS_EVERY_S:
            return
        self.last[stage] = now
        gap = 0.0 if objective == bound else abs(objective - bound) / max(1, abs(objective))
        click.echo(
            f"  [{elapsed_s:6.1f} s] {stage:<10} objective {objective:>8}  bound {bound:>8}  "
            f"gap {gap:6.1%}",
            err=True,
        )

    def stage_done(self, stage: StageResult) -> None:
        """Print a stage's final objective, bound and gap as it ends."""
        # A stage searched again with the time the later ones left is reported again.
        label = f"{stage.name} again" if stage.name in self.ended else stage.name
        self.ended.add(stage.name)
        if not self.quiet:
            click.echo(
                f"  stage {label:<10} {stage.status:<8} objective {stage.objective:>8}  "
                f"bound {stage.bound:>8}  gap {stage.gap:6.1%}  ({stage.wall_time_s:.1f} s)",
                err=True,
            )


@click.command("solve")
@scenario_argument
@output_dir_option(
    "Folder for roster.csv/.json/.xlsx, fairness.csv, stats/, ical/ and report.html."
)
@time_limit_option
@workers_option
@previous_option
@click.option("--seed", "random_seed", type=int, default=0, show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@language_option
@json_option
def command(
    scenario: Path,
    out_dir: Path,
    time_limit_s: float,
    num_workers: int | None,
    previous: Path | None,
    random_seed: int,
    quiet: bool,
    language: Language,
    as_json: bool,
) -> None:
    """Solve SCENARIO and write the roster to OUTPUT (files are replaced only on success)."""
    loaded, shifts = load_scenario_shifts(scenario)
    params = solver_params(time_limit_s, num_workers, random_seed)
    if not quiet:
        click.echo(
            f"Solving {scenario} ({len(loaded.doctors)} doctors) with {params.num_workers} "
            f"worker(s), at most {params.time_limit_s:g} s…",
            err=True,
        )
    printer = _Progress(quiet)
    result = solve(loaded, params, progress=printer, shifts=shifts, stage_done=printer.stage_done)
    if result.status is SolveStatus.NO_SOLUTION:
        click.echo(
            f"No roster found within {time_limit_s:g} s; nothing was written. "
            "Try a longer --time-limit.",
            err=True,
        )
        raise click.exceptions.Exit(4)
    evaluation = result.evaluation
    assert evaluation is not None  # solve always checks the roster it returns
    generated_at = datetime.now(tz=UTC).replace(microsecond=0)
    history = duty_history(previous)[0] if previous is not None else None
    files, document = roster_bundle(
        loaded, result, generated_at=generated_at, history=history, language=language
    )
    replace_folder(out_dir, files, command="solve")
    if as_json:
        summary = {k: v for k, v in document.items() if k != "assignments"}
        click.echo(json.dumps({**summary, "output": str(out_dir)}, indent=2))
        return
    click.echo(
        f"{result.status}: {len(result.roster.assignments)} assignments in "
        f"{result.wall_time_s:.1f} s (model built in {result.build_time_s:.1f} s, first roster "
        f"after {result.time_to_first_s or 0:.1f} s)."
    )
    for stage in result.stages:
        click.echo(
            f"  stage {stage.name:<10} {stage.status:<8} objective {stage.objective:>7} "
            f"bound {stage.bound:>7} gap {stage.gap:.1%}"
        )
    echo_fairness(evaluation)
    echo_penalties(evaluation)
    click.echo(f"Checked by the independent checker: 0 hard violations. Written to {out_dir}/.")
