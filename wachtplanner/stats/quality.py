"""The roster as a coordinator judges it: bunching, streaks, monthly load, balance, holidays.

Every figure is computed from the roster alone (and the targets of the checker), so any roster,
ours, a rotation or Timefold's, is measured the same way:

- ``most_duties_in_7_days``: the most duty starts of one doctor in any 7 consecutive days;
- ``longest_streak_days``: the longest run of consecutive local days on which a doctor is on
  duty for at least a minute (a weekend block Fri 19:00 - Mon 08:00 is 4 days);
- ``most_hours_in_a_month``: the most real duty hours of one doctor in a calendar month (by the
  month a duty starts);
- ``share_close_pairs``: of all consecutive duty pairs of a doctor, the share whose starts are
  at most 2 days apart;
- ``largest_total_deviation``: the largest |points - target| of one doctor over all tags
  together; ``summed_total_deviation`` the sum over doctors;
- ``summed_deviation``: the sum over (doctor, tag) of |points - target|;
- ``holiday_blocks_min``/``_max``: the fewest and most duties touching a holiday per doctor, over
  the doctors who share holiday duty (a holiday target above 0).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from itertools import pairwise

from wachtplanner.domain.roster import Roster
from wachtplanner.evaluation.objective import Evaluation
from wachtplanner.expand import ShiftInstance

CLOSE_DAYS = 2


@dataclass(frozen=True)
class RosterQuality:
    """The coordinator's figures of one roster (see the module docstring)."""

    most_duties_in_7_days: int
    longest_streak_days: int
    most_hours_in_a_month: float
    share_close_pairs: float
    largest_total_deviation: float
    summed_total_deviation: float
    summed_deviation: float
    holiday_blocks_min: int
    holiday_blocks_max: int

    def as_dict(self) -> dict[str, float]:
        """Return the figures by name."""
        return asdict(self)


LOWER_IS_BETTER = (
    "most_duties_in_7_days",
    "longest_streak_days",
    "most_hours_in_a_month",
    "share_close_pairs",
    "largest_total_deviation",
    "summed_total_deviation",
    "summed_deviation",
)
"""Figures where less is better; for holiday blocks the spread max - min is what counts."""


def _days_on(shift: ShiftInstance) -> list[date]:
    first, last = shift.start.date(), (shift.end - timedelta(minutes=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def roster_quality(
    instances: Sequence[ShiftInstance], roster: Roster, evaluation: Evaluation
) -> RosterQuality:
    """Return the coordinator's figures of a roster."""
    by_id = {i.shift_id: i for i in instances}
    duties: dict[str, list[ShiftInstance]] = defaultdict(list)
    for assignment in roster.assignments:
        duties[assignment.doctor_id].append(by_id[assignment.shift_id])
    most_in_week = longest = 0
    most_month_min = 0
    close = pairs = 0
    holidays: dict[str, int] = defaultdict(int)
    for doctor_id, shifts in duties.items():
        shifts.sort(key=lambda s: s.start)
        starts = [s.start_date for s in shifts]
        for n, first in enumerate(starts):
            within = sum(1 for other in starts[n:] if (other - first).days < 7)
            most_in_week = max(most_in_week, within)
        for a, b in pairwise(starts):
            pairs += 1
            close += int((b - a).days <= CLOSE_DAYS)
        on_duty = sorted({day for s in shifts for day in _days_on(s)})
        run = 0
        for n, day in enumerate(on_duty):
            run = run + 1 if n and (day - on_duty[n - 1]).days == 1 else 1
            longest = max(longest, run)
        months: dict[tuple[int, int], int] = defaultdict(int)
        for s in shifts:
            months[s.start.year, s.start.month] += s.duration_min
        most_month_min = max([most_month_min, *months.values()])
        holidays[doctor_id] = sum(1 for s in shifts if s.holidays)
    totals: dict[str, float] = defaultdict(float)
    holiday_pool = set()
    summed = 0.0
    for row in evaluation.fairness:
        totals[row.doctor_id] += row.deviation
        summed += abs(row.deviation)
        if row.tag == "holiday" and row.target > 0:
            holiday_pool.add(row.doctor_id)
    blocks = [holidays.get(d, 0) for d in holiday_pool] or [0]
    return RosterQuality(
        most_duties_in_7_days=most_in_week,
        longest_streak_days=longest,
        most_hours_in_a_month=round(most_month_min / 60, 1),
        share_close_pairs=round(close / pairs, 4) if pairs else 0.0,
        largest_total_deviation=round(max((abs(v) for v in totals.values()), default=0.0), 2),
        summed_total_deviation=round(sum(abs(v) for v in totals.values()), 2),
        summed_deviation=round(summed, 2),
        holiday_blocks_min=min(blocks),
        holiday_blocks_max=max(blocks),
    )
