"""Evaluate a roster: hard violations, soft penalties and fairness, as the objective's terms.

The objective is lexicographic: first the largest excess beyond the rounding band over all
(doctor, tag) pairs, then the sum of those excesses, then the spread (per tag the largest
``|points - target|``, summed over tags), then the soft penalties. Excess is
``max(0, |points - target| - band)`` in centi-points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from wachtplanner.constants import POINTS_SCALE
from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.checks import RULE_CHECKS, CheckContext, Violation, join_duties
from wachtplanner.evaluation.fairness import FairnessTarget, compute_targets, instance_tags
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
    soft_penalty: int

    def as_dict(self) -> dict[str, int]:
        """Return the terms by name."""
        return {
            "max_excess_centi": self.max_excess_centi,
            "sum_excess_centi": self.sum_excess_centi,
            "spread_centi": self.spread_centi,
            "soft_penalty": self.soft_penalty,
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
) -> Evaluation:
    """Check every rule and compute every objective term of a roster."""
    ctx = CheckContext(scenario, instances, join_duties(scenario, instances, roster))
    violations: list[Violation] = []
    for check in RULE_CHECKS.values():
        violations.extend(check(ctx))
    if targets is None:
        targets = compute_targets(scenario, instances)
    rows, excesses = fairness_rows(scenario, instances, roster, targets)
    largest_by_tag: dict[str, int] = defaultdict(int)
    for row in rows:
        largest_by_tag[row.tag] = max(
            largest_by_tag[row.tag], abs(round(row.deviation * POINTS_SCALE))
        )
    penalties: dict[str, int] = defaultdict(int)
    for violation in violations:
        if not violation.hard:
            penalties[violation.rule] += violation.penalty
    terms = ObjectiveTerms(
        max_excess_centi=max(excesses, default=0),
        sum_excess_centi=sum(excesses),
        spread_centi=sum(largest_by_tag.values()),
        soft_penalty=sum(penalties.values()),
    )
    return Evaluation(tuple(violations), tuple(rows), terms, dict(penalties))
