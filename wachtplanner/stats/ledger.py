"""Next year's carry-over: each doctor's balance per tag and the holidays they did this year."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from wachtplanner.calendar import holiday_key
from wachtplanner.domain.roster import Roster
from wachtplanner.evaluation.objective import Evaluation
from wachtplanner.expand import ShiftInstance


def next_carry_over(
    instances: Sequence[ShiftInstance], roster: Roster, evaluation: Evaluation
) -> dict[str, dict[str, Any]]:
    """Return per doctor the ``carry_over`` mapping of next year's scenario.

    ``tags``: points done minus target per tag (+ = did more than their share; the target
    already nets last year's carry-over, so the balance runs on). ``holidays``: the holidays
    the doctor's duties of this roster touched, by name, which next year's holiday rotation
    avoids giving them again.
    """
    by_id = {i.shift_id: i for i in instances}
    holidays: dict[str, set[str]] = defaultdict(set)
    for assignment in roster.assignments:
        for day in by_id[assignment.shift_id].holidays:
            key = holiday_key(day)
            if key is not None:
                holidays[assignment.doctor_id].add(key)
    ledger: dict[str, dict[str, Any]] = {}
    for row in evaluation.fairness:
        entry = ledger.setdefault(row.doctor_id, {"tags": {}})
        entry["tags"][row.tag] = round(row.points - row.target, 2)
    for doctor_id, keys in holidays.items():
        ledger.setdefault(doctor_id, {"tags": {}})["holidays"] = sorted(keys)
    return ledger
