"""``wachtplanner simulate``: the week-by-week continuity story of one or more scenarios."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click

from wachtplanner.cli.options import solver_params, time_limit_option, workers_option
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import expand_shifts
from wachtplanner.export.bundle import roster_bundle
from wachtplanner.export.continuity import continuity_files, continuity_report, summary
from wachtplanner.io.atomic import replace_folder
from wachtplanner.io.roster_files import load_roster
from wachtplanner.io.scenario_files import load_scenario
from wachtplanner.simulation.weekly import Simulation, simulate
from wachtplanner.solver.params import SolverParams
from wachtplanner.solver.replan import replan


@click.command("simulate")
@click.argument(
    "scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True
)
@click.option(
    "--compare",
    is_flag=True,
    help="Alternatives side by side: each in OUTPUT/<name>/, plus OUTPUT/compare.json and "
    "OUTPUT/report.html (implied by two or more scenarios).",
)
@click.option("--weeks", type=click.IntRange(min=1), default=None, help="Weeks to simulate.")
@click.option(
    "--roster",
    "published",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The published roster: re-plan it for the doctors who leave within its horizon "
    "(fewest changed duties) and write it to OUTPUT/replan/.",
)
@time_limit_option
@workers_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def command(
    scenarios: tuple[Path, ...],
    out_dir: Path,
    compare: bool,
    weeks: int | None,
    published: Path | None,
    time_limit_s: float,
    num_workers: int | None,
    as_json: bool,
) -> None:
    """Re-home patients week by week after the events of SCENARIOS; show who has no GP.

    Also all the care demand of the patients without a GP (acute and not) and what stays unmet,
    the load of the GPs who take them on, and which areas are GP-poor when. Writes
    timeline.csv, summary.json and report.html; with --roster also the re-planned roster and
    its number of changed duties.
    """
    loaded = [(path.stem, load_scenario(path)) for path in scenarios]
    runs = [(name, simulate(scenario, weeks=weeks)) for name, scenario in loaded]
    areas = {name: [a.id for a in scenario.areas] for name, scenario in loaded}
    files: dict[str, bytes] = {}
    if len(runs) == 1 and not compare:
        files = continuity_files(*runs[0], areas[runs[0][0]])
    else:
        for name, simulation in runs:
            for file_name, content in continuity_files(name, simulation, areas[name]).items():
                files[f"{name}/{file_name}"] = content
    changed: dict[str, int] = {}
    if published is not None:
        for (name, scenario), (_, simulation) in zip(loaded, runs, strict=True):
            prefix = "replan/" if len(runs) == 1 and not compare else f"{name}/replan/"
            replanned, count = _replan_departures(
                scenario, simulation, published, solver_params(time_limit_s, num_workers)
            )
            changed[name] = count
            files.update({prefix + k: v for k, v in replanned.items()})
        files["compare.json"] = json.dumps([summary(n, s) for n, s in runs], indent=2).encode()
        files["report.html"] = continuity_report(runs)
    summaries = [summary(n, s) for n, s in runs]
    for figures in summaries:
        if figures["scenario"] in changed:
            figures["changed_duties"] = changed[figures["scenario"]]
    if published is not None and len(runs) == 1 and not compare:
        files["summary.json"] = (json.dumps(summaries[0], indent=2) + "\n").encode("utf-8")
    replace_folder(out_dir, files, command="simulate")
    if as_json:
        click.echo(json.dumps(summaries, indent=2))
        return
    for (name, simulation), figures in zip(runs, summaries, strict=True):
        click.echo(f"== {name}")
        for doctor, day in simulation.departures:
            click.echo(f"  {day}: {doctor} stops")
        click.echo(
            "  week  start       attached  without GP  demand  acute  noodpunt  overflow  unmet"
        )
        shown = [r for r in simulation.rows if r.week < 8 or r.week % 4 == 0]
        for r in shown:
            click.echo(
                f"  {r.week:>4}  {r.start}  {r.attached:>8}  {r.unattached:>10}  "
                f"{r.contacts_demand:>6.1f}  {r.acute_demand:>5.1f}  {r.served_emergency:>8.1f}  "
                f"{r.served_overflow:>8.1f}  {r.unmet:>5.1f}"
            )
        until = figures["weeks_until_everyone_attached"]
        click.echo(
            f"  Everyone has a GP again after: "
            f"{'never within the simulation' if until is None else f'{until} weeks'}; "
            f"{figures['unattached_at_end']} still without a GP at the end; unmet care "
            f"{figures['total_unmet_contacts']:.0f} consultations of "
            f"{figures['total_contacts_demand']:.0f} ({figures['total_unmet_acute']:.0f} acute); "
            f"peak {figures['peak_unmet_per_week']:.1f} a week."
        )
        if "changed_duties" in figures:
            click.echo(f"  Re-planned roster: {figures['changed_duties']} duties changed.")
        if figures["gp_poor_areas_after"]:
            click.echo(f"  GP-poor areas (Impulseo thresholds): {figures['gp_poor_areas_after']}")
    click.echo(f"Written to {out_dir}/.")


def _replan_departures(
    scenario: Scenario, simulation: Simulation, published: Path, params: SolverParams
) -> tuple[dict[str, bytes], int]:
    """Re-plan the published roster for the departures within its horizon; return its files."""
    horizon = scenario.horizon
    leaving = {d: day for d, day in simulation.departures if horizon.start <= day <= horizon.end}
    document = scenario.model_dump(by_alias=True, mode="json", exclude_unset=True)
    document["events"] = [
        {"type": "doctor_loss", "doctor": d, "date": day.isoformat()} for d, day in leaving.items()
    ]
    with_losses = Scenario.model_validate(document)
    shifts = expand_shifts(with_losses)
    before = load_roster(published, with_losses, shifts)
    outcome = replan(with_losses, before, params)
    files, _ = roster_bundle(
        outcome.scenario,
        outcome.result,
        generated_at=datetime.now(tz=UTC).replace(microsecond=0),
        extra={"replan": {"changed_assignments": outcome.num_changed}},
    )
    changes = io.StringIO()
    writer = csv.DictWriter(
        changes, ["kind", "shift_id", "doctor_id", "previous_doctor_id"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(asdict(c) for c in outcome.changes)
    files["changes.csv"] = changes.getvalue().encode("utf-8")
    return files, outcome.num_changed
