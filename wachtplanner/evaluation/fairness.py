"""Fairness targets: each doctor's share of each tag's points, net of carry-over.

A doctor's weight on an instance is ``basis`` (fte, gmd or 1) x 0.5 from ``halve_from_age`` x 0
while exempt from that shift type, and 0 from the doctor's ``stops_on`` date. The instance's
points x need are split over its pool (the
doctors of its scope unit with an allowed role) in proportion to the weights. A doctor's target
for a tag is the sum over the tag's instances, minus the carry-over for that tag, never below 0.
The rounding band of a tag is the points of its largest instance: "within one shift".

Targets are inputs shared by the solver and the checker; what each computes independently is the
roster's points and deviations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from wachtplanner.constants import POINTS_SCALE
from wachtplanner.domain.people import Doctor
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
    for exemption in doctor.exemptions:
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
    halve_from = scenario.rules.halve_from_age
    age = doctor.age_on(instance.start_date)
    if halve_from is not None and age is not None and age >= halve_from:
        weight *= 0.5
    if exempt_from(doctor, instance):
        return 0.0
    if doctor.stops_on is not None and instance.start_date >= doctor.stops_on:
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
