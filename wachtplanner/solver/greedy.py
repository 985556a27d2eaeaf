"""The coordinator's rotation: shifts in time order, each to whoever is furthest below target.

Used twice: as the warm start (complete hint) of the CP-SAT model, and as the ``greedy`` baseline
of the benchmarks. Pure Python on the compiled instance; it honours every hard rule (eligibility
by construction, overlap, rest, supervision, hard caps and spacing), avoids soft penalties where a
choice is left, and may leave a shift short when nobody is free (then the roster is incomplete).

"Furthest below target" is the smallest share already earned of what is due by the shift's day
(the target pro rata the days the doctor is on the roster, so a GP who leaves in March is due
all of theirs by then), ``earned / due``: how a coordinator reads "fewest points so far for
their share".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from wachtplanner.calendar import weekend_of
from wachtplanner.solver.instance import Instance, touched_dates

_CATCH_UP_FROM = 0.9
"""Share of a doctor's days on the roster after which the soft-aware rotation orders them as
the literal one does, by their deficit in points, soft rules aside: spread by the share of
the target early, it then ends close to the literal rotation's largest deviation per tag.
(Rows above the literal's largest deviation of their tag: on the 250-GP year 3, 1.8 points
over in all, against 30 and 22.2 points; on the 500-GP year 4 against 40; with a soft penalty
of 71 231 and 147 140, against the literal's 126 045 and 233 874. From 0.8 on the 250-GP
year: 1 row, soft 74 491; from 0.95: 14 rows, soft 70 127.)"""


@dataclass(frozen=True)
class GreedyRoster:
    """The rotation's assignment as (doctor_idx, shift_idx) pairs, and the shifts left short."""

    chosen: tuple[tuple[int, int], ...]
    num_short: int

    @property
    def complete(self) -> bool:
        """Return whether every shift got its full need."""
        return self.num_short == 0


class _State:
    """What the rotation knows about each doctor so far."""

    def __init__(self, instance: Instance, *, literal: bool, catch_up_from: float) -> None:
        self.instance = instance
        self.literal = literal
        self.catch_up_from = catch_up_from
        rules = instance.scenario.rules
        self.rest_min = round(rules.min_rest_hours * 60)
        self.cap = rules.max_hours_per_month
        self.spacing = rules.min_days_between_weekends
        self.target = instance.target_by_row()
        self.earned: dict[tuple[int, str], int] = defaultdict(int)
        self.duties: list[list[int]] = [[] for _ in instance.doctors]
        self.month_min: dict[tuple[int, int, int], int] = defaultdict(int)
        self.last_weekend: dict[int, int] = {}
        index = instance.doctor_index()
        self.supervisor: dict[int, int] = {}
        self.trainees: dict[int, list[int]] = defaultdict(list)
        for d_idx, doctor in enumerate(instance.doctors):
            if doctor.role == "trainee" and doctor.supervisor is not None:
                sup = index[doctor.supervisor]
                self.supervisor[d_idx] = sup
                self.trainees[sup].append(d_idx)
        self.avoid = [
            frozenset(doctor.avoid) if rules.avoid_weight else frozenset()
            for doctor in instance.doctors
        ]
        self.nights_rule = rules.max_consecutive_nights
        self.week_rule = rules.max_duties_per_7_days
        self.row_ending: list[dict[int, int]] = [{} for _ in instance.doctors]
        """Per doctor: last night of a duty -> duties in the row of consecutive nights it ends."""
        self.start_days: list[list[int]] = [[] for _ in instance.doctors]
        self.gap_days = [
            instance.load.min_gap_days.get(doctor.id) if rules.min_days_between_duties else None
            for doctor in instance.doctors
        ]
        self.last_year = [frozenset(doctor.carry_over.holidays) for doctor in instance.doctors]
        share_on = rules.holiday_share is not None and rules.holiday_share.weight > 0
        self.fair_holidays = [
            instance.load.fair_holiday_duties(doctor.id) if share_on else None
            for doctor in instance.doctors
        ]
        """Per doctor: duties touching a holiday before holiday_share costs (None: rule off)."""
        self.holidays_taken = [0] * len(instance.doctors)
        horizon = instance.scenario.horizon
        self.window: list[tuple[date, int]] = []
        """Per doctor: the first day on the roster and how many days they are on it."""
        for doctor in instance.doctors:
            first = max(horizon.start, doctor.starts_on or horizon.start)
            last = min(horizon.end, (doctor.stops_on or date.max) - timedelta(days=1))
            self.window.append((first, max(1, (last - first).days + 1)))

    def _clashes(self, d_idx: int, s_idx: int, gap_min: int) -> bool:
        inst = self.instance
        start, end = inst.start_min[s_idx], inst.end_min[s_idx]
        return any(
            inst.start_min[o] < end + gap_min and start < inst.end_min[o] + gap_min
            for o in self.duties[d_idx]
        )

    def _overlaps_other(self, d_idx: int, s_idx: int) -> bool:
        inst = self.instance
        start, end = inst.start_min[s_idx], inst.end_min[s_idx]
        return any(
            o != s_idx and inst.start_min[o] < end and start < inst.end_min[o]
            for o in self.duties[d_idx]
        )

    def _month(self, d_idx: int, s_idx: int) -> tuple[int, int, int]:
        start = self.instance.shifts[s_idx].start
        return (d_idx, start.year, start.month)

    def _over_cap(self, d_idx: int, s_idx: int) -> bool:
        if self.cap is None:
            return False
        minutes = self.instance.end_min[s_idx] - self.instance.start_min[s_idx]
        return self.month_min[self._month(d_idx, s_idx)] + minutes > round(self.cap.hours * 60)

    def _too_close(self, d_idx: int, s_idx: int) -> bool:
        shift = self.instance.shifts[s_idx]
        if self.spacing is None or not shift.weekend or d_idx not in self.last_weekend:
            return False
        previous = self.instance.shifts[self.last_weekend[d_idx]]
        gap = weekend_of(shift.start_date) - weekend_of(previous.start_date)
        return 0 < gap.days < self.spacing.days

    def _row_length(self, d_idx: int, s_idx: int) -> int:
        nights = self.instance.night_days[s_idx]
        if not nights:
            return 0
        return self.row_ending[d_idx].get(nights[0] - 1, 0) + 1

    def _too_many_nights(self, d_idx: int, s_idx: int) -> bool:
        rule = self.nights_rule
        return rule is not None and self._row_length(d_idx, s_idx) > rule.count

    def _too_many_in_week(self, d_idx: int, s_idx: int) -> bool:
        rule = self.week_rule
        if rule is None:
            return False
        day = self.instance.start_day[s_idx]
        close = sorted(d for d in self.start_days[d_idx] if abs(d - day) <= 6)
        return any(
            1 + sum(1 for d in close if first <= d <= first + 6) > rule.count
            for first in range(day - 6, day + 1)
        )

    def _too_soon(self, d_idx: int, s_idx: int) -> bool:
        gap = self.gap_days[d_idx]
        day = self.instance.start_day[s_idx]
        return gap is not None and any(abs(d - day) < gap for d in self.start_days[d_idx])

    def allowed(self, d_idx: int, s_idx: int) -> bool:
        """Return whether giving the shift to the doctor keeps every hard rule."""
        nights_hard = self.nights_rule is not None and self.nights_rule.hard
        if nights_hard and self._too_many_nights(d_idx, s_idx):
            return False
        week_hard = self.week_rule is not None and self.week_rule.hard
        if week_hard and self._too_many_in_week(d_idx, s_idx):
            return False
        if self._clashes(d_idx, s_idx, self.rest_min):
            return False
        if d_idx in self.supervisor and self._overlaps_other(self.supervisor[d_idx], s_idx):
            return False
        if any(self._overlaps_other(t, s_idx) for t in self.trainees.get(d_idx, ())):
            return False
        if self.cap is not None and self.cap.hard and self._over_cap(d_idx, s_idx):
            return False
        spacing_hard = self.spacing is not None and self.spacing.hard
        return not (spacing_hard and self._too_close(d_idx, s_idx))

    def preference(self, d_idx: int, s_idx: int) -> tuple[int, float]:
        """Return the sort key: soft rules broken, then the share of target already earned.

        The literal rotation ignores soft rules and takes the largest open deficit in points,
        as the soft-aware one does in the last stretch of each doctor's time on the roster.
        """
        tags = self.instance.tag_points[s_idx]
        target = sum(self.target.get((d_idx, tag), 0) for tag in tags)
        earned = sum(self.earned[d_idx, tag] for tag in tags)
        if self.literal:
            return 0, float(earned - target)
        # What is due by this shift's day, pro rata the days the doctor is on the roster: the
        # same factor for everyone on it all along (so their order is by share of target), and
        # all of it by March for a GP who stops on 1 March.
        first, days = self.window[d_idx]
        elapsed = (self.instance.shifts[s_idx].start_date - first).days + 1
        if elapsed > self.catch_up_from * days:
            return 0, float(earned - target)
        due_now = target * min(1.0, max(elapsed, 1) / days)
        broken = int(self._over_cap(d_idx, s_idx)) + int(self._too_close(d_idx, s_idx))
        broken += int(self._too_many_nights(d_idx, s_idx))
        broken += int(self._too_many_in_week(d_idx, s_idx))
        if self.avoid[d_idx] and not self.avoid[d_idx].isdisjoint(
            touched_dates(self.instance.shifts[s_idx])
        ):
            broken += 1
        if not self.last_year[d_idx].isdisjoint(self.instance.holiday_keys[s_idx]):
            broken += 1
        fair = self.fair_holidays[d_idx]
        if fair is not None and self.instance.shifts[s_idx].holidays:
            broken += int(self.holidays_taken[d_idx] >= fair)
        # Closeness to the previous duty is weighed after the rules, before the share: among
        # doctors equally behind, the one who worked longest ago. A doctor more than this shift
        # behind what is due goes first whatever the soft rules say: a fair share outranks a wish.
        points = sum(self.instance.tag_points[s_idx].values())
        if earned + points < due_now:
            return -1, (earned + 1) / (due_now + 1)
        return broken * 2 + int(self._too_soon(d_idx, s_idx)), (earned + 1) / (due_now + 1)

    def give(self, d_idx: int, s_idx: int) -> None:
        """Record an assignment."""
        inst = self.instance
        self.duties[d_idx].append(s_idx)
        for tag, points in inst.tag_points[s_idx].items():
            self.earned[d_idx, tag] += points
        self.month_min[self._month(d_idx, s_idx)] += inst.end_min[s_idx] - inst.start_min[s_idx]
        if inst.shifts[s_idx].weekend:
            self.last_weekend[d_idx] = s_idx
        nights = inst.night_days[s_idx]
        if nights:
            self.row_ending[d_idx][nights[-1]] = self._row_length(d_idx, s_idx)
        self.start_days[d_idx].append(inst.start_day[s_idx])
        if inst.shifts[s_idx].holidays:
            self.holidays_taken[d_idx] += 1


def greedy_roster(
    instance: Instance, *, literal: bool = False, catch_up_from: float = _CATCH_UP_FROM
) -> GreedyRoster:
    """Return the rotation's roster; fixed pairs are placed first.

    ``literal`` is the coordinator's plain rotation (the benchmark baseline): largest deficit in
    points, blind to soft rules. The default also steers clear of soft penalties and compares
    deficits as a share of the target, which makes the better warm start, up to
    ``catch_up_from`` of each doctor's time on the roster (then by deficit in points).
    """
    state = _State(instance, literal=literal, catch_up_from=catch_up_from)
    taken: dict[int, int] = defaultdict(int)
    chosen: list[tuple[int, int]] = []
    order = sorted(
        range(len(instance.shifts)),
        key=lambda s: (instance.start_min[s], len(instance.doctors_of_shift[s])),
    )
    fixed_by_shift: dict[int, list[int]] = defaultdict(list)
    for d_idx, s_idx in instance.fixed:
        fixed_by_shift[s_idx].append(d_idx)
    num_short = 0
    for s_idx in order:
        for d_idx in fixed_by_shift.get(s_idx, ()):
            state.give(d_idx, s_idx)
            chosen.append((d_idx, s_idx))
            taken[s_idx] += 1
        need = instance.shifts[s_idx].need - taken[s_idx]
        picked = set(fixed_by_shift.get(s_idx, ()))
        candidates = sorted(
            (d for d in instance.doctors_of_shift[s_idx] if d not in picked),
            key=lambda d: state.preference(d, s_idx),
        )
        for d_idx in candidates:
            if need <= 0:
                break
            if state.allowed(d_idx, s_idx):
                state.give(d_idx, s_idx)
                chosen.append((d_idx, s_idx))
                need -= 1
        num_short += max(0, need)
    return GreedyRoster(tuple(chosen), num_short)
