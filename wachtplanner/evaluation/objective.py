"""Evaluate a roster: hard violations, soft penalties and fairness, as the objective's terms.

The objective is lexicographic (all fairness terms in centi-points):

1. ``max_excess_centi``: the largest excess beyond the band, ``max(0, |points - target| -
   band)``, over every (doctor, tag);
2. ``sum_excess_centi``: the sum of those excesses;
3. ``spread_centi``: per tag the largest ``|points - target|``, summed over tags;
4. ``at_spread``: how many (doctor, tag) rows sit at their tag's largest deviation;
5. ``soft_penalty``: the weighted soft rules (spread over time, wishes, caps);
6. ``deviation_centi``: the sum of every row's ``|points - target|``;
7. ``total_deviation_centi``: the sum over doctors of ``|points - target|`` over all tags
   together (fairness of the total load, after the per-tag levels).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from wachtplanner.constants import POINTS_SCALE
from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.checks import RULE_CHECKS, CheckContext, Violation, join_duties
from wachtplanner.evaluation.fairness import (
    ExpectedLoad,
    FairnessTarget,
    compute_targets,
    expected_load,
    instance_tags,
)
from wachtplanner.expand import ShiftInstance


@dataclass(frozen=True)
class FairnessRow:
    """A doctor's points in one tag against their target (points, not centi-points)."""

    doctor_id: str
    tag: str
    share: float
    target: float
    points: float
    deviation: float
    band: float
    excess: float
    carry_over: float


@dataclass(frozen=True)
class ObjectiveTerms:
    """The lexicographic objective, in integers (centi-points for fairness)."""

    max_excess_centi: int
    sum_excess_centi: int
    spread_centi: int
    at_spread: int
    deviation_centi: int
    total_deviation_centi: int
    soft_penalty: int

    def as_dict(self) -> dict[str, int]:
        """Return the terms by name, in lexicographic order."""
        return {
            "max_excess_centi": self.max_excess_centi,
            "sum_excess_centi": self.sum_excess_centi,
            "spread_centi": self.spread_centi,
            "at_spread": self.at_spread,
            "soft_penalty": self.soft_penalty,
            "deviation_centi": self.deviation_centi,
            "total_deviation_centi": self.total_deviation_centi,
        }


@dataclass(frozen=True)
class Evaluation:
    """Everything the checker found about one roster."""

    violations: tuple[Violation, ...]
    fairness: tuple[FairnessRow, ...]
    terms: ObjectiveTerms
    penalties_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def hard_violations(self) -> tuple[Violation, ...]:
        """Return the violations of hard rules."""
        return tuple(v for v in self.violations if v.hard)

    @property
    def rows_outside_band(self) -> tuple[FairnessRow, ...]:
        """Return the (doctor, tag) rows further than one shift from target."""
        return tuple(r for r in self.fairness if r.excess > 0)


def fairness_rows(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    roster: Roster,
    targets: dict[tuple[str, str], FairnessTarget],
) -> tuple[list[FairnessRow], list[int]]:
    """Return the fairness rows and the excess of each row in centi-points."""
    by_id = {i.shift_id: i for i in instances}
    earned: dict[tuple[str, str], int] = defaultdict(int)
    for assignment in roster.assignments:
        for tag, centi in instance_tags(scenario, by_id[assignment.shift_id]).items():
            earned[assignment.doctor_id, tag] += centi
    rows, excesses = [], []
    for key in sorted(targets):
        target = targets[key]
        deviation = earned[key] - target.target_centi
        excess = max(0, abs(deviation) - target.band_centi)
        excesses.append(excess)
        rows.append(
            FairnessRow(
                doctor_id=target.doctor_id,
                tag=target.tag,
                share=target.share,
                target=target.target_centi / POINTS_SCALE,
                points=earned[key] / POINTS_SCALE,
                deviation=deviation / POINTS_SCALE,
                band=target.band_centi / POINTS_SCALE,
                excess=excess / POINTS_SCALE,
                carry_over=target.carry_centi / POINTS_SCALE,
            )
        )
    return rows, excesses


def evaluate_roster(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    roster: Roster,
    targets: dict[tuple[str, str], FairnessTarget] | None = None,
    load: ExpectedLoad | None = None,
) -> Evaluation:
    """Check every rule and compute every objective term of a roster.

    ``targets`` and ``load`` depend on the scenario and its shifts only (on the 500-GP year
    they take 3.5 s to compute): a caller that has them from these same functions, such as the
    solver's compiled instance, passes them; without them they are computed here.
    """
    if targets is None:
        targets = compute_targets(scenario, instances)
    if load is None:
        load = expected_load(scenario, instances, targets)
    ctx = CheckContext(scenario, instances, join_duties(scenario, instances, roster), load)
    violations: list[Violation] = []
    for check in RULE_CHECKS.values():
        violations.extend(check(ctx))
    rows, excesses = fairness_rows(scenario, instances, roster, targets)
    deviations = [abs(round(row.deviation * POINTS_SCALE)) for row in rows]
    largest_by_tag: dict[str, int] = defaultdict(int)
    total_by_doctor: dict[str, int] = defaultdict(int)
    for row, deviation in zip(rows, deviations, strict=True):
        largest_by_tag[row.tag] = max(largest_by_tag[row.tag], deviation)
        total_by_doctor[row.doctor_id] += round(row.deviation * POINTS_SCALE)
    at_largest = sum(
        1
        for row, deviation in zip(rows, deviations, strict=True)
        if deviation == largest_by_tag[row.tag]
    )
    penalties: dict[str, int] = defaultdict(int)
    for violation in violations:
        if not violation.hard:
            penalties[violation.rule] += violation.penalty
    terms = ObjectiveTerms(
        max_excess_centi=max(excesses, default=0),
        sum_excess_centi=sum(excesses),
        spread_centi=sum(largest_by_tag.values()),
        at_spread=at_largest,
        deviation_centi=sum(deviations),
        total_deviation_centi=sum(abs(v) for v in total_by_doctor.values()),
        soft_penalty=sum(penalties.values()),
    )
    return Evaluation(tuple(violations), tuple(rows), terms, dict(penalties))
