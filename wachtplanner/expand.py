"""Turn shift types into concrete, time-zone-aware shift instances over the horizon.

This is the one place where wall-clock templates become instants. Rules, in order:

1. A shift type runs on a date when the date's weekday is in ``days``, or the date is a holiday
   (``holiday``) or the day before one (``holiday_eve``). ``skip_holidays`` drops weekday matches
   on holidays, and for overnight types also on holiday eves, whose night runs into the holiday.
2. An instance starts on its date at ``start`` and ends at ``end`` on the date ``span_days``
   later (one fewer when ``end`` is after ``start``), local time. Durations are real elapsed
   minutes: a night across the spring DST change is an hour shorter, across the autumn change an
   hour longer.
3. Instances of one type in one unit that overlap (Easter Sunday's and Easter Monday's holiday
   blocks) are chained into one block.
4. A block of a type with ``merge_with_weekend`` that overlaps or touches a weekend block (a type
   tagged ``weekend``) of the same unit extends that weekend instead: the weekend instance keeps
   its id, need and roles and now runs from the earlier start to the later end. Its hours inside
   the holiday window earn the holiday type's points and tags, the rest the weekend's.
5. An instance belongs to the horizon when its local start date is inside it; a night that
   starts on the last day ends after it.
6. A type with ``periods`` runs only on dates inside one of them; ``need_on`` sets another
   ``need`` for instances starting on the given dates (the last matching entry wins).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wachtplanner.calendar import holiday_dates
from wachtplanner.constants import POINTS_SCALE
from wachtplanner.domain.people import Role
from wachtplanner.domain.scenario import Scenario
from wachtplanner.domain.shifts import WEEKDAY_TOKENS, Scope, ShiftType
from wachtplanner.exceptions import Issue, ScenarioError

WEEKEND_TAG = "weekend"
_EDGE = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class ShiftInstance:
    """One concrete duty slot.

    ``points_by_tag`` holds integer centi-points (points x 100) per fairness tag; both the solver
    and the checker use exactly these numbers.
    """

    shift_id: str
    shift_type: str
    label: str
    scope: Scope
    scope_id: str
    start: datetime
    end: datetime
    need: int
    roles: tuple[Role, ...]
    points_by_tag: dict[str, int] = field(hash=False)
    points_centi: int
    weekend: bool
    holidays: tuple[date, ...] = ()

    @property
    def duration_min(self) -> int:
        """Return the real elapsed minutes (in UTC: same-zone subtraction would give wall time)."""
        return _minutes(self.start, self.end)

    @property
    def hours(self) -> float:
        """Return the real elapsed hours."""
        return self.duration_min / 60

    @property
    def points(self) -> float:
        """Return the duty's points (each hour counted once, whatever its tags)."""
        return self.points_centi / POINTS_SCALE

    @property
    def start_date(self) -> date:
        """Return the local start date."""
        return self.start.date()


@dataclass
class _Block:
    shift_type: ShiftType
    scope_id: str
    start: datetime
    end: datetime
    segments: list[tuple[ShiftType, int]]
    holidays: list[date]

    @property
    def minutes(self) -> int:
        return _minutes(self.start, self.end)


def _minutes(start: datetime, end: datetime) -> int:
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()) // 60


def local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """Return the aware instant of a wall-clock time; a time in the spring gap moves forward."""
    naive = datetime.combine(day, clock, tzinfo=tz)
    return naive.astimezone(UTC).astimezone(tz)


def _runs_on(shift_type: ShiftType, day: date, holidays: dict[date, str]) -> bool:
    tokens = shift_type.days
    tomorrow = day + timedelta(days=1)
    if "holiday" in tokens and day in holidays:
        return True
    if "holiday_eve" in tokens and tomorrow in holidays:
        return True
    if WEEKDAY_TOKENS[day.weekday()] not in tokens:
        return False
    if shift_type.skip_holidays:
        return not (day in holidays or (shift_type.overnight and tomorrow in holidays))
    return True


def _units(scenario: Scenario, shift_type: ShiftType, day: date) -> Iterable[str]:
    units = shift_type.scope_ids or scenario.unit_ids(shift_type.scope)
    if shift_type.scope != "emergency_point":
        return units
    open_points = {
        p.id
        for p in scenario.emergency_points
        if (p.start is None or p.start <= day) and (p.until is None or day <= p.until)
    }
    return [u for u in units if u in open_points]


def _raw_blocks(scenario: Scenario, holidays: dict[date, str]) -> list[_Block]:
    tz = scenario.tz
    blocks: list[_Block] = []
    first, last = scenario.horizon.start - _EDGE, scenario.horizon.end + _EDGE
    for shift_type in scenario.shift_types:
        later = shift_type.span_days - (0 if shift_type.end <= shift_type.start else 1)
        day = first
        while day <= last:
            if shift_type.runs_on(day) and _runs_on(shift_type, day, holidays):
                start = local_instant(day, shift_type.start, tz)
                end = local_instant(day + timedelta(days=later), shift_type.end, tz)
                window = [d for d in (day, day + timedelta(days=1)) if d in holidays]
                for unit in _units(scenario, shift_type, day):
                    minutes = _minutes(start, end)
                    blocks.append(
                        _Block(shift_type, unit, start, end, [(shift_type, minutes)], list(window))
                    )
            day += timedelta(days=1)
    return blocks


def _chain_same_type(blocks: list[_Block]) -> list[_Block]:
    """Merge overlapping blocks of one type in one unit (consecutive holidays)."""
    groups: dict[tuple[str, str], list[_Block]] = defaultdict(list)
    for block in blocks:
        groups[block.shift_type.id, block.scope_id].append(block)
    chained: list[_Block] = []
    for group in groups.values():
        group.sort(key=lambda b: b.start)
        current = group[0]
        for block in group[1:]:
            if block.start < current.end:
                end = max(current.end, block.end)
                current = _Block(
                    current.shift_type,
                    current.scope_id,
                    current.start,
                    end,
                    [(current.shift_type, _minutes(current.start, end))],
                    sorted(set(current.holidays) | set(block.holidays)),
                )
            else:
                chained.append(current)
                current = block
        chained.append(current)
    return chained


def _merge_into_weekends(blocks: list[_Block]) -> list[_Block]:
    weekends: dict[tuple[Scope, str], list[_Block]] = defaultdict(list)
    for block in blocks:
        if (
            WEEKEND_TAG in block.shift_type.fairness_tags
            and not block.shift_type.merge_with_weekend
        ):
            weekends[block.shift_type.scope, block.scope_id].append(block)
    result: list[_Block] = []
    merged_into: dict[int, list[_Block]] = defaultdict(list)
    for block in blocks:
        if not block.shift_type.merge_with_weekend:
            result.append(block)
            continue
        target = next(
            (
                w
                for w in weekends[block.shift_type.scope, block.scope_id]
                if block.start <= w.end and w.start <= block.end
            ),
            None,
        )
        if target is None:
            result.append(block)
        else:
            merged_into[id(target)].append(block)
    return [_absorb(block, merged_into.get(id(block), [])) for block in result]


def _absorb(weekend: _Block, holidays: Sequence[_Block]) -> _Block:
    if not holidays:
        return weekend
    covered: list[tuple[datetime, datetime]] = []
    segments: list[tuple[ShiftType, int]] = []
    for block in sorted(holidays, key=lambda b: b.start):
        added = _minutes(block.start, block.end) - sum(
            _minutes(max(s, block.start), min(e, block.end))
            for s, e in covered
            if s < block.end and block.start < e
        )
        covered.append((block.start, block.end))
        segments.append((block.shift_type, added))
    start = min(weekend.start, *(b.start for b in holidays))
    end = max(weekend.end, *(b.end for b in holidays))
    weekend_minutes = _minutes(start, end) - sum(m for _, m in segments)
    days = sorted(set(weekend.holidays).union(*(b.holidays for b in holidays)))
    return _Block(
        weekend.shift_type,
        weekend.scope_id,
        start,
        end,
        [(weekend.shift_type, weekend_minutes), *segments],
        days,
    )


def _points(segments: Sequence[tuple[ShiftType, int]]) -> tuple[dict[str, int], int]:
    by_tag: dict[str, int] = defaultdict(int)
    total = 0
    for shift_type, minutes in segments:
        centi = round(minutes * shift_type.points_per_hour * POINTS_SCALE / 60)
        total += centi
        for tag in shift_type.fairness_tags:
            by_tag[tag] += centi
    return dict(by_tag), total


def expand_shifts(scenario: Scenario) -> tuple[ShiftInstance, ...]:
    """Return every shift instance of the horizon, sorted by start, then by shift id.

    Raises
    ------
    ScenarioError
        If the holiday calendar is unknown, or two instances would get the same shift id.
    """
    horizon = scenario.horizon
    holidays = holiday_dates(scenario.holidays, horizon.start.year - 1, horizon.end.year + 1)
    blocks = _merge_into_weekends(_chain_same_type(_raw_blocks(scenario, holidays)))
    instances: list[ShiftInstance] = []
    seen: set[str] = set()
    for block in blocks:
        if not horizon.start <= block.start.date() <= horizon.end:
            continue
        shift_type = block.shift_type
        shift_id = f"{shift_type.id}/{block.scope_id}/{block.start.date().isoformat()}"
        if shift_id in seen:
            raise ScenarioError(
                [Issue(f"shift_types[{shift_type.id}]", f"two instances would be {shift_id}.")]
            )
        seen.add(shift_id)
        by_tag, total = _points(block.segments)
        instances.append(
            ShiftInstance(
                shift_id=shift_id,
                shift_type=shift_type.id,
                label=shift_type.display_label,
                scope=shift_type.scope,
                scope_id=block.scope_id,
                start=block.start,
                end=block.end,
                need=shift_type.need_for(block.start.date()),
                roles=shift_type.roles,
                points_by_tag=by_tag,
                points_centi=total,
                weekend=WEEKEND_TAG in shift_type.fairness_tags,
                holidays=tuple(block.holidays),
            )
        )
    instances.sort(key=lambda i: (i.start, i.shift_id))
    return tuple(instances)


__all__ = ["ShiftInstance", "expand_shifts", "local_instant"]
