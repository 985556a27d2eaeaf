"""Compile a scenario into the solver's language: indices, integer minutes, eligible pairs.

Eligibility is where four hard rules live on the solver side (``PAIR_FILTERS``): a variable is
created only for a (doctor, shift) pair that passes scope, role, unavailability, exemption and
the supervisor-reachability part of supervision. No OR-Tools here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from wachtplanner.calendar import holiday_key
from wachtplanner.domain.people import Doctor
from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.domain.rules import age_factor
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.fairness import (
    ExpectedLoad,
    FairnessTarget,
    compute_targets,
    exempt_from,
    expected_load,
    instance_tags,
)
from wachtplanner.expand import ShiftInstance


def touched_dates(shift: ShiftInstance) -> frozenset[date]:
    """Return the local dates an instance has at least one minute on."""
    first, last = shift.start.date(), (shift.end - timedelta(minutes=1)).date()
    return frozenset(first + timedelta(days=n) for n in range((last - first).days + 1))


@dataclass(frozen=True)
class PairContext:
    """Per-doctor lookups the pair filters use."""

    scenario: Scenario
    unavailable_dates: dict[str, frozenset[date]]


def _in_scope(ctx: PairContext, doctor: Doctor, shift: ShiftInstance) -> bool:
    return ctx.scenario.doctor_in_unit(doctor, shift.scope, shift.scope_id)


def _role_allowed(ctx: PairContext, doctor: Doctor, shift: ShiftInstance) -> bool:
    del ctx
    return doctor.role in shift.roles


def _available(ctx: PairContext, doctor: Doctor, shift: ShiftInstance) -> bool:
    if doctor.stops_on is not None and shift.start_date >= doctor.stops_on:
        return False
    if doctor.starts_on is not None and shift.start_date < doctor.starts_on:
        return False
    away = ctx.unavailable_dates.get(doctor.id)
    return not away or away.isdisjoint(touched_dates(shift))


def _not_exempt(ctx: PairContext, doctor: Doctor, shift: ShiftInstance) -> bool:
    if age_factor(ctx.scenario.rules, doctor.age_on(shift.start_date), shift.shift_type) == 0:
        return False
    return not exempt_from(doctor, shift)


def _supervisor_reachable(ctx: PairContext, doctor: Doctor, shift: ShiftInstance) -> bool:
    if doctor.role != "trainee" or doctor.supervisor is None:
        return True
    supervisor = ctx.scenario.doctors_by_id[doctor.supervisor]
    if supervisor.stops_on is not None and shift.start_date >= supervisor.stops_on:
        return False  # a lost supervisor supervises nobody
    if supervisor.starts_on is not None and shift.start_date < supervisor.starts_on:
        return False
    away = ctx.unavailable_dates.get(doctor.supervisor)
    return not away or away.isdisjoint(touched_dates(shift))


PairFilter = Callable[[PairContext, Doctor, ShiftInstance], bool]

PAIR_FILTERS: dict[str, PairFilter] = {
    "scope": _in_scope,
    "role": _role_allowed,
    "unavailable": _available,
    "exemption": _not_exempt,
    "supervision": _supervisor_reachable,
}
"""Hard rules enforced by not creating a variable; the order is the order reasons are given."""

EXCLUSION_REASONS: dict[str, str] = {
    "scope": "outside the scope",
    "role": "wrong role",
    "unavailable": "unavailable",
    "exemption": "exempt",
    "supervision": "supervisor unavailable",
}


def exclusion_reason(ctx: PairContext, doctor: Doctor, shift: ShiftInstance) -> str | None:
    """Return the first rule that keeps a doctor off a shift, or None if eligible."""
    for rule, allowed in PAIR_FILTERS.items():
        if not allowed(ctx, doctor, shift):
            return rule
    return None


def pair_context(scenario: Scenario) -> PairContext:
    """Return the lookups for the pair filters."""
    away: dict[str, frozenset[date]] = {}
    for doctor in scenario.doctors:
        days: set[date] = set()
        for period in doctor.unavailable:
            days.update(
                period.start + timedelta(days=n)
                for n in range((period.end - period.start).days + 1)
            )
        if days:
            away[doctor.id] = frozenset(days)
    return PairContext(scenario, away)


@dataclass(frozen=True)
class TargetRow:
    """A fairness row in solver terms."""

    doctor_idx: int
    tag: str
    target_centi: int
    band_centi: int


@dataclass(frozen=True)
class Instance:
    """The compiled problem.

    ``start_min``/``end_min`` are real minutes since the horizon's first local midnight, so
    differences are true elapsed time across DST changes.
    """

    scenario: Scenario
    shifts: tuple[ShiftInstance, ...]
    doctors: tuple[Doctor, ...]
    start_min: tuple[int, ...]
    end_min: tuple[int, ...]
    shifts_of_doctor: tuple[tuple[int, ...], ...]
    doctors_of_shift: tuple[tuple[int, ...], ...]
    tag_points: tuple[dict[str, int], ...]
    targets: tuple[TargetRow, ...]
    fixed: tuple[tuple[int, int], ...]
    excluded: dict[tuple[int, int], str]
    num_days: int
    start_day: tuple[int, ...]
    """Each shift's local start date, as days since the horizon's first."""
    night_days: tuple[tuple[int, ...], ...]
    """Each shift's nights (23:00-05:00 local), as days since the horizon's first."""
    holiday_keys: tuple[frozenset[str], ...]
    load: ExpectedLoad
    fairness_targets: dict[tuple[str, str], FairnessTarget]
    """The checker's targets by (doctor id, tag), as ``targets`` holds them in solver terms (in
    a neighbourhood's instance the whole one's, as ``load``)."""
    whole_eligible: tuple[int, ...] = ()
    """In a neighbourhood's instance (:func:`neighbourhood_instance`), each doctor's number of
    eligible shifts in the whole problem, which the minimum-duties rule asks against."""

    def num_eligible(self, d_idx: int) -> int:
        """Return how many shifts of the whole problem a doctor is eligible for."""
        if self.whole_eligible:
            return self.whole_eligible[d_idx]
        return len(self.shifts_of_doctor[d_idx])

    def last_day(self, s_idx: int) -> int:
        """Return the last day a shift holds its doctor: its last night's, else its start day.

        A weekend block Fri 19:00 - Mon 08:00 holds Friday to Sunday (its nights), a weeknight
        or a day duty its start day only: the close-duties rule counts the days between the end
        of one duty's nights and the start of the next.
        """
        nights = self.night_days[s_idx]
        return max(self.start_day[s_idx], nights[-1]) if nights else self.start_day[s_idx]

    def month_of(self, s_idx: int) -> tuple[int, int]:
        """Return the (year, month) of a shift's local start (the monthly cap's month)."""
        start = self.shifts[s_idx].start
        return start.year, start.month

    def minutes_of(self, s_idx: int) -> int:
        """Return a shift's real duration in minutes."""
        return self.end_min[s_idx] - self.start_min[s_idx]

    def by_month(self, shifts: Iterable[int]) -> dict[tuple[int, int], list[int]]:
        """Return ``shifts`` by the calendar month of their local start."""
        months: dict[tuple[int, int], list[int]] = {}
        for s_idx in shifts:
            months.setdefault(self.month_of(s_idx), []).append(s_idx)
        return months

    @property
    def num_pairs(self) -> int:
        """Return the number of eligible (doctor, shift) pairs."""
        return sum(len(s) for s in self.shifts_of_doctor)

    def target_by_row(self) -> dict[tuple[int, str], int]:
        """Return each fairness row's target (centi-points) by (doctor index, tag)."""
        return {(row.doctor_idx, row.tag): row.target_centi for row in self.targets}

    def doctor_index(self) -> dict[str, int]:
        """Return doctor ids to indices."""
        return {d.id: i for i, d in enumerate(self.doctors)}

    def pairs_of(self, assignments: Iterable[tuple[str, str]]) -> list[tuple[int, int]]:
        """Return (shift_id, doctor_id) assignments as (doctor_idx, shift_idx) pairs."""
        index = self.doctor_index()
        shift_index = {sh.shift_id: n for n, sh in enumerate(self.shifts)}
        return [(index[d], shift_index[sh]) for sh, d in assignments]

    def tag_groups(self, tag: str) -> list[TagGroup]:
        """Return the tag's rows by group of doctors who share its shifts, with those shifts.

        Doctors are in one group when a chain of the tag's shifts links them (an area's
        weeknights, the post's weekends); no shift of a group can go to a doctor of another.
        A row of a doctor with none of the tag's shifts is a group of its own, without shifts.
        """
        parent: dict[int, int] = {}

        def find(item: int) -> int:
            while parent.setdefault(item, item) != item:
                parent[item] = parent[parent[item]]
                item = parent[item]
            return item

        tagged = [s for s, tags in enumerate(self.tag_points) if tag in tags]
        for s in tagged:
            doctors = self.doctors_of_shift[s]
            for d in doctors:
                parent.setdefault(d, d)
                parent[find(d)] = find(doctors[0])
        rows: dict[int, list[int]] = defaultdict(list)
        loose: list[TagGroup] = []
        for r, row in enumerate(self.targets):
            if row.tag != tag:
                continue
            if row.doctor_idx in parent:
                rows[find(row.doctor_idx)].append(r)
            else:
                loose.append(TagGroup((r,), ()))
        shifts: dict[int, list[int]] = defaultdict(list)
        for s in tagged:
            if self.doctors_of_shift[s]:
                shifts[find(self.doctors_of_shift[s][0])].append(s)
        return [TagGroup(tuple(rows[root]), tuple(shifts[root])) for root in rows] + loose

    def roster_of(self, chosen: Iterable[tuple[int, int]]) -> Roster:
        """Return (doctor_idx, shift_idx) pairs as a roster, in time order."""
        ordered = sorted(
            chosen,
            key=lambda k: (self.start_min[k[1]], self.shifts[k[1]].shift_id, self.doctors[k[0]].id),
        )
        return Roster(
            assignments=tuple(
                Assignment(shift_id=self.shifts[s].shift_id, doctor_id=self.doctors[d].id)
                for d, s in ordered
            )
        )


@dataclass(frozen=True)
class TagGroup:
    """Rows of a tag (indices into ``Instance.targets``) and the tag's shifts they share."""

    rows: tuple[int, ...]
    shifts: tuple[int, ...]


@dataclass(frozen=True)
class Neighbourhood:
    """A few doctors' part of a problem, with everyone else's assignments fixed.

    ``instance`` holds only ``doctors`` and the shifts they hold in the roster it was cut from,
    each needing as many of them as hold it now: with every other doctor's assignments fixed,
    those are exactly the seats they can trade among themselves. Its index ``i`` is doctor
    ``doctors[i]`` and shift ``shifts[i]`` of the whole problem.
    """

    instance: Instance
    doctors: tuple[int, ...]
    shifts: tuple[int, ...]
    doctor_index: dict[int, int]
    """Doctor index of the whole problem to index of the part."""
    shift_index: dict[int, int]
    """Shift index of the whole problem to index of the part."""

    def whole_pair(self, pair: tuple[int, int]) -> tuple[int, int]:
        """Return a pair of the neighbourhood as a pair of the whole problem."""
        return self.doctors[pair[0]], self.shifts[pair[1]]

    def own_pairs(self, pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """Return the pairs of the whole problem that lie in the part, as pairs of the part."""
        doctors, shifts = self.doctor_index, self.shift_index
        return [(doctors[d], shifts[s]) for d, s in pairs if d in doctors and s in shifts]


def neighbourhood_instance(
    instance: Instance, doctors: Iterable[int], chosen: Iterable[tuple[int, int]]
) -> Neighbourhood:
    """Return the part of ``instance`` that ``doctors`` can re-plan among themselves.

    Every rule but coverage is a doctor's own, so within that part each doctor's rules see
    the same duties as in the whole (a trainee's supervisor must be among ``doctors``).
    """
    members = sorted(set(doctors))
    member_set = set(members)
    held = Counter(s for d, s in chosen if d in member_set)
    shifts = sorted(held)
    new_doctor = {d: i for i, d in enumerate(members)}
    new_shift = {s: i for i, s in enumerate(shifts)}
    shifts_of_doctor = tuple(
        tuple(new_shift[s] for s in instance.shifts_of_doctor[d] if s in new_shift) for d in members
    )
    doctors_of_shift: list[list[int]] = [[] for _ in shifts]
    for d_new, own in enumerate(shifts_of_doctor):
        for s_new in own:
            doctors_of_shift[s_new].append(d_new)
    part = Instance(
        scenario=instance.scenario,
        shifts=tuple(replace(instance.shifts[s], need=held[s]) for s in shifts),
        doctors=tuple(instance.doctors[d] for d in members),
        start_min=tuple(instance.start_min[s] for s in shifts),
        end_min=tuple(instance.end_min[s] for s in shifts),
        shifts_of_doctor=shifts_of_doctor,
        doctors_of_shift=tuple(tuple(d) for d in doctors_of_shift),
        tag_points=tuple(instance.tag_points[s] for s in shifts),
        targets=tuple(
            replace(row, doctor_idx=new_doctor[row.doctor_idx])
            for row in instance.targets
            if row.doctor_idx in new_doctor
        ),
        fixed=tuple(
            (new_doctor[d], new_shift[s])
            for d, s in instance.fixed
            if d in new_doctor and s in new_shift
        ),
        excluded={},
        num_days=instance.num_days,
        start_day=tuple(instance.start_day[s] for s in shifts),
        night_days=tuple(instance.night_days[s] for s in shifts),
        holiday_keys=tuple(instance.holiday_keys[s] for s in shifts),
        load=instance.load,
        fairness_targets=instance.fairness_targets,
        whole_eligible=tuple(instance.num_eligible(d) for d in members),
    )
    return Neighbourhood(part, tuple(members), tuple(shifts), new_doctor, new_shift)


def interval_cliques(
    items: Sequence[int], start: Sequence[int], end: Sequence[int], *, slack: int = 0
) -> list[list[int]]:
    """Return the maximal groups of items whose intervals ``[start, end + slack)`` share a moment.

    Any two items that conflict appear together in at least one group, so one at-most-one
    constraint per group covers every conflicting pair.
    """
    order = sorted(items, key=lambda i: start[i])
    groups: list[list[int]] = []
    active: list[int] = []
    for position, item in enumerate(order):
        active = [a for a in active if end[a] + slack > start[item]]
        active.append(item)
        following = order[position + 1] if position + 1 < len(order) else None
        closes = following is None or any(end[a] + slack <= start[following] for a in active)
        if closes and len(active) > 1:
            groups.append(list(active))
    return groups


def _minutes_since(origin: datetime, instant: datetime) -> int:
    return int((instant.astimezone(UTC) - origin).total_seconds()) // 60


_DUSK_MIN, _DAWN_MIN = 23 * 60, (24 + 5) * 60


def night_days(scenario: Scenario, shift: ShiftInstance) -> tuple[int, ...]:
    """Return the nights (days since the horizon's start) whose 23:00-05:00 a shift overlaps.

    Computed on local wall-clock minutes of the shift's own days, which is exact for a window
    that never touches the DST switch hour (02:00-03:00) at its ends.
    """
    first = scenario.horizon.start
    start_day = (shift.start_date - first).days
    local_end = shift.end.astimezone(scenario.tz)
    start_min = shift.start.hour * 60 + shift.start.minute
    end_min = ((local_end.date() - shift.start_date).days * 24 * 60) + local_end.hour * 60
    end_min += local_end.minute
    nights = []
    for offset in range(-1, (local_end.date() - shift.start_date).days + 1):
        dusk, dawn = offset * 1440 + _DUSK_MIN, offset * 1440 + _DAWN_MIN
        if start_min < dawn and dusk < end_min:
            nights.append(start_day + offset)
    return tuple(nights)


def compile_instance(
    scenario: Scenario,
    shifts: Sequence[ShiftInstance],
    *,
    fixed: Sequence[tuple[str, str]] = (),
) -> Instance:
    """Return the index-based problem; ``fixed`` holds (shift_id, doctor_id) pairs to keep."""
    ctx = pair_context(scenario)
    doctors = scenario.doctors
    origin = datetime.combine(scenario.horizon.start, time(0), tzinfo=scenario.tz).astimezone(UTC)
    shifts_of_doctor: list[list[int]] = [[] for _ in doctors]
    doctors_of_shift: list[list[int]] = [[] for _ in shifts]
    excluded: dict[tuple[int, int], str] = {}
    pools: dict[tuple[str, str, tuple[str, ...]], list[int]] = {}
    for s_idx, shift in enumerate(shifts):
        key = (shift.scope, shift.scope_id, shift.roles)
        if key not in pools:
            pools[key] = [
                d_idx
                for d_idx, doctor in enumerate(doctors)
                if _in_scope(ctx, doctor, shift) and _role_allowed(ctx, doctor, shift)
            ]
        for d_idx in pools[key]:
            reason = exclusion_reason(ctx, doctors[d_idx], shift)
            if reason is None:
                shifts_of_doctor[d_idx].append(s_idx)
                doctors_of_shift[s_idx].append(d_idx)
            else:
                excluded[d_idx, s_idx] = reason
    doctor_idx = {d.id: i for i, d in enumerate(doctors)}
    shift_idx = {s.shift_id: i for i, s in enumerate(shifts)}
    targets = compute_targets(scenario, shifts)
    first_day = scenario.horizon.start
    return Instance(
        scenario=scenario,
        shifts=tuple(shifts),
        doctors=doctors,
        start_min=tuple(_minutes_since(origin, s.start) for s in shifts),
        end_min=tuple(_minutes_since(origin, s.end) for s in shifts),
        shifts_of_doctor=tuple(tuple(s) for s in shifts_of_doctor),
        doctors_of_shift=tuple(tuple(d) for d in doctors_of_shift),
        tag_points=tuple(instance_tags(scenario, s) for s in shifts),
        targets=tuple(
            TargetRow(doctor_idx[t.doctor_id], t.tag, t.target_centi, t.band_centi)
            for _, t in sorted(targets.items())
        ),
        fixed=tuple(
            (doctor_idx[d], shift_idx[s]) for s, d in fixed if d in doctor_idx and s in shift_idx
        ),
        excluded=excluded,
        num_days=(scenario.horizon.end - first_day).days + 1,
        start_day=tuple((s.start_date - first_day).days for s in shifts),
        night_days=tuple(night_days(scenario, s) for s in shifts),
        holiday_keys=tuple(
            frozenset(k for day in s.holidays if (k := holiday_key(day)) is not None)
            for s in shifts
        ),
        load=expected_load(scenario, shifts, targets),
        fairness_targets=targets,
    )
