"""One run of a sweep, as a Dask task: plain data in, plain data out, no files touched.

A worker may sit on another machine without the client's disk, so a run returns its outputs
as bytes and the client writes them. Errors are caught and returned with the run: a failed
run is a row of the sweep, not the end of it.
"""

from __future__ import annotations

import csv
import io
import json
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

from wachtplanner.domain.continuity import DoctorLoss
from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.export.continuity import continuity_files
from wachtplanner.simulation.weekly import Simulation, simulate
from wachtplanner.solver.api import solve
from wachtplanner.solver.params import SolverParams
from wachtplanner.solver.replan import replan

OUTCOMES = ("weeks_until_all_attached", "peak_unattached", "unmet_contacts", "gp_poor_weeks")
SOLVE_OUTCOMES = ("status", "gap", "largest_deviation", "changed_duties")


@dataclass(frozen=True)
class RunSpec:
    """What a worker needs for one run."""

    run_id: str
    document: dict[str, Any]
    solve: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    """SolverParams fields (time limit, CP-SAT workers, seed, deterministic time)."""


@dataclass(frozen=True)
class RunResult:
    """A run's outcomes (the sweep.csv columns), its files, or why it failed."""

    run_id: str
    outcomes: dict[str, Any]
    files: dict[str, bytes]
    error: str = ""


def run_one(spec: RunSpec, base: list[tuple[str, str]] | None = None) -> RunResult:
    """Simulate one scenario and, with ``solve``, re-plan the base roster for it."""
    try:
        scenario = Scenario.model_validate(spec.document)
        simulation = simulate(scenario)
        outcomes = _continuity_outcomes(simulation)
        files = continuity_files(scenario.name, simulation, [a.id for a in scenario.areas])
        del files["report.html"]  # the sweep's report compares the runs; charts per run cost
        files["scenario.yaml"] = yaml.safe_dump(
            spec.document, sort_keys=False, allow_unicode=True
        ).encode("utf-8")
        if spec.solve:
            solved, roster_files = _solve(scenario, simulation, spec, base or [])
            outcomes.update(solved)
            files.update(roster_files)
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (at {last[0].name}, line {last[0].lineno})" if last else ""
        return RunResult(spec.run_id, {}, {}, f"{type(exc).__name__}: {exc}{where}"[:500])
    return RunResult(spec.run_id, outcomes, files)


def _continuity_outcomes(simulation: Simulation) -> dict[str, Any]:
    return {
        "weeks_until_all_attached": simulation.weeks_until_all_attached,
        "peak_unattached": simulation.peak_unattached,
        "unmet_contacts": round(simulation.total_unmet, 1),
        "gp_poor_weeks": simulation.gp_poor_weeks,
    }


def _solve(
    scenario: Scenario, simulation: Simulation, spec: RunSpec, base: list[tuple[str, str]]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Re-plan the base roster for the run: its departures within the horizon are losses."""
    horizon = scenario.horizon
    document = scenario.model_dump(by_alias=True, mode="json", exclude_unset=True)
    losses = {d: day for d, day in simulation.departures if horizon.start <= day <= horizon.end}
    known = {e.doctor for e in scenario.events if isinstance(e, DoctorLoss)}
    document["events"] = [
        e for e in document.get("events", []) if e.get("type") != "retirement_wave"
    ] + [
        {"type": "doctor_loss", "doctor": d, "date": day.isoformat()}
        for d, day in losses.items()
        if d not in known
    ]
    with_losses = Scenario.model_validate(document)
    doctors = {d.id for d in with_losses.doctors}
    published = Roster(
        assignments=tuple(Assignment(shift_id=s, doctor_id=d) for s, d in base if d in doctors)
    )
    outcome = replan(with_losses, published, SolverParams(**spec.params))
    if outcome.result.status.value == "NO_SOLUTION":
        raise TimeoutError("no roster within the time limit; give --solve more --time-limit")
    evaluation = outcome.result.evaluation
    largest = (
        max((abs(r.deviation) for r in evaluation.fairness), default=0.0) if evaluation else 0.0
    )
    roster = io.StringIO()
    writer = csv.writer(roster, lineterminator="\n")
    writer.writerow(["shift_id", "doctor_id"])
    writer.writerows(sorted((a.shift_id, a.doctor_id) for a in outcome.result.roster.assignments))
    changes = io.StringIO()
    fields = ["kind", "shift_id", "doctor_id", "previous_doctor_id"]
    change_writer = csv.DictWriter(changes, fields, lineterminator="\n")
    change_writer.writeheader()
    change_writer.writerows(asdict(c) for c in outcome.changes if c.kind != "kept")
    figures = {
        "status": outcome.result.status.value,
        "gap": round(outcome.result.gap, 4),
        "largest_deviation": round(largest, 2),
        "changed_duties": outcome.num_changed,
    }
    return figures, {
        "roster.csv": roster.getvalue().encode("utf-8"),
        "changes.csv": changes.getvalue().encode("utf-8"),
        "solve.json": (json.dumps(figures, indent=2) + "\n").encode("utf-8"),
    }


def solve_base(document: dict[str, Any], params: dict[str, Any]) -> list[tuple[str, str]]:
    """Solve the unvaried scenario once: the roster every run re-plans from."""
    result = solve(Scenario.model_validate(document), SolverParams(**params))
    return sorted((a.shift_id, a.doctor_id) for a in result.roster.assignments)
