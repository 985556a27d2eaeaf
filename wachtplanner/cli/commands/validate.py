"""``wachtplanner validate``: read the scenario, expand it, run the counting checks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from wachtplanner.cli.options import json_option, scenario_argument
from wachtplanner.io.scenario_files import load_scenario_shifts
from wachtplanner.solver.instance import compile_instance
from wachtplanner.solver.presolve import check_feasible_counts
from wachtplanner.stats.legal import describe_shortfalls, legal_shortfalls
from wachtplanner.stats.trainees import trainee_warnings


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


@click.command("validate")
@scenario_argument
@json_option
def command(scenario: Path, as_json: bool) -> None:
    """Validate SCENARIO: schema, cross-references, and whether every shift can be covered."""
    loaded, shifts = load_scenario_shifts(scenario)
    instance = compile_instance(loaded, shifts)
    check_feasible_counts(instance)
    by_type = Counter(s.shift_type for s in shifts)
    warnings = [
        *(
            f"legal minimum (KB 30 July 2013): {line}"
            for line in describe_shortfalls(loaded, legal_shortfalls(loaded, shifts))
        ),
        *trainee_warnings(loaded, shifts),
    ]
    summary = {
        "file": str(scenario),
        "name": loaded.name,
        "horizon": [loaded.horizon.start.isoformat(), loaded.horizon.end.isoformat()],
        "doctors": len(loaded.doctors),
        "areas": len(loaded.areas),
        "posts": len(loaded.posts),
        "shift_instances": dict(sorted(by_type.items())),
        "eligible_pairs": instance.num_pairs,
        "duty_hours": round(sum(s.hours * s.need for s in shifts), 1),
        "warnings": warnings,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{scenario}: valid.")
    click.echo(
        f"  {loaded.name}: {_count(len(loaded.doctors), 'doctor')}, "
        f"{_count(len(loaded.areas), 'area')}, {_count(len(loaded.posts), 'post')}, "
        f"{loaded.horizon.start} to {loaded.horizon.end}."
    )
    for shift_type, count in sorted(by_type.items()):
        click.echo(f"  {shift_type}: {_count(count, 'instance')}")
    click.echo(
        f"  {summary['duty_hours']} duty hours to cover; {instance.num_pairs} eligible "
        "(doctor, shift) pairs; every shift has enough eligible doctors."
    )
    for warning in warnings:
        click.echo(f"  Warning: {warning}")
