"""Trainees (HAIO) and the 120 on-call hours their training asks (domain.md §2.3, §7.3).

A trainee must reach 120 hours of on-call duty over the training. Over a horizon, the pro-rata
share is 120 h x horizon days / 365 (a training year). ``validate`` warns when a trainee's
expected hours (their share of the pools they are in) cannot reach it; ``stats`` reports the
hours each trainee has in the roster against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.fairness import duty_weight, in_pool
from wachtplanner.expand import ShiftInstance

TRAINING_HOURS = 120.0
TRAINING_DAYS = 365


@dataclass(frozen=True)
class TraineeHours:
    """One trainee's on-call hours: expected from their share, in the roster, needed pro rata."""

    doctor_id: str
    expected_hours: float
    roster_hours: float | None
    needed_hours: float


def trainee_hours(
    scenario: Scenario, shifts: Sequence[ShiftInstance], roster: Roster | None = None
) -> list[TraineeHours]:
    """Return every trainee's expected, rostered and needed on-call hours."""
    horizon_days = (scenario.horizon.end - scenario.horizon.start).days + 1
    needed = round(TRAINING_HOURS * horizon_days / TRAINING_DAYS, 1)
    by_id = {s.shift_id: s for s in shifts}
    trainees = [d for d in scenario.doctors if d.role == "trainee"]
    out = []
    for trainee in trainees:
        expected = 0.0
        for shift in shifts:
            if not in_pool(scenario, trainee, shift):
                continue
            pool = [d for d in scenario.doctors if in_pool(scenario, d, shift)]
            weights = [duty_weight(scenario, d, shift) for d in pool]
            mine = duty_weight(scenario, trainee, shift)
            if mine > 0 and sum(weights) > 0:
                expected += shift.hours * shift.need * mine / sum(weights)
        rostered = None
        if roster is not None:
            rostered = round(
                sum(
                    by_id[a.shift_id].hours for a in roster.assignments if a.doctor_id == trainee.id
                ),
                1,
            )
        out.append(TraineeHours(trainee.id, round(expected, 1), rostered, needed))
    return out


def trainee_warnings(scenario: Scenario, shifts: Sequence[ShiftInstance]) -> list[str]:
    """Return a warning per trainee whose share cannot reach the pro-rata 120 hours."""
    return [
        f"trainee {t.doctor_id} is expected to do {t.expected_hours:g} h on call in this "
        f"horizon; the 120 h of the training need {t.needed_hours:g} h pro rata."
        for t in trainee_hours(scenario, shifts)
        if t.expected_hours < t.needed_hours
    ]
