"""``wachtplanner simulate``: the week-by-week continuity story of one or more scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import click

from wachtplanner.export.continuity import continuity_files, continuity_report, summary
from wachtplanner.io.atomic import replace_folder
from wachtplanner.io.scenario_files import load_scenario
from wachtplanner.simulation.weekly import simulate


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
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def command(
    scenarios: tuple[Path, ...], out_dir: Path, compare: bool, weeks: int | None, as_json: bool
) -> None:
    """Re-home patients week by week after the events of SCENARIOS; show who has no GP.

    Also what acute demand stays unmet. Writes timeline.csv, summary.json and report.html.
    """
    runs = [(path.stem, simulate(load_scenario(path), weeks=weeks)) for path in scenarios]
    files: dict[str, bytes] = {}
    if len(runs) == 1 and not compare:
        files = continuity_files(*runs[0])
    else:
        for name, simulation in runs:
            for file_name, content in continuity_files(name, simulation).items():
                files[f"{name}/{file_name}"] = content
        files["compare.json"] = json.dumps([summary(n, s) for n, s in runs], indent=2).encode()
        files["report.html"] = continuity_report(runs)
    replace_folder(out_dir, files, command="simulate")
    summaries = [summary(n, s) for n, s in runs]
    if as_json:
        click.echo(json.dumps(summaries, indent=2))
        return
    for (name, simulation), figures in zip(runs, summaries, strict=True):
        click.echo(f"== {name}")
        for doctor, day in simulation.departures:
            click.echo(f"  {day}: {doctor} stops")
        click.echo("  week  start       attached  without GP  acute  noodpunt  overflow  unmet")
        shown = [r for r in simulation.rows if r.week < 8 or r.week % 4 == 0]
        for r in shown:
            click.echo(
                f"  {r.week:>4}  {r.start}  {r.attached:>8}  {r.unattached:>10}  "
                f"{r.acute_demand:>5.1f}  {r.served_emergency:>8.1f}  {r.served_overflow:>8.1f}  "
                f"{r.unmet:>5.1f}"
            )
        until = figures["weeks_until_everyone_attached"]
        click.echo(
            f"  Everyone has a GP again after: "
            f"{'never within the simulation' if until is None else f'{until} weeks'}; "
            f"{figures['unattached_at_end']} still without a GP at the end; peak unmet acute "
            f"demand {figures['peak_unmet_acute_per_week']:.1f} consultations a week, "
            f"{figures['total_unmet_acute']:.0f} in total."
        )
        if figures["gp_poor_areas_after"]:
            click.echo(f"  GP-poor areas (Impulseo thresholds): {figures['gp_poor_areas_after']}")
    click.echo(f"Written to {out_dir}/.")
