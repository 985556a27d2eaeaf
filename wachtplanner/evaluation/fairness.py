"""Fairness targets: each doctor's share of each tag's points, net of carry-over.

A doctor's weight on an instance is ``basis`` (fte, gmd or 1) x the age factor (``rules.age``, or
0.5 from ``halve_from_age``; 0 exempts) x 0
while exempt from that shift type, and 0 from the doctor's ``stops_on`` date and before their
``starts_on`` date. The instance's
points x need are split over its pool (the
doctors of its scope unit with an allowed role) in proportion to the weights. A doctor's target
for a tag is the sum over the tag's instances, minus the carry-over for that tag, never below 0.
The rounding band of a tag is the points of its largest instance: "within one shift".

Targets are inputs shared by the solver and the checker; what each computes independently is the
roster's points and deviations.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from wachtplanner.constants import POINTS_SCALE
from wachtplanner.domain.people import Doctor
from wachtplanner.domain.rules import age_factor
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance

ALL_TAG = "all"


@dataclass(frozen=True)
class FairnessTarget:
    """One doctor's target for one tag, in centi-points."""

    doctor_id: str
    tag: str
    share: float
    target_centi: int
    band_centi: int
    carry_centi: int


def instance_tags(scenario: Scenario, instance: ShiftInstance) -> dict[str, int]:
    """Return the centi-points an instance earns per fairness tag under the scenario's policy."""
    if scenario.rules.fairness.per_tag:
        return instance.points_by_tag
    return {ALL_TAG: instance.points_centi}


def _basis(scenario: Scenario, doctor: Doctor) -> float:
    basis = scenario.rules.fairness.basis
    if basis == "fte":
        return doctor.fte
    if basis == "gmd":
        return float(doctor.gmd)
    return 1.0


def local_midnight(day: date, tz: tzinfo | None) -> datetime:
    """Return the aware instant at which a local date begins."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def exempt_from(doctor: Doctor, instance: ShiftInstance) -> bool:
    """Return whether a granted exemption covers any part of an instance."""
    tz = instance.start.tzinfo
    for exemption in doctor.all_exemptions:
        if exemption.shift_types and instance.shift_type not in exemption.shift_types:
            continue
        begins_before_end = (
            exemption.start is None or local_midnight(exemption.start, tz) < instance.end
        )
        ends_after_start = exemption.end is None or instance.start < local_midnight(
            exemption.end + timedelta(days=1), tz
        )
        if begins_before_end and ends_after_start:
            return True
    return False


def duty_weight(scenario: Scenario, doctor: Doctor, instance: ShiftInstance) -> float:
    """Return a pool member's weight on an instance (0 while exempt)."""
    weight = _basis(scenario, doctor)
    weight *= age_factor(scenario.rules, doctor.age_on(instance.start_date), instance.shift_type)
    if weight == 0 or exempt_from(doctor, instance):
        return 0.0
    if doctor.stops_on is not None and instance.start_date >= doctor.stops_on:
        return 0.0
    if doctor.starts_on is not None and instance.start_date < doctor.starts_on:
        return 0.0
    return weight


def in_pool(scenario: Scenario, doctor: Doctor, instance: ShiftInstance) -> bool:
    """Return whether a doctor is in the pool that shares an instance's duty."""
    return doctor.role in instance.roles and scenario.doctor_in_unit(
        doctor, instance.scope, instance.scope_id
    )


def compute_targets(
    scenario: Scenario, instances: Sequence[ShiftInstance]
) -> dict[tuple[str, str], FairnessTarget]:
    """Return the fairness target of every (doctor, tag) whose doctor is in a pool of the tag."""
    raw: dict[tuple[str, str], float] = defaultdict(float)
    pool_points: dict[tuple[str, str], float] = defaultdict(float)
    band: dict[str, int] = defaultdict(int)
    pools: dict[tuple[str, str, tuple[str, ...]], list[Doctor]] = {}
    for instance in instances:
        key = (instance.scope, instance.scope_id, instance.roles)
        if key not in pools:
            pools[key] = [d for d in scenario.doctors if in_pool(scenario, d, instance)]
        members = pools[key]
        weights = [duty_weight(scenario, d, instance) for d in members]
        total_weight = sum(weights)
        for tag, centi in instance_tags(scenario, instance).items():
            band[tag] = max(band[tag], centi)
            duty = centi * instance.need
            for doctor, weight in zip(members, weights, strict=True):
                pool_points[doctor.id, tag] += duty
                if total_weight > 0 and weight > 0:
                    raw[doctor.id, tag] += duty * weight / total_weight
    return _net_of_carry_over(scenario, raw, pool_points, band)


def _net_of_carry_over(
    scenario: Scenario,
    raw: dict[tuple[str, str], float],
    pool_points: dict[tuple[str, str], float],
    band: dict[str, int],
) -> dict[tuple[str, str], FairnessTarget]:
    per_tag = scenario.rules.fairness.per_tag
    by_doctor: dict[str, list[str]] = defaultdict(list)
    for doctor_id, tag in pool_points:
        by_doctor[doctor_id].append(tag)
    targets: dict[tuple[str, str], FairnessTarget] = {}
    for doctor_id, tags in by_doctor.items():
        carry = scenario.doctors_by_id[doctor_id].carry_over
        total_raw = sum(raw[doctor_id, t] for t in tags)
        for tag in tags:
            key = (doctor_id, tag)
            explicit = carry.tags.get(tag, 0.0) if per_tag else sum(carry.tags.values())
            spread = carry.points * (raw[key] / total_raw if total_raw > 0 else 1 / len(tags))
            carry_centi = round((explicit + spread) * POINTS_SCALE)
            targets[key] = FairnessTarget(
                doctor_id=doctor_id,
                tag=tag,
                share=raw[key] / pool_points[key] if pool_points[key] > 0 else 0.0,
                target_centi=max(0, round(raw[key]) - carry_centi),
                band_centi=band[tag],
                carry_centi=carry_centi,
            )
    return targets


def period_index(horizon_start: date, day: date, period: str) -> int:
    """Return the index of the month or quarter of ``day``, counted from the horizon's first."""
    months = (day.year - horizon_start.year) * 12 + day.month - horizon_start.month
    if period == "month":
        return months
    first_quarter_month = horizon_start.month - (horizon_start.month - 1) % 3
    return ((day.year - horizon_start.year) * 12 + day.month - first_quarter_month) // 3


@dataclass(frozen=True)
class ExpectedLoad:
    """What each doctor is expected to carry, from their share of every pool they belong to.

    Inputs shared by the solver and the checker (like the targets): ``duties`` is the expected
    number of duties over the horizon, ``cumulative_centi`` the pro-rata target at the end of
    each even-load period but the last, ``min_gap_days`` the spacing the min-gap rule asks, and
    ``holiday_duties`` the expected number of duties touching a holiday.
    """

    duties: dict[str, float]
    cumulative_centi: dict[str, tuple[int, ...]]
    min_gap_days: dict[str, int]
    holiday_duties: dict[str, float]

    def fair_holiday_duties(self, doctor_id: str) -> int:
        """Return the duties touching a holiday the doctor may have before holiday_share costs."""
        return math.ceil(self.holiday_duties.get(doctor_id, 0.0) - 1e-9)


def expected_load(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    targets: dict[tuple[str, str], FairnessTarget] | None = None,
) -> ExpectedLoad:
    """Return every doctor's expected duties, pro-rata cumulative targets and minimum gap."""
    rules = scenario.rules
    period = rules.even_load.period if rules.even_load is not None else "month"
    horizon = scenario.horizon
    num_periods = period_index(horizon.start, horizon.end, period) + 1
    duties: dict[str, float] = defaultdict(float)
    holiday_duties: dict[str, float] = defaultdict(float)
    points: dict[str, list[float]] = defaultdict(lambda: [0.0] * num_periods)
    pools: dict[tuple[str, str, tuple[str, ...]], list[Doctor]] = {}
    for instance in instances:
        key = (instance.scope, instance.scope_id, instance.roles)
        if key not in pools:
            pools[key] = [d for d in scenario.doctors if in_pool(scenario, d, instance)]
        weights = [duty_weight(scenario, d, instance) for d in pools[key]]
        total_weight = sum(weights)
        if total_weight <= 0:
            continue
        slot = period_index(horizon.start, instance.start_date, period)
        for doctor, weight in zip(pools[key], weights, strict=True):
            if weight > 0:
                share = weight / total_weight * instance.need
                duties[doctor.id] += share
                if instance.holidays:
                    holiday_duties[doctor.id] += share
                points[doctor.id][slot] += share * instance.points_centi
    if targets is None:
        targets = compute_targets(scenario, instances)
    target_total: dict[str, int] = defaultdict(int)
    for (doctor_id, _), target in targets.items():
        target_total[doctor_id] += target.target_centi
    cumulative: dict[str, tuple[int, ...]] = {}
    for doctor_id, per_period in points.items():
        expected_total = sum(per_period)
        running, marks = 0.0, []
        for value in per_period[:-1]:
            running += value
            fraction = running / expected_total if expected_total > 0 else 0.0
            marks.append(round(target_total[doctor_id] * fraction))
        cumulative[doctor_id] = tuple(marks)
    gaps: dict[str, int] = {}
    gap_rule = rules.min_days_between_duties
    if gap_rule is not None:
        active = {d.id: _active_days(scenario, d) for d in scenario.doctors}
        for doctor_id, expected in duties.items():
            if gap_rule.days != "auto":
                gaps[doctor_id] = gap_rule.days
            elif expected > 0:
                # Spread over the days they are on the roster: a GP who stops on 1 March
                # spreads their share over January and February, not over the year.
                ideal = gap_rule.scale * active[doctor_id] / expected
                gaps[doctor_id] = max(2, min(gap_rule.max_days, int(ideal)))
    return ExpectedLoad(dict(duties), cumulative, gaps, dict(holiday_duties))


def _active_days(scenario: Scenario, doctor: Doctor) -> int:
    """Return the horizon days from the doctor's ``starts_on`` to the day before ``stops_on``."""
    first, last = scenario.horizon.start, scenario.horizon.end
    if doctor.starts_on is not None:
        first = max(first, doctor.starts_on)
    if doctor.stops_on is not None:
        last = min(last, doctor.stops_on - timedelta(days=1))
    return max(1, (last - first).days + 1)
