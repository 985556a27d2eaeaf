"""``wachtplanner stats``: fairness and workload figures of a roster."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from wachtplanner.cli.options import json_option, scenario_argument
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.export.tables import stats_files, stats_json
from wachtplanner.io.atomic import replace_folder
from wachtplanner.io.roster_files import load_roster
from wachtplanner.io.scenario_files import load_scenario_shifts
from wachtplanner.stats import compute_statistics
from wachtplanner.stats.legal import describe_shortfalls, legal_shortfalls
from wachtplanner.stats.trainees import trainee_hours


@click.command("stats")
@scenario_argument
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write the tables to OUTPUT/stats/*.csv.",
)
@json_option
def command(scenario: Path, roster: Path, out_dir: Path | None, as_json: bool) -> None:
    """Per doctor, per unit and month, fairness summary and availability fees of ROSTER."""
    loaded, shifts = load_scenario_shifts(scenario)
    chosen = load_roster(roster, loaded, shifts)
    stats = compute_statistics(loaded, shifts, chosen, evaluate_roster(loaded, shifts, chosen))
    if out_dir is not None:
        replace_folder(out_dir, stats_files(stats), command="stats")
    shortfalls = legal_shortfalls(loaded, shifts)
    trainees = trainee_hours(loaded, shifts, chosen)
    if as_json:
        document = stats_json(stats)
        document["quality"] = stats.quality.as_dict()
        document["trainees"] = [asdict(t) for t in trainees]
        document["legal_minimum_shortfalls"] = [
            {
                "unit": f.unit_id,
                "start": f.start.isoformat(),
                "end": f.end.isoformat(),
                "on_call": f.on_call,
                "required": f.required,
            }
            for f in shortfalls
        ]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    with_names = stats.doctors.set_index("doctor_id")
    click.echo("Per doctor (points, hours, duties, fee):")
    click.echo(with_names.to_string(max_rows=60, float_format=lambda v: f"{v:.2f}"))
    click.echo("\nFairness per tag:")
    click.echo(stats.fairness.to_string(index=False))
    click.echo(
        f"\nAvailability fees in total: EUR {stats.doctors['fee_eur'].sum():.2f} "
        f"(rates per year in rules.fees)."
    )
    click.echo("\nAs a coordinator reads it:")
    for name, value in stats.quality.as_dict().items():
        click.echo(f"  {name.replace('_', ' ')}: {value:g}")
    for trainee in trainees:
        click.echo(
            f"Trainee {trainee.doctor_id}: {trainee.roster_hours:g} h on call; the 120 h of the "
            f"training need {trainee.needed_hours:g} h pro rata."
        )
    for line in describe_shortfalls(loaded, shortfalls):
        click.echo(f"Legal minimum (KB 30 July 2013): {line}")
