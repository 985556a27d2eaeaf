"""One plain-Python check per roster rule (``RULE_CHECKS``), recomputed from scenario + roster.

These are written independently of the CP-SAT encoding in ``solver/``; tests assert both agree.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from wachtplanner.calendar import holiday_key, weekend_of
from wachtplanner.constants import POINTS_SCALE
from wachtplanner.domain.people import DateRange, Doctor
from wachtplanner.domain.roster import Roster
from wachtplanner.domain.rules import Rule, age_factor
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.fairness import ExpectedLoad, period_index
from wachtplanner.expand import ShiftInstance


@dataclass(frozen=True)
class Violation:
    """A broken hard rule (``hard``) or a soft rule's penalty."""

    rule: Rule
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
    """What every check needs: the scenario, its instances, the roster's duties, expected load."""

    scenario: Scenario
    instances: Sequence[ShiftInstance]
    duties: Sequence[Duty]
    load: ExpectedLoad

    @cached_property
    def by_doctor(self) -> dict[str, list[Duty]]:
        """Return each doctor's duties sorted by start."""
        grouped: dict[str, list[Duty]] = defaultdict(list)
        for duty in self.duties:
            grouped[duty.doctor.id].append(duty)
        for duties in grouped.values():
            duties.sort(key=lambda d: d.instance.start)
        return grouped

    def could_take(self, doctor: Doctor, at_most: int) -> int:
        """Return how many instances a doctor could take at all, counting up to ``at_most``.

        Scope, role, dates and exemptions: what "where the pool allows" means for the
        minimum-duties rule.
        """
        count = 0
        for instance in self.instances:
            if _could_take(self.scenario, doctor, instance):
                count += 1
                if count >= at_most:
                    break
        return count


def _could_take(scenario: Scenario, doctor: Doctor, instance: ShiftInstance) -> bool:
    if doctor.role not in instance.roles:
        return False
    if not scenario.doctor_in_unit(doctor, instance.scope, instance.scope_id):
        return False
    if doctor.stops_on is not None and instance.start_date >= doctor.stops_on:
        return False
    if doctor.starts_on is not None and instance.start_date < doctor.starts_on:
        return False
    if any(_touches(instance, period) for period in doctor.unavailable):
        return False
    age = doctor.age_on(instance.start_date)
    if age_factor(scenario.rules, age, instance.shift_type) == 0:
        return False
    return not any(
        (not e.shift_types or instance.shift_type in e.shift_types) and _touches(instance, e)
        for e in doctor.all_exemptions
    )


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
                    Rule.COVERAGE,
                    True,
                    f"{instance.shift_id} has {len(doctors)} doctor(s); needs {instance.need}.",
                    instance.shift_id,
                )
            )
        for doctor_id in sorted({d for d in doctors if doctors.count(d) > 1}):
            violations.append(
                Violation(
                    Rule.COVERAGE,
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
                    Rule.SCOPE,
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
            Rule.ROLE,
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
        starts_on = duty.doctor.starts_on
        if starts_on is not None and duty.instance.start_date < starts_on:
            violations.append(
                Violation(
                    Rule.UNAVAILABLE,
                    True,
                    f"{duty.doctor.id} joins on {starts_on} but has {duty.instance.shift_id}.",
                    duty.instance.shift_id,
                    duty.doctor.id,
                )
            )
        stops_on = duty.doctor.stops_on
        if stops_on is not None and duty.instance.start_date >= stops_on:
            violations.append(
                Violation(
                    Rule.UNAVAILABLE,
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
                        Rule.UNAVAILABLE,
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
        age = duty.doctor.age_on(duty.instance.start_date)
        if age_factor(ctx.scenario.rules, age, duty.instance.shift_type) == 0:
            violations.append(
                Violation(
                    Rule.EXEMPTION,
                    True,
                    f"{duty.doctor.id} is {age}: exempt from {duty.instance.shift_type} by the "
                    f"age rules, but has {duty.instance.shift_id}.",
                    duty.instance.shift_id,
                    duty.doctor.id,
                )
            )
        for exemption in duty.doctor.all_exemptions:
            covers_type = (
                not exemption.shift_types or duty.instance.shift_type in exemption.shift_types
            )
            if covers_type and _touches(duty.instance, exemption):
                violations.append(
                    Violation(
                        Rule.EXEMPTION,
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
                        Rule.OVERLAP,
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
                        Rule.REST,
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
                        Rule.SUPERVISION,
                        True,
                        f"trainee {duty.doctor.id} has {instance.shift_id} while supervisor "
                        f"{supervisor_id} is on {other.instance.shift_id}.",
                        instance.shift_id,
                        duty.doctor.id,
                    )
                )
        gone = supervisor.stops_on is not None and instance.start_date >= supervisor.stops_on
        not_yet = supervisor.starts_on is not None and instance.start_date < supervisor.starts_on
        if gone or not_yet:
            violations.append(
                Violation(
                    Rule.SUPERVISION,
                    True,
                    f"trainee {duty.doctor.id} has {instance.shift_id} while supervisor "
                    f"{supervisor_id} is no longer (or not yet) in the circle.",
                    instance.shift_id,
                    duty.doctor.id,
                )
            )
        if any(_touches(instance, period) for period in supervisor.unavailable):
            violations.append(
                Violation(
                    Rule.SUPERVISION,
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
                Rule.MONTHLY_CAP,
                rule.hard,
                f"{doctor_id} has {total / 60:g} h in {year}-{month:02d}; cap {rule.hours:g} h.",
                None,
                doctor_id,
                0 if rule.hard else over_h * rule.weight_per_hour,
            )
        )
    return violations


def check_weekend_spacing(ctx: CheckContext) -> list[Violation]:
    """A doctor's weekends (by their Friday) are at least ``days`` apart.

    Blocks of one weekend (split day and night blocks, a merged holiday) are one weekend.
    Soft: ``weight`` per pair of weekends closer than that.
    """
    rule = ctx.scenario.rules.min_days_between_weekends
    if rule is None:
        return []
    violations = []
    for doctor_id, duties in ctx.by_doctor.items():
        fridays: dict[date, Duty] = {}
        for duty in duties:
            if duty.instance.weekend:
                fridays.setdefault(weekend_of(duty.instance.start_date), duty)
        ordered = sorted(fridays)
        for index, first in enumerate(ordered):
            for second in ordered[index + 1 :]:
                days = (second - first).days
                if days >= rule.days:
                    break
                violations.append(
                    Violation(
                        Rule.WEEKEND_SPACING,
                        rule.hard,
                        f"{doctor_id} has the weekends of {first.isoformat()} "
                        f"({fridays[first].instance.shift_id}) and {second.isoformat()} "
                        f"({fridays[second].instance.shift_id}) {days} days apart; wanted "
                        f"{rule.days}.",
                        fridays[second].instance.shift_id,
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
                    Rule.AVOID,
                    False,
                    f"{duty.doctor.id} asked to avoid {avoided[0].isoformat()} but has "
                    f"{duty.instance.shift_id}.",
                    duty.instance.shift_id,
                    duty.doctor.id,
                    weight,
                )
            )
    return violations


def _nights(instance: ShiftInstance) -> list[date]:
    """Return the local dates whose night (23:00 to 05:00 the next morning) the duty covers."""
    tz = instance.start.tzinfo
    nights = []
    day = instance.start.date() - timedelta(days=1)
    while day <= instance.end.date():
        dusk = datetime.combine(day, time(23, 0), tzinfo=tz)
        dawn = datetime.combine(day + timedelta(days=1), time(5, 0), tzinfo=tz)
        if instance.start < dawn and dusk < instance.end:
            nights.append(day)
        day += timedelta(days=1)
    return nights


def check_consecutive_nights(ctx: CheckContext) -> list[Violation]:
    """At most ``count`` duties in a row on consecutive nights (a block of nights is one duty).

    Soft: ``weight`` per duty beyond ``count`` in a row.
    """
    rule = ctx.scenario.rules.max_consecutive_nights
    if rule is None:
        return []
    violations = []
    for doctor_id, duties in ctx.by_doctor.items():
        row: list[Duty] = []
        last_night: date | None = None
        for duty in duties:
            nights = _nights(duty.instance)
            if not nights:
                continue
            if last_night is not None and nights[0] == last_night + timedelta(days=1):
                row.append(duty)
            else:
                row = [duty]
            last_night = nights[-1]
            if len(row) > rule.count:
                violations.append(
                    Violation(
                        Rule.CONSECUTIVE_NIGHTS,
                        rule.hard,
                        f"{doctor_id} has {len(row)} duties on consecutive nights up to "
                        f"{duty.instance.shift_id}; at most {rule.count} allowed.",
                        duty.instance.shift_id,
                        doctor_id,
                        0 if rule.hard else rule.weight,
                    )
                )
    return violations


def _starts_per_window(
    ctx: CheckContext,
    length_days: int,
    held_until: Callable[[ShiftInstance], date] | None = None,
) -> Iterator[tuple[str, date, list[Duty]]]:
    """Yield (doctor, first day, duties starting in it) for every window inside the horizon.

    With ``held_until``, a duty counts in a window from its start date to that date (the
    duties holding a day of the window).
    """
    horizon = ctx.scenario.horizon
    last_first = max(horizon.start, horizon.end - timedelta(days=length_days - 1))
    for doctor_id, duties in ctx.by_doctor.items():
        # In start order (a stable sort keeps a day's duties as given); the window's duties
        # are then one slice, its ends moved forward a day at a time.
        ordered = sorted(duties, key=lambda duty: duty.instance.start_date)
        days = [duty.instance.start_date for duty in ordered]
        lasts = days if held_until is None else [held_until(duty.instance) for duty in ordered]
        low = high = 0
        first = horizon.start
        while first <= last_first:
            end = first + timedelta(days=length_days)
            # A duty whose last date is before this window's is before every later one's.
            while low < len(lasts) and lasts[low] < first:
                low += 1
            while high < len(days) and days[high] < end:
                high += 1
            inside = ordered[low:high]
            if held_until is not None:
                # (Only a roster with overlapping duties has them out of order.)
                inside = [duty for n, duty in enumerate(inside, low) if lasts[n] >= first]
            yield doctor_id, first, inside
            first += timedelta(days=1)


def check_duties_per_7_days(ctx: CheckContext) -> list[Violation]:
    """At most ``count`` duties start in any 7 consecutive days of the horizon.

    Soft: every such window costs ``weight`` per duty start above ``count``.
    """
    rule = ctx.scenario.rules.max_duties_per_7_days
    if rule is None:
        return []
    violations = []
    for doctor_id, first, inside in _starts_per_window(ctx, 7):
        if len(inside) > rule.count:
            over = len(inside) - rule.count
            violations.append(
                Violation(
                    Rule.DUTIES_PER_7_DAYS,
                    rule.hard,
                    f"{doctor_id} has {len(inside)} duties starting {first.isoformat()} to "
                    f"{(first + timedelta(days=6)).isoformat()}; at most {rule.count}.",
                    inside[-1].instance.shift_id,
                    doctor_id,
                    0 if rule.hard else over * rule.weight,
                )
            )
    return violations


def check_min_gap(ctx: CheckContext) -> list[Violation]:
    """Soft: duties of one doctor start at least their ``min_gap_days`` apart.

    Each window of that many days holding k > 1 duty starts costs ``weight`` x (k - 1).
    """
    rule = ctx.scenario.rules.min_days_between_duties
    if rule is None or rule.weight == 0:
        return []
    gaps = ctx.load.min_gap_days
    violations = []
    for doctor_id, duties in ctx.by_doctor.items():
        length = gaps.get(doctor_id)
        if length is None:
            continue
        single = CheckContext(ctx.scenario, ctx.instances, duties, ctx.load)
        for _, first, inside in _starts_per_window(single, length):
            if len(inside) > 1:
                violations.append(
                    Violation(
                        Rule.MIN_GAP,
                        False,
                        f"{doctor_id} has {len(inside)} duties starting within the {length} days "
                        f"from {first.isoformat()}; wanted at most one.",
                        inside[-1].instance.shift_id,
                        doctor_id,
                        (len(inside) - 1) * rule.weight,
                    )
                )
    return violations


def _last_held_date(instance: ShiftInstance) -> date:
    """Return the last local date a duty holds its doctor.

    Its last night's date (a weekend block Fri 19:00 - Mon 08:00 holds Friday to Sunday), or
    its start date where it covers no night (23:00-05:00) after it.
    """
    nights = _nights(instance)
    return max(instance.start_date, nights[-1]) if nights else instance.start_date


def check_close_duties(ctx: CheckContext) -> list[Violation]:
    """Soft: duties of one doctor not within ``close_days`` of each other.

    Each window of ``close_days`` + 1 days inside the horizon holding k > 1 of a doctor's duties
    costs ``close_weight`` x (k - 1); a duty holds every date from its start to its last night
    (:func:`_last_held_date`), so a weekend block and the Tuesday night after it are two days
    apart.
    """
    rule = ctx.scenario.rules.min_days_between_duties
    if rule is None or rule.close_days == 0 or rule.close_weight == 0:
        return []
    violations = []
    windows = _starts_per_window(ctx, rule.close_days + 1, _last_held_date)
    for doctor_id, first, inside in windows:
        if len(inside) > 1:
            violations.append(
                Violation(
                    Rule.CLOSE_DUTIES,
                    False,
                    f"{doctor_id} is on {len(inside)} duties from {first.isoformat()} to "
                    f"{(first + timedelta(days=rule.close_days)).isoformat()} (a duty counted "
                    "from its start to its last night); wanted at most one.",
                    inside[-1].instance.shift_id,
                    doctor_id,
                    (len(inside) - 1) * rule.close_weight,
                )
            )
    return violations


def check_min_duties(ctx: CheckContext) -> list[Violation]:
    """Soft: every GP below the age limit does at least the duties asked (pro rata a year).

    The ask is capped at the shifts the doctor could do at all ("where the pool allows").
    """
    rule = ctx.scenario.rules.min_duties_per_year
    if rule is None or rule.weight == 0:
        return []
    horizon = ctx.scenario.horizon
    asked = rule.required((horizon.end - horizon.start).days + 1)
    if asked == 0:
        return []
    violations = []
    for doctor in ctx.scenario.doctors:
        age = doctor.age_on(horizon.start)
        if doctor.role != "gp" or (age is not None and age >= rule.below_age):
            continue
        done = len(ctx.by_doctor.get(doctor.id, []))
        if done >= asked:
            continue
        wanted = ctx.could_take(doctor, asked)
        if done < wanted:
            violations.append(
                Violation(
                    Rule.MIN_DUTIES,
                    False,
                    f"{doctor.id} has {done} duties; every GP under {rule.below_age} does at "
                    f"least {wanted} this period.",
                    None,
                    doctor.id,
                    (wanted - done) * rule.weight,
                )
            )
    return violations


def check_even_load(ctx: CheckContext) -> list[Violation]:
    """Soft: cumulative points at the end of each period stay near the pro-rata target.

    ``weight`` per whole point of |cumulative points - pro-rata target|, every period but the
    last.
    """
    rule = ctx.scenario.rules.even_load
    if rule is None or rule.weight == 0:
        return []
    horizon = ctx.scenario.horizon
    violations = []
    for doctor_id, marks in sorted(ctx.load.cumulative_centi.items()):
        earned = [0] * (len(marks) + 1)
        for duty in ctx.by_doctor.get(doctor_id, []):
            earned[period_index(horizon.start, duty.instance.start_date, rule.period)] += (
                duty.instance.points_centi
            )
        running = 0
        for slot, mark in enumerate(marks):
            running += earned[slot]
            whole_points = abs(running - mark) // POINTS_SCALE
            if whole_points > 0:
                violations.append(
                    Violation(
                        Rule.EVEN_LOAD,
                        False,
                        f"{doctor_id} has {running / POINTS_SCALE:g} points after {rule.period} "
                        f"{slot + 1}; pro rata {mark / POINTS_SCALE:g}.",
                        None,
                        doctor_id,
                        whole_points * rule.weight,
                    )
                )
    return violations


def check_holiday_share(ctx: CheckContext) -> list[Violation]:
    """Soft: ``weight`` per duty touching a holiday beyond the doctor's fair number of them."""
    rule = ctx.scenario.rules.holiday_share
    if rule is None or rule.weight == 0:
        return []
    violations = []
    for doctor_id, duties in sorted(ctx.by_doctor.items()):
        on_holidays = [duty.instance.shift_id for duty in duties if duty.instance.holidays]
        fair = ctx.load.fair_holiday_duties(doctor_id)
        if len(on_holidays) <= fair:
            continue
        violations.append(
            Violation(
                Rule.HOLIDAY_SHARE,
                False,
                f"{doctor_id} has {len(on_holidays)} duties touching a holiday "
                f"({', '.join(on_holidays)}); fair share {fair}.",
                None,
                doctor_id,
                (len(on_holidays) - fair) * rule.weight,
            )
        )
    return violations


def check_holiday_rotation(ctx: CheckContext) -> list[Violation]:
    """Soft: ``weight`` for a duty on a holiday the doctor did last year."""
    rule = ctx.scenario.rules.holiday_rotation
    if rule is None or rule.weight == 0:
        return []
    violations = []
    for duty in ctx.duties:
        last_year = set(duty.doctor.carry_over.holidays)
        again = sorted(
            {key for day in duty.instance.holidays if (key := holiday_key(day)) in last_year}
        )
        if again:
            violations.append(
                Violation(
                    Rule.HOLIDAY_ROTATION,
                    False,
                    f"{duty.doctor.id} did {', '.join(again)} last year and has "
                    f"{duty.instance.shift_id} again.",
                    duty.instance.shift_id,
                    duty.doctor.id,
                    rule.weight,
                )
            )
    return violations


def check_prefer(ctx: CheckContext) -> list[Violation]:
    """Soft: ``prefer_weight`` for a weekend duty on none of the doctor's ``prefer`` dates."""
    weight = ctx.scenario.rules.prefer_weight
    violations = []
    for duty in ctx.duties:
        wanted = set(duty.doctor.prefer)
        if not wanted or weight == 0 or not duty.instance.weekend:
            continue
        if wanted.isdisjoint(_dates_touched(duty.instance)):
            violations.append(
                Violation(
                    Rule.PREFER,
                    False,
                    f"{duty.doctor.id} prefers other weekends than {duty.instance.shift_id}.",
                    duty.instance.shift_id,
                    duty.doctor.id,
                    weight,
                )
            )
    return violations


RULE_CHECKS: dict[Rule, Callable[[CheckContext], list[Violation]]] = {
    Rule.COVERAGE: check_coverage,
    Rule.SCOPE: check_scope,
    Rule.ROLE: check_role,
    Rule.UNAVAILABLE: check_unavailable,
    Rule.EXEMPTION: check_exemption,
    Rule.OVERLAP: check_overlap,
    Rule.REST: check_rest,
    Rule.SUPERVISION: check_supervision,
    Rule.CONSECUTIVE_NIGHTS: check_consecutive_nights,
    Rule.MONTHLY_CAP: check_monthly_cap,
    Rule.WEEKEND_SPACING: check_weekend_spacing,
    Rule.DUTIES_PER_7_DAYS: check_duties_per_7_days,
    Rule.MIN_GAP: check_min_gap,
    Rule.CLOSE_DUTIES: check_close_duties,
    Rule.MIN_DUTIES: check_min_duties,
    Rule.EVEN_LOAD: check_even_load,
    Rule.HOLIDAY_ROTATION: check_holiday_rotation,
    Rule.HOLIDAY_SHARE: check_holiday_share,
    Rule.AVOID: check_avoid,
    Rule.PREFER: check_prefer,
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
