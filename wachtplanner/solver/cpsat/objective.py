"""The fairness terms and the expression each lexicographic stage minimises.

Per fairness row r = (doctor, tag): ``dev_r = earned_r - target_r``, ``abs_r = |dev_r|`` and
``excess_r = max(0, abs_r - band_r)``, each an exact equality (``add_abs_equality``,
``add_max_equality``), so their values are functions of the ``x``. The stages:

``max_excess``  the largest ``excess_r``;
``sum_excess``  the sum of ``excess_r``;
``spread``      per tag the largest ``abs_r``, summed over tags;
``at_spread``   how many rows sit at their tag's largest ``abs_r`` (built when the stage starts:
                the tag's largest value is then fixed to what the spread stage reached);
``soft``        the weighted soft penalties (spread over time, wishes, caps);
``deviation``   the sum of ``abs_r``;
``total``       the sum over doctors of ``|sum over tags of dev_r|`` (searched beside the
                ``deviation``, see ``staged._SPENT_BESIDE``);
``changes``     (re-plan only, first) how many published pairs are not kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from wachtplanner.solver.cpsat.variables import BuildContext, Pair
from wachtplanner.solver.instance import Instance

STAGES: tuple[str, ...] = (
    "max_excess",
    "sum_excess",
    "spread",
    "at_spread",
    "soft",
    "deviation",
    "total",
)
"""The soft stage (spread over time, wishes, caps) comes before the summed deviations: measured
on the 50-GP quarter, the other order let the summed stages undo the spreading (6 % of duties
within 2 days against 1.6 %) for a summed deviation only 0.1 % lower."""
TERM_OF_STAGE = {
    "changes": "changed_assignments",
    "max_excess": "max_excess_centi",
    "sum_excess": "sum_excess_centi",
    "spread": "spread_centi",
    "at_spread": "at_spread",
    "deviation": "deviation_centi",
    "total": "total_deviation_centi",
    "soft": "soft_penalty",
}

Expr = cp_model.LinearExprT


@dataclass
class FairnessTerms:
    """The fairness variables of every (doctor, tag) row, and of every doctor's total."""

    abs_dev: list[Expr] = field(default_factory=list)
    abs_top: list[int] = field(default_factory=list)
    """Each row's largest possible ``abs_r``."""
    excess: list[Expr] = field(default_factory=list)
    rows_of_tag: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    tag_max: dict[str, cp_model.IntVar] = field(default_factory=dict)
    max_excess: cp_model.IntVar | None = None
    at_spread: Expr | None = None
    total_of_doctor: dict[int, Expr] = field(default_factory=dict)
    total_top: dict[int, int] = field(default_factory=dict)
    """Each doctor's largest possible |total deviation|."""


def build_fairness(ctx: BuildContext) -> FairnessTerms:
    """Add the exact fairness variables of every row, each tag's largest deviation and totals."""
    model, inst = ctx.model, ctx.instance
    terms = FairnessTerms()
    total_dev: dict[int, list[Expr]] = defaultdict(list)
    total_top: dict[int, int] = defaultdict(int)
    largest_top = 0
    for row_idx, row in enumerate(inst.targets):
        pairs = [
            (inst.tag_points[s][row.tag], ctx.x[row.doctor_idx, s])
            for s in inst.shifts_of_doctor[row.doctor_idx]
            if row.tag in inst.tag_points[s]
        ]
        reach = sum(points for points, _ in pairs)
        terms.rows_of_tag[row.tag].append(row_idx)
        total_top[row.doctor_idx] += max(row.target_centi, reach - row.target_centi)
        if reach == 0:
            terms.abs_dev.append(row.target_centi)
            terms.abs_top.append(row.target_centi)
            terms.excess.append(max(0, row.target_centi - row.band_centi))
            total_dev[row.doctor_idx].append(-row.target_centi)
            largest_top = max(largest_top, row.target_centi)
            continue
        top = max(row.target_centi, reach - row.target_centi)
        largest_top = max(largest_top, top)
        # The deviation as a variable of its own: CP-SAT's presolve handles |var| far better
        # than the absolute value of a long sum.
        deviation = model.new_int_var(
            -row.target_centi, reach - row.target_centi, f"dev[{row_idx}]"
        )
        model.add(
            deviation
            == cp_model.LinearExpr.weighted_sum([v for _, v in pairs], [p for p, _ in pairs])
            - row.target_centi
        )
        distance = model.new_int_var(0, top, f"abs[{row_idx}]")
        model.add_abs_equality(distance, deviation)
        excess = model.new_int_var(0, max(0, top - row.band_centi), f"excess[{row_idx}]")
        model.add_max_equality(excess, [0, distance - row.band_centi])
        terms.abs_dev.append(distance)
        terms.abs_top.append(top)
        terms.excess.append(excess)
        total_dev[row.doctor_idx].append(deviation)
    terms.max_excess = model.new_int_var(0, largest_top, "max_excess")
    model.add_max_equality(terms.max_excess, [0, *terms.excess])
    for tag, rows in sorted(terms.rows_of_tag.items()):
        tag_max = model.new_int_var(0, largest_top, f"spread[{tag}]")
        model.add_max_equality(tag_max, [terms.abs_dev[r] for r in rows])
        terms.tag_max[tag] = tag_max
    for d_idx, parts in sorted(total_dev.items()):
        distance = model.new_int_var(0, total_top[d_idx], f"total[{d_idx}]")
        model.add_abs_equality(distance, cp_model.LinearExpr.sum(parts))
        terms.total_of_doctor[d_idx] = distance
        terms.total_top[d_idx] = total_top[d_idx]
    return terms


def build_at_spread(
    ctx: BuildContext, terms: FairnessTerms, largest: Mapping[str, int], *, pinned: bool = True
) -> Expr:
    """Count rows at their tag's largest deviation, that largest value fixed to ``largest``.

    Per tag t: spread[t] == largest[t]; per row r of t a Boolean b_r <=> abs_r >= largest[t]
    (exact both ways); the count is the sum of the b_r. In a neighbourhood's model, which may
    not hold a doctor at the largest value, ``pinned=False`` only caps spread[t] by it.
    """
    model = ctx.model
    at_largest: list[Expr] = []
    for tag, rows in sorted(terms.rows_of_tag.items()):
        value = largest[tag]
        if pinned:
            model.add(terms.tag_max[tag] == value)
        else:
            model.add(terms.tag_max[tag] <= value)
        for r in rows:
            distance = terms.abs_dev[r]
            if isinstance(distance, int):
                at_largest.append(int(distance >= value))
                continue
            at_largest.append(_at_least(model, distance, value))
    terms.at_spread = cp_model.LinearExpr.sum(at_largest)
    return terms.at_spread


def build_over_levels(
    ctx: BuildContext,
    terms: FairnessTerms,
    levels: Mapping[str, int],
    excess: int,
    scale: int,
    total_level: int | None = None,
) -> dict[int, Expr]:
    """Return each doctor's sum over their rows of scale x over_r + at_r (+ scale x over_total).

    over_r = max(0, abs_r - min(levels[tag], band_r + excess)) and at_r = [abs_r >= levels[tag]],
    each exact. With ``scale`` above the number of rows, a total below ``scale`` means that no
    row is above ``levels[tag]`` or more than ``excess`` outside its band (the roster's spread
    per tag and largest excess are at most those of the roster the levels come from), and the
    total is then how many rows sit at the levels (its at-spread count, where every tag's largest
    deviation is its level). With ``total_level``, over_total = max(0, |total deviation| -
    total_level) of the doctor counts as a row's over does.
    """
    model = ctx.model
    parts: dict[int, list[Expr]] = defaultdict(list)
    if total_level is not None:
        for d_idx, total in terms.total_of_doctor.items():
            top = terms.total_top[d_idx]
            if top > total_level:
                over = model.new_int_var(0, top - total_level, "")
                model.add_max_equality(over, [0, total - total_level])
                parts[d_idx].append(scale * over)
    for row_idx, row in enumerate(ctx.instance.targets):
        level = levels[row.tag]
        cap = row_cap(level, row.band_centi, excess)
        distance = terms.abs_dev[row_idx]
        if isinstance(distance, int):
            parts[row.doctor_idx].append(_over_level(distance, level, cap, scale))
            continue
        top = terms.abs_top[row_idx]
        if top > cap:
            over = model.new_int_var(0, top - cap, "")
            model.add_max_equality(over, [0, distance - cap])
            parts[row.doctor_idx].append(scale * over)
        if top >= level:
            parts[row.doctor_idx].append(_at_least(model, distance, level))
    return {d_idx: cp_model.LinearExpr.sum(rows) for d_idx, rows in sorted(parts.items())}


def _over_level(distance: int, level: int, cap: int, scale: int) -> int:
    return scale * max(0, distance - cap) + int(distance >= level)


def over_levels(
    instance: Instance,
    chosen: Iterable[Pair],
    levels: Mapping[str, int],
    excess: int,
    scale: int,
    total_level: int | None = None,
) -> dict[int, int]:
    """Return each doctor's part of :func:`build_over_levels` for a roster (in Python)."""
    parts: dict[int, int] = defaultdict(int)
    totals: dict[int, int] = defaultdict(int)
    for row, deviation in zip(instance.targets, row_deviations(instance, chosen), strict=True):
        level = levels[row.tag]
        cap = row_cap(level, row.band_centi, excess)
        parts[row.doctor_idx] += _over_level(abs(deviation), level, cap, scale)
        totals[row.doctor_idx] += deviation
    if total_level is not None:
        for d_idx, total in totals.items():
            parts[d_idx] += scale * max(0, abs(total) - total_level)
    return dict(parts)


def _at_least(model: cp_model.CpModel, distance: Expr, value: int) -> cp_model.IntVar:
    """Return a Boolean b <=> distance >= value (exact both ways)."""
    sits = model.new_bool_var("")
    model.add(distance >= value).only_enforce_if(sits)
    model.add(distance <= value - 1).only_enforce_if(sits.Not())
    return sits


def row_cap(level: int, band: int, excess: int) -> int:
    """Return how far a row may be off in the repair: its tag's level, or band + excess if less."""
    return min(level, band + excess)


def stage_objectives(
    ctx: BuildContext, terms: FairnessTerms, keep: Collection[Pair]
) -> dict[str, Expr]:
    """Return the expression of every stage but ``at_spread`` (built when it starts)."""
    soft = cp_model.LinearExpr.sum(
        [p.weight * p.term for penalties in ctx.penalties.values() for p in penalties]
    )
    assert terms.max_excess is not None
    # A kept pair without a variable (its doctor can no longer do it) is a forced change.
    changes = cp_model.LinearExpr.sum([1 - ctx.x[p] if p in ctx.x else 1 for p in sorted(keep)])
    return {
        "changes": changes,
        "max_excess": terms.max_excess,
        "sum_excess": cp_model.LinearExpr.sum(terms.excess),
        "spread": cp_model.LinearExpr.sum(list(terms.tag_max.values())),
        "deviation": cp_model.LinearExpr.sum(terms.abs_dev),
        "total": cp_model.LinearExpr.sum(list(terms.total_of_doctor.values())),
        "soft": soft,
    }


def penalty_by_rule(ctx: BuildContext) -> dict[str, Expr]:
    """Return each soft rule's weighted penalty expression, for comparison with the checker."""
    return {
        str(rule): cp_model.LinearExpr.sum([p.weight * p.term for p in penalties])
        for rule, penalties in ctx.penalties.items()
        if penalties
    }


def penalty_by_doctor(ctx: BuildContext) -> dict[int, Expr]:
    """Return each doctor's weighted soft penalty (every soft rule is a doctor's own)."""
    parts: dict[int, list[Expr]] = defaultdict(list)
    for penalties in ctx.penalties.values():
        for p in penalties:
            parts[p.doctor_idx].append(p.weight * p.term)
    return {d_idx: cp_model.LinearExpr.sum(terms) for d_idx, terms in sorted(parts.items())}


def deviation_by_doctor(ctx: BuildContext, terms: FairnessTerms) -> dict[int, Expr]:
    """Return each doctor's part of the summed deviation: their rows' |points - target|."""
    parts: dict[int, list[Expr]] = defaultdict(list)
    for row_idx, row in enumerate(ctx.instance.targets):
        parts[row.doctor_idx].append(terms.abs_dev[row_idx])
    return {d_idx: cp_model.LinearExpr.sum(rows) for d_idx, rows in sorted(parts.items())}


def doctor_parts(ctx: BuildContext, terms: FairnessTerms, stage: str) -> dict[int, Expr] | None:
    """Return each doctor's own part of a summed stage's expression (None for other stages)."""
    if stage == "soft":
        return penalty_by_doctor(ctx)
    if stage == "deviation":
        return deviation_by_doctor(ctx, terms)
    if stage == "total":
        return terms.total_of_doctor
    if stage == "sum_excess":
        parts: dict[int, list[Expr]] = defaultdict(list)
        for row_idx, row in enumerate(ctx.instance.targets):
            parts[row.doctor_idx].append(terms.excess[row_idx])
        return {d_idx: cp_model.LinearExpr.sum(rows) for d_idx, rows in sorted(parts.items())}
    return None


def row_deviations(instance: Instance, chosen: Iterable[Pair]) -> list[int]:
    """Return every fairness row's points - target for a roster, by row (in Python)."""
    earned: dict[tuple[int, str], int] = {}
    for d_idx, s_idx in chosen:
        for tag, points in instance.tag_points[s_idx].items():
            earned[d_idx, tag] = earned.get((d_idx, tag), 0) + points
    return [earned.get((row.doctor_idx, row.tag), 0) - row.target_centi for row in instance.targets]


def row_distances(instance: Instance, chosen: Iterable[Pair]) -> list[int]:
    """Return every fairness row's |points - target| for a roster, by row (in Python)."""
    return [abs(deviation) for deviation in row_deviations(instance, chosen)]
