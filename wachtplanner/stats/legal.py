"""The legal minimum of GPs on call (KB 30 July 2013) against a scenario's shift structure.

At least 1 GP on call per 100 000 inhabitants from 08:00 to 23:00 and 1 per 300 000 from 23:00
to 08:00 (domain.md §1.5, ``rules.legal_minimum``), rounded up. Checked outside weekday practice
hours (Monday to Friday 08:00-18:00, holidays excepted), when the GPs' own practices answer.

Per area (population given): the area's own duties plus those of every post serving it; per
post: its own duties plus those of all its areas, against the sum of their populations. The
result is where and when the structure falls short: the periods, how many are on call and how
many the law asks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from wachtplanner.calendar import holiday_dates
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance


@dataclass(frozen=True)
class Shortfall:
    """A period in which a unit has fewer GPs on call than the law asks."""

    unit_id: str
    start: datetime
    end: datetime
    on_call: int
    required: int

    @property
    def hours(self) -> float:
        """Return the real hours of the period."""
        return (self.end - self.start).total_seconds() / 3600


def _units(scenario: Scenario) -> list[tuple[str, int, set[str]]]:
    """Return (unit, population, scope ids whose duties count for it)."""
    populations = {a.id: a.population for a in scenario.areas}
    units: list[tuple[str, int, set[str]]] = []
    for area in scenario.areas:
        if area.population:
            posts = {p.id for p in scenario.posts if area.id in p.areas}
            units.append((area.id, area.population, {area.id} | posts))
    for post in scenario.posts:
        counts = [populations.get(a) for a in post.areas]
        if counts and all(counts):
            units.append((post.id, sum(c or 0 for c in counts), {post.id, *post.areas}))
    return units


def _required(scenario: Scenario, moment: datetime, population: int, holidays: set[date]) -> int:
    rule = scenario.rules.legal_minimum
    assert rule is not None
    local = moment.astimezone(scenario.tz)
    practice_hours = (
        local.weekday() < 5 and local.date() not in holidays and time(8) <= local.time() < time(18)
    )
    if practice_hours:
        return 0
    day = time(8) <= local.time() < time(23)
    per = rule.day_per_inhabitants if day else rule.night_per_inhabitants
    return math.ceil(population / per)


def legal_shortfalls(scenario: Scenario, shifts: Sequence[ShiftInstance]) -> list[Shortfall]:
    """Return every period in which an area or post has fewer GPs on call than the law asks."""
    if scenario.rules.legal_minimum is None:
        return []
    horizon = scenario.horizon
    holidays = set(holiday_dates(scenario.holidays, horizon.start.year, horizon.end.year))
    tz = scenario.tz
    begin = datetime.combine(horizon.start, time(0), tzinfo=tz)
    finish = datetime.combine(horizon.end + timedelta(days=1), time(0), tzinfo=tz)
    shortfalls: list[Shortfall] = []
    for unit_id, population, scopes in _units(scenario):
        mine = [s for s in shifts if s.scope_id in scopes and s.scope in ("area", "post")]
        cuts = {begin, finish}
        day = horizon.start
        while day <= horizon.end:
            for clock in (time(0), time(8), time(18), time(23)):
                cuts.add(datetime.combine(day, clock, tzinfo=tz))
            day += timedelta(days=1)
        change: dict[float, int] = {}
        for shift in mine:
            cuts.update(moment for moment in (shift.start, shift.end) if begin < moment < finish)
            opens, closes = max(shift.start, begin).timestamp(), shift.end.timestamp()
            change[opens] = change.get(opens, 0) + shift.need
            change[closes] = change.get(closes, 0) - shift.need
        ordered = sorted(cuts, key=lambda moment: moment.timestamp())
        current: Shortfall | None = None
        on_call = 0
        for start, end in pairwise(ordered):
            on_call += change.get(start.timestamp(), 0)
            required = _required(scenario, start, population, holidays)
            if on_call >= required:
                if current is not None:
                    shortfalls.append(current)
                    current = None
                continue
            if current is not None and (current.on_call, current.required) == (on_call, required):
                current = Shortfall(unit_id, current.start, end, on_call, required)
                continue
            if current is not None:
                shortfalls.append(current)
            current = Shortfall(unit_id, start, end, on_call, required)
        if current is not None:
            shortfalls.append(current)
    return shortfalls


def describe_shortfalls(scenario: Scenario, shortfalls: Sequence[Shortfall]) -> list[str]:
    """Return one line per unit: hours short in all, and the first periods."""
    lines = []
    units = {a.id: a.name for a in scenario.areas} | {p.id: p.name for p in scenario.posts}
    for unit_id in dict.fromkeys(s.unit_id for s in shortfalls):
        mine = [s for s in shortfalls if s.unit_id == unit_id]
        hours = sum(s.hours for s in mine)
        first = ", ".join(
            f"{s.start.astimezone(scenario.tz):%a %d/%m %H:%M}-"
            f"{s.end.astimezone(scenario.tz):%H:%M} ({s.on_call} of {s.required})"
            for s in mine[:3]
        )
        lines.append(
            f"{units.get(unit_id, unit_id)}: {hours:g} h in {len(mine)} "
            f"period{'' if len(mine) == 1 else 's'} below the legal minimum (on call of "
            f"needed), e.g. {first}."
        )
    return lines
