"""One plain-Python check per roster rule (``RULE_CHECKS``), recomputed from scenario + roster.

These are written independently of the CP-SAT encoding in ``solver/``; tests assert both agree.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from functools import cached_property

from wachtplanner.domain.people import DateRange, Doctor
from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance


@dataclass(frozen=True)
class Violation:
    """A broken hard rule (``hard``) or a soft rule's penalty."""

    rule: str
    hard: bool
    message: str
    shift_id: str | None = None
    doctor_id: str | None = None
    penalty: int = 0


@dataclass(frozen=True)
class Duty:
    """A roster assignment joined with its instance and doctor."""

    instance: ShiftInstance
    doctor: Doctor


@dataclass(frozen=True)
class CheckContext:
    """What every check needs: the scenario, its instances and the roster's duties."""

    scenario: Scenario
    instances: Sequence[ShiftInstance]
    duties: Sequence[Duty]

    @cached_property
    def by_doctor(self) -> dict[str, list[Duty]]:
        """Return each doctor's duties sorted by start."""
        grouped: dict[str, list[Duty]] = defaultdict(list)
        for duty in self.duties:
            grouped[duty.doctor.id].append(duty)
        for duties in grouped.values():
            duties.sort(key=lambda d: d.instance.start)
        return grouped


def _when(instance: ShiftInstance) -> str:
    return (
        f"{instance.start.strftime('%a %d %b %H:%M')} – {instance.end.strftime('%a %d %b %H:%M')}"
    )


def _dates_touched(instance: ShiftInstance) -> Iterator[date]:
    day = instance.start.date()
    last = (instance.end - timedelta(microseconds=1)).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _touches(instance: ShiftInstance, period: DateRange) -> bool:
    return any(period.covers(day) for day in _dates_touched(instance))


def check_coverage(ctx: CheckContext) -> list[Violation]:
    """Every instance has exactly ``need`` doctors, none twice."""
    counts: dict[str, list[str]] = defaultdict(list)
    for duty in ctx.duties:
        counts[duty.instance.shift_id].append(duty.doctor.id)
    violations = []
    for instance in ctx.instances:
        doctors = counts.get(instance.shift_id, [])
        if len(doctors) != instance.need:
            violations.append(
                Violation(
                    "coverage",
                    True,
                    f"{instance.shift_id} has {len(doctors)} doctor(s); needs {instance.need}.",
                    instance.shift_id,
                )
            )
        for doctor_id in sorted({d for d in doctors if doctors.count(d) > 1}):
            violations.append(
                Violation(
                    "coverage",
                    True,
                    f"{doctor_id} is assigned twice to {instance.shift_id}.",
                    instance.shift_id,
                    doctor_id,
                )
            )
    return violations


def check_scope(ctx: CheckContext) -> list[Violation]:
    """Area duty goes to the area's doctors, post duty to doctors of the post's areas, etc."""
    scenario = ctx.scenario
    posts = {p.id: set(p.areas) for p in scenario.posts}
    points = {e.id: e.area for e in scenario.emergency_points}
    violations = []
    for duty in ctx.duties:
        instance, doctor = duty.instance, duty.doctor
        area = doctor.area or scenario.practices_by_id[str(doctor.practice)].area
        if instance.scope == "area":
            member = area == instance.scope_id
        elif instance.scope == "post":
            member = area in posts[instance.scope_id]
        elif instance.scope == "practice":
            member = doctor.practice == instance.scope_id
        else:
            member = points[instance.scope_id] == area
        if not member:
            violations.append(
                Violation(
                    "scope",
                    True,
                    f"{doctor.id} (area {area}) is not in the pool of {instance.scope} "
                    f"{instance.scope_id} for {instance.shift_id}.",
                    instance.shift_id,
                    doctor.id,
                )
            )
    return violations


def check_role(ctx: CheckContext) -> list[Violation]:
    """Only allowed roles take a shift type."""
    return [
        Violation(
            "role",
            True,
            f"{d.doctor.id} has role {d.doctor.role}; {d.instance.shift_id} allows "
            f"{', '.join(d.instance.roles)}.",
            d.instance.shift_id,
            d.doctor.id,
        )
        for d in ctx.duties
        if d.doctor.role not in d.instance.roles
    ]


def check_unavailable(ctx: CheckContext) -> list[Violation]:
    """Nobody works on a date they are unavailable."""
    violations = []
    for duty in ctx.duties:
        stops_on = duty.doctor.stops_on
        if stops_on is not None and duty.instance.start_date >= stops_on:
            violations.append(
                Violation(
                    "unavailable",
                    True,
                    f"{duty.doctor.id} stops on {stops_on} but has {duty.instance.shift_id}.",
                    duty.instance.shift_id,
                    duty.doctor.id,
                )
            )
        for period in duty.doctor.unavailable:
            if _touches(duty.instance, period):
                violations.append(
                    Violation(
                        "unavailable",
                        True,
                        f"{duty.doctor.id} is unavailable {period.start}–{period.end}"
                        f"{f' ({period.reason})' if period.reason else ''} but has "
                        f"{duty.instance.shift_id}.",
                        duty.instance.shift_id,
                        duty.doctor.id,
                    )
                )
    return violations


def check_exemption(ctx: CheckContext) -> list[Violation]:
    """Nobody works a shift type they are exempt from, within the exemption's dates."""
    violations = []
    for duty in ctx.duties:
        for exemption in duty.doctor.exemptions:
            covers_type = (
                not exemption.shift_types or duty.instance.shift_type in exemption.shift_types
            )
            if covers_type and _touches(duty.instance, exemption):
                violations.append(
                    Violation(
                        "exemption",
                        True,
                        f"{duty.doctor.id} is exempt ({exemption.reason}) but has "
                        f"{duty.instance.shift_id}.",
                        duty.instance.shift_id,
                        duty.doctor.id,
                    )
                )
    return violations


def _pairs_closer_than(duties: list[Duty], gap: timedelta) -> Iterator[tuple[Duty, Duty]]:
    for index, first in enumerate(duties):
        for second in duties[index + 1 :]:
            if second.instance.start >= first.instance.end + gap:
                break
            yield first, second


def check_overlap(ctx: CheckContext) -> list[Violation]:
    """Nobody has two duties at the same time."""
    violations = []
    for doctor_id, duties in ctx.by_doctor.items():
        for first, second in _pairs_closer_than(duties, timedelta(0)):
            if second.instance.start < first.instance.end:
                violations.append(
                    Violation(
                        "overlap",
                        True,
                        f"{doctor_id} has {first.instance.shift_id} and "
                        f"{second.instance.shift_id} at the same time.",
                        second.instance.shift_id,
                        doctor_id,
                    )
                )
    return violations


def check_rest(ctx: CheckContext) -> list[Violation]:
    """At least ``min_rest_hours`` between the end of one duty and the start of the next."""
    rest = timedelta(hours=ctx.scenario.rules.min_rest_hours)
    violations = []
    for doctor_id, duties in ctx.by_doctor.items():
        for first, second in _pairs_closer_than(duties, rest):
            gap = second.instance.start - first.instance.end
            if gap >= timedelta(0):
                violations.append(
                    Violation(
                        "rest",
                        True,
                        f"{doctor_id} rests {gap.total_seconds() / 3600:g} h between "
                        f"{first.instance.shift_id} and {second.instance.shift_id}; needs "
                        f"{ctx.scenario.rules.min_rest_hours:g} h.",
                        second.instance.shift_id,
                        doctor_id,
                    )
                )
    return violations


def check_supervision(ctx: CheckContext) -> list[Violation]:
    """A trainee works only while their supervisor is reachable: not on another duty, not away."""
    duties_of = ctx.by_doctor
    violations = []
    for duty in ctx.duties:
        supervisor_id = duty.doctor.supervisor
        if duty.doctor.role != "trainee" or supervisor_id is None:
            continue
        supervisor = ctx.scenario.doctors_by_id[supervisor_id]
        instance = duty.instance
        for other in duties_of.get(supervisor_id, []):
            if other.instance.shift_id == instance.shift_id:
                continue
            if other.instance.start < instance.end and instance.start < other.instance.end:
                violations.append(
                    Violation(
                        "supervision",
                        True,
                        f"trainee {duty.doctor.id} has {instance.shift_id} while supervisor "
                        f"{supervisor_id} is on {other.instance.shift_id}.",
                        instance.shift_id,
                        duty.doctor.id,
                    )
                )
        if any(_touches(instance, period) for period in supervisor.unavailable):
            violations.append(
                Violation(
                    "supervision",
                    True,
                    f"trainee {duty.doctor.id} has {instance.shift_id} while supervisor "
                    f"{supervisor_id} is unavailable.",
                    instance.shift_id,
                    duty.doctor.id,
                )
            )
    return violations


def check_monthly_cap(ctx: CheckContext) -> list[Violation]:
    """Duty hours per calendar month (of each duty's local start) stay under the cap.

    Soft: ``weight_per_hour`` per started hour above the cap.
    """
    rule = ctx.scenario.rules.max_hours_per_month
    if rule is None:
        return []
    cap_min = round(rule.hours * 60)
    minutes: dict[tuple[str, int, int], int] = defaultdict(int)
    for duty in ctx.duties:
        start = duty.instance.start
        elapsed = duty.instance.end.astimezone(UTC) - start.astimezone(UTC)
        duration = int(elapsed.total_seconds()) // 60
        minutes[duty.doctor.id, start.year, start.month] += duration
    violations = []
    for (doctor_id, year, month), total in sorted(minutes.items()):
        if total <= cap_min:
            continue
        over_h = math.ceil((total - cap_min) / 60)
        violations.append(
            Violation(
                "monthly_cap",
                rule.hard,
                f"{doctor_id} has {total / 60:g} h in {year}-{month:02d}; cap {rule.hours:g} h.",
                None,
                doctor_id,
                0 if rule.hard else over_h * rule.weight_per_hour,
            )
        )
    return violations


def check_weekend_spacing(ctx: CheckContext) -> list[Violation]:
    """Weekend duties of one doctor start at least ``days`` apart.

    Soft: ``weight`` per pair closer than that.
    """
    rule = ctx.scenario.rules.min_days_between_weekends
    if rule is None:
        return []
    violations = []
    for doctor_id, duties in ctx.by_doctor.items():
        weekends = [d for d in duties if d.instance.weekend]
        for index, first in enumerate(weekends):
            for second in weekends[index + 1 :]:
                days = (second.instance.start_date - first.instance.start_date).days
                if days >= rule.days:
                    break
                violations.append(
                    Violation(
                        "weekend_spacing",
                        rule.hard,
                        f"{doctor_id} has weekends {first.instance.shift_id} and "
                        f"{second.instance.shift_id} {days} days apart; wanted {rule.days}.",
                        second.instance.shift_id,
                        doctor_id,
                        0 if rule.hard else rule.weight,
                    )
                )
    return violations


def check_avoid(ctx: CheckContext) -> list[Violation]:
    """Soft: ``avoid_weight`` for each duty touching one of the doctor's avoid dates."""
    weight = ctx.scenario.rules.avoid_weight
    violations = []
    for duty in ctx.duties:
        avoided = sorted(set(duty.doctor.avoid).intersection(_dates_touched(duty.instance)))
        if avoided:
            violations.append(
                Violation(
                    "avoid",
                    False,
                    f"{duty.doctor.id} asked to avoid {avoided[0].isoformat()} but has "
                    f"{duty.instance.shift_id}.",
                    duty.instance.shift_id,
                    duty.doctor.id,
                    weight,
                )
            )
    return violations


RULE_CHECKS: dict[str, Callable[[CheckContext], list[Violation]]] = {
    "coverage": check_coverage,
    "scope": check_scope,
    "role": check_role,
    "unavailable": check_unavailable,
    "exemption": check_exemption,
    "overlap": check_overlap,
    "rest": check_rest,
    "supervision": check_supervision,
    "monthly_cap": check_monthly_cap,
    "weekend_spacing": check_weekend_spacing,
    "avoid": check_avoid,
}


def describe_instance(instance: ShiftInstance) -> str:
    """Return ``shift_id (label, when)`` for messages."""
    return f"{instance.shift_id} ({instance.label}, {_when(instance)})"


def join_duties(
    scenario: Scenario, instances: Sequence[ShiftInstance], roster: Roster
) -> list[Duty]:
    """Join a roster's assignments with instances and doctors (ids are assumed valid)."""
    by_id = {i.shift_id: i for i in instances}
    return [
        Duty(by_id[a.shift_id], scenario.doctors_by_id[a.doctor_id]) for a in roster.assignments
    ]


__all__ = ["RULE_CHECKS", "CheckContext", "Duty", "Violation"]
