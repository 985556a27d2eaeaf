"""``wachtplanner replan``: a published roster after a doctor is lost, with the fewest changes."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click

from wachtplanner.cli.options import scenario_argument
from wachtplanner.expand import expand_shifts
from wachtplanner.export.ical import duty_versions, feeds, version_fields, version_label
from wachtplanner.io.atomic import write_files_atomically
from wachtplanner.io.roster_files import (
    duty_history,
    fairness_csv,
    load_roster,
    roster_csv,
    roster_document,
    to_json_bytes,
)
from wachtplanner.io.scenario_files import load_scenario
from wachtplanner.solver import SolverParams
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
@click.option(
    "-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True
)
@click.option("--time-limit", "time_limit_s", type=click.FloatRange(min=0.1), default=60.0)
@click.option("--workers", "num_workers", type=click.IntRange(min=1), default=None)
def command(
    scenario: Path, published: Path, out_dir: Path, time_limit_s: float, num_workers: int | None
) -> None:
    """Apply SCENARIO's doctor_loss events to the published roster, changing the fewest duties.

    Duties before the first loss are frozen. Writes the new roster, feeds (kept duties keep
    their UID and SEQUENCE) and changes.csv (kept / moved / new / removed).
    """
    loaded = load_scenario(scenario)
    before = load_roster(published, loaded, expand_shifts(loaded))
    settings: dict[str, float | int] = {"time_limit_s": time_limit_s}
    if num_workers is not None:
        settings["num_workers"] = num_workers
    outcome = replan(loaded, before, SolverParams.model_validate(settings))
    result = outcome.result
    assert result.evaluation is not None  # solve always checks what it returns
    generated_at = datetime.now(tz=UTC).replace(microsecond=0)
    history = duty_history(published)[0] if published.suffix.lower() == ".json" else None
    versions = duty_versions(result.shifts, result.roster, generated_at, history)
    document = roster_document(
        outcome.scenario,
        result.shifts,
        result,
        result.evaluation,
        generated_at=generated_at,
        versions=version_fields(versions),
    )
    document["replan"] = {
        "frozen_before": outcome.frozen_before.isoformat(),
        "changed_assignments": outcome.num_changed,
        "bound": outcome.changed_bound,
        "proven_minimal": outcome.proven_minimal,
    }
    changes = io.StringIO()
    writer = csv.DictWriter(
        changes, ["kind", "shift_id", "doctor_id", "previous_doctor_id"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(asdict(c) for c in outcome.changes)
    calendars = feeds(
        outcome.scenario,
        result.shifts,
        result.roster,
        versions,
        version_label=version_label(generated_at, result.scenario_hash),
        version_time=generated_at,
    )
    write_files_atomically(
        out_dir,
        {
            "roster.csv": roster_csv(outcome.scenario, result.shifts, result.roster),
            "roster.json": to_json_bytes(document),
            "fairness.csv": fairness_csv(result.evaluation),
            "changes.csv": changes.getvalue().encode("utf-8"),
            **{f"ical/{name}": content for name, content in calendars.items()},
        },
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
