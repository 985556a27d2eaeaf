"""Minimal-change re-plan after a doctor is lost: keep what can be kept, prove it is the most.

Duties that start before the event date are frozen as published. From the date on, the lost
doctor is unavailable; the solver first minimises the number of published assignments that
change (stage ``changes``, proven minimal when its status is OPTIMAL, with CP-SAT's bound), then
restores fairness among the rest with the usual stages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from wachtplanner.domain.continuity import DoctorLoss
from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.exceptions import SolverError
from wachtplanner.expand import expand_shifts
from wachtplanner.result import Result
from wachtplanner.solver.api import solve
from wachtplanner.solver.params import SolverParams


@dataclass(frozen=True)
class Change:
    """One line of the re-plan's change list."""

    kind: str  # kept | moved | new | removed
    shift_id: str
    doctor_id: str
    previous_doctor_id: str = ""


@dataclass(frozen=True)
class Replan:
    """The re-planned roster, what changed, and the proof of minimality."""

    result: Result
    scenario: Scenario
    changes: tuple[Change, ...]
    num_changed: int
    changed_bound: int
    proven_minimal: bool
    frozen_before: date


def without_doctor_from(scenario: Scenario, losses: list[DoctorLoss]) -> Scenario:
    """Return the scenario where each lost doctor does no duty starting on or after the loss."""
    document: dict[str, Any] = scenario.model_dump(by_alias=True, mode="json")
    for loss in losses:
        for doctor in document["doctors"]:
            if doctor["id"] == loss.doctor:
                doctor["stops_on"] = loss.date.isoformat()
    return Scenario.model_validate(document)


def classify(before: Roster, after: Roster) -> list[Change]:
    """Return kept / moved / new / removed lines between two rosters."""
    old = {(a.shift_id, a.doctor_id) for a in before.assignments}
    new = {(a.shift_id, a.doctor_id) for a in after.assignments}
    lines = [Change("kept", s, d) for s, d in sorted(old & new)]
    gone: dict[str, list[str]] = defaultdict(list)
    for s, d in sorted(old - new):
        gone[s].append(d)
    for s, d in sorted(new - old):
        if gone.get(s):
            lines.append(Change("moved", s, d, gone[s].pop(0)))
        else:
            lines.append(Change("new", s, d))
    lines += [Change("removed", s, d) for s, doctors in sorted(gone.items()) for d in doctors]
    return lines


def replan(scenario: Scenario, published: Roster, params: SolverParams | None = None) -> Replan:
    """Apply the scenario's ``doctor_loss`` events to a published roster with fewest changes."""
    losses = [e for e in scenario.events if isinstance(e, DoctorLoss)]
    cut = min((loss.date for loss in losses), default=scenario.horizon.start)
    changed_scenario = without_doctor_from(scenario, losses)
    shifts = {s.shift_id: s for s in expand_shifts(changed_scenario)}
    pairs = [(a.shift_id, a.doctor_id) for a in published.assignments]
    frozen = [(s, d) for s, d in pairs if s in shifts and shifts[s].start_date < cut]
    later = [(s, d) for s, d in pairs if s in shifts and shifts[s].start_date >= cut]
    result = solve(changed_scenario, params, fixed=frozen, keep=later)
    after = {(a.shift_id, a.doctor_id) for a in result.roster.assignments}
    num_changed = sum(1 for pair in later if pair not in after)
    stage = next((s for s in result.stages if s.name == "changes"), None)
    if stage is not None and stage.objective != num_changed:
        raise SolverError(
            f"the solver counts {stage.objective} changes, the rosters differ in {num_changed}"
        )
    return Replan(
        result=result,
        scenario=changed_scenario,
        changes=tuple(classify(published, result.roster)),
        num_changed=num_changed,
        changed_bound=stage.bound if stage is not None else 0,
        proven_minimal=stage is not None and stage.status.value == "OPTIMAL",
        frozen_before=cut,
    )
