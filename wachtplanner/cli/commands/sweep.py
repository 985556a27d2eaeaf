"""``wachtplanner sweep``: a grid of what-ifs, each run a Dask task."""

from __future__ import annotations

import os
from pathlib import Path

import click

from wachtplanner.cli.options import language_option, output_dir_option, scenario_argument
from wachtplanner.io.roster_files import load_roster
from wachtplanner.io.scenario_files import load_scenario_shifts, read_document
from wachtplanner.sweep.engine import Cluster, run_sweep
from wachtplanner.sweep.grid import load_grid


@click.command("sweep")
@scenario_argument
@click.option(
    "--grid",
    "grid_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="GRID.yaml: dotted scenario keys and the values each takes (zip: groups vary together).",
)
@output_dir_option("Write sweep.csv, report.html and runs/<id>/ here (replaced as a whole).")
@click.option(
    "--scheduler-address",
    default=None,
    help="A running Dask scheduler (tcp://host:8786) [default: $DASK_SCHEDULER_ADDRESS, else a "
    "local cluster].",
)
@click.option(
    "--scheduler-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The scheduler file a Dask scheduler wrote (dask scheduler --scheduler-file F).",
)
@click.option(
    "--workers",
    "dask_workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of the local cluster [default: CPU count, at most 8].",
)
@click.option("--solve", is_flag=True, help="Also re-plan the roster for every run.")
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="With --solve: the published roster the runs re-plan [default: SCENARIO solved once].",
)
@click.option(
    "--time-limit",
    "time_limit_s",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="With --solve: seconds per run.",
)
@click.option(
    "--deterministic-time",
    type=click.FloatRange(min=0.01),
    default=None,
    help="With --solve: also stop each run after this much CP-SAT deterministic time, so a "
    "sweep gives the same rosters on any machine.",
)
@click.option(
    "--within-weeks",
    type=click.IntRange(min=1),
    default=26,
    show_default=True,
    help="The report marks runs where everyone has a GP within this many weeks.",
)
@language_option
def command(
    scenario: Path,
    grid_file: Path,
    out_dir: Path,
    scheduler_address: str | None,
    scheduler_file: Path | None,
    dask_workers: int | None,
    solve: bool,
    roster: Path | None,
    time_limit_s: float,
    deterministic_time: float | None,
    within_weeks: int,
    language: str,
) -> None:
    """Run SCENARIO for every combination in GRID: continuity, and with --solve the roster.

    Every run's scenario is validated before anything starts (exit 3 with the key, the value
    and the problem). Runs are Dask tasks: a local cluster by default (worker processes x
    CP-SAT threads <= CPU cores), or the scheduler given (or in DASK_SCHEDULER_ADDRESS).
    Writes OUT/sweep.csv (one row per run: the varied keys, weeks_until_all_attached,
    peak_unattached, unmet_contacts, gp_poor_weeks, with --solve status, gap,
    largest_deviation, changed_duties; then error and run), OUT/runs/<run>/ and
    OUT/report.html. A failed run is recorded and the others go on; an interrupted sweep
    resumes from OUT.sweep-work/ without redoing finished runs.
    """
    if scheduler_address and scheduler_file:
        raise click.UsageError("give --scheduler-address or --scheduler-file, not both.")
    base_scenario, shifts = load_scenario_shifts(scenario)
    base = read_document(scenario)
    axes, runs = load_grid(grid_file, base)
    cores = os.cpu_count() or 1
    workers = dask_workers or min(cores, 8)
    params: dict[str, float | int] = {
        "time_limit_s": time_limit_s,
        "num_workers": max(1, cores // workers),
        "random_seed": 1,
    }
    if deterministic_time is not None:
        params["deterministic_time"] = deterministic_time
    base_roster = None
    if solve and roster is not None:
        published = load_roster(roster, base_scenario, shifts)
        base_roster = sorted((a.shift_id, a.doctor_id) for a in published.assignments)
    outcome = run_sweep(
        runs,
        axes,
        out_dir,
        base_document=base,
        cluster=Cluster(scheduler_address, scheduler_file, workers),
        solve=solve,
        params=params,
        base_roster=base_roster,
        within_weeks=within_weeks,
        language=language,
        progress=lambda text: click.echo(text, err=True),
    )
    reached = sum(
        1
        for row in outcome.rows
        if isinstance(row.get("weeks_until_all_attached"), int)
        and row["weeks_until_all_attached"] <= within_weeks
    )
    click.echo(
        f"{len(outcome.rows)} runs ({outcome.ran} run now, {outcome.reused} reused, "
        f"{outcome.failed} failed) in {outcome.wall_s:.1f} s; everyone has a GP within "
        f"{within_weeks} weeks in {reached} of them. Written to {out_dir}/."
    )
