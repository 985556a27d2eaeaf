"""``wachtplanner check``: the independent checker on any roster, hand-made ones included."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from wachtplanner.cli.options import json_option, scenario_argument
from wachtplanner.cli.report import echo_fairness, echo_penalties
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.io.roster_files import load_roster
from wachtplanner.io.scenario_files import load_scenario_shifts

EXIT_HARD_VIOLATION = 5


@click.command("check")
@scenario_argument
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def command(scenario: Path, roster: Path, as_json: bool) -> None:
    """Check ROSTER (roster.csv or roster.json) against SCENARIO; exit 5 on a broken hard rule."""
    loaded, shifts = load_scenario_shifts(scenario)
    evaluation = evaluate_roster(loaded, shifts, load_roster(roster, loaded, shifts))
    hard = evaluation.hard_violations
    if as_json:
        click.echo(
            json.dumps(
                {
                    "hard_violations": [asdict(v) for v in hard],
                    "soft_violations": [asdict(v) for v in evaluation.violations if not v.hard],
                    "objective_terms": evaluation.terms.as_dict(),
                    "penalties_by_rule": evaluation.penalties_by_rule,
                    "fairness": [asdict(r) for r in evaluation.fairness],
                },
                indent=2,
            )
        )
    else:
        for violation in hard:
            click.echo(f"HARD {violation.rule}: {violation.message}")
        for violation in evaluation.violations:
            if not violation.hard:
                click.echo(f"soft {violation.rule} (+{violation.penalty}): {violation.message}")
        echo_fairness(evaluation)
        echo_penalties(evaluation)
        click.echo(f"{len(hard)} hard violation(s); objective terms {evaluation.terms.as_dict()}.")
    if hard:
        raise click.exceptions.Exit(EXIT_HARD_VIOLATION)
