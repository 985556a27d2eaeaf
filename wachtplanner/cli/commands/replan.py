"""``wachtplanner replan``: a published roster after a doctor is lost, with the fewest changes."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click

from wachtplanner.cli.options import (
    output_dir_option,
    scenario_argument,
    solver_params,
    time_limit_option,
    workers_option,
)
from wachtplanner.export.bundle import roster_bundle
from wachtplanner.io.atomic import replace_folder
from wachtplanner.io.roster_files import (
    duty_history,
    load_roster,
)
from wachtplanner.io.scenario_files import load_scenario_shifts
from wachtplanner.solver.replan import replan


@click.command("replan")
@scenario_argument
@click.option(
    "--roster",
    "published",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The published roster (roster.json keeps feed identities; CSV works too).",
)
@output_dir_option("Folder for the re-planned roster files, ical/ and changes.csv.")
@time_limit_option
@workers_option
def command(
    scenario: Path, published: Path, out_dir: Path, time_limit_s: float, num_workers: int | None
) -> None:
    """Apply SCENARIO's doctor_loss events to the published roster, changing the fewest duties.

    Duties before the first loss are frozen. Writes the new roster, feeds (kept duties keep
    their UID and SEQUENCE) and changes.csv (kept / moved / new / removed).
    """
    loaded, shifts = load_scenario_shifts(scenario)
    before = load_roster(published, loaded, shifts)
    outcome = replan(loaded, before, solver_params(time_limit_s, num_workers))
    result = outcome.result
    generated_at = datetime.now(tz=UTC).replace(microsecond=0)
    history = duty_history(published)[0] if published.suffix.lower() == ".json" else None
    changes = io.StringIO()
    writer = csv.DictWriter(
        changes, ["kind", "shift_id", "doctor_id", "previous_doctor_id"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(asdict(c) for c in outcome.changes)
    files, _ = roster_bundle(
        outcome.scenario,
        result,
        generated_at=generated_at,
        history=history,
        extra={
            "replan": {
                "frozen_before": outcome.frozen_before.isoformat(),
                "changed_assignments": outcome.num_changed,
                "bound": outcome.changed_bound,
                "proven_minimal": outcome.proven_minimal,
            }
        },
    )
    replace_folder(
        out_dir, {**files, "changes.csv": changes.getvalue().encode("utf-8")}, command="replan"
    )
    counts = {
        kind: sum(1 for c in outcome.changes if c.kind == kind)
        for kind in ("kept", "moved", "new", "removed")
    }
    proof = (
        f"proven minimal (bound {outcome.changed_bound})"
        if outcome.proven_minimal
        else f"not proven: CP-SAT's bound is {outcome.changed_bound}"
    )
    click.echo(
        f"Re-planned from {outcome.frozen_before}: {outcome.num_changed} published duties "
        f"changed, {proof}. kept {counts['kept']}, moved {counts['moved']}, new {counts['new']}, "
        f"removed {counts['removed']}. Checked: 0 hard violations. Written to {out_dir}/."
    )
