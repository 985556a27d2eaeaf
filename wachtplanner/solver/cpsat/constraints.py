"""One builder per rule (``RULE_BUILDERS``); soft rules add weighted penalty terms.

Scope, role, unavailability, exemption and the supervisor's absence are not here: they remove
variables instead (``solver.instance.PAIR_FILTERS``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from wachtplanner.solver.instance import Instance, interval_cliques, touched_dates

Pair = tuple[int, int]
"""(doctor_idx, shift_idx)"""


@dataclass(frozen=True)
class Penalty:
    """A weighted soft term, and its value computed directly from a set of chosen pairs.

    The direct value lets the solver state the exact objective of any roster (a warm start, or
    a solution whose auxiliary variables are loose) without asking CP-SAT.
    """

    weight: int
    term: cp_model.LinearExprT
    value: Callable[[Collection[Pair]], int]


@dataclass
class BuildContext:
    """The model under construction and what builders share."""

    model: cp_model.CpModel
    instance: Instance
    x: dict[Pair, cp_model.IntVar]
    penalties: dict[str, list[Penalty]] = field(default_factory=lambda: defaultdict(list))
    aux: list[tuple[cp_model.IntVar, Callable[[Collection[Pair]], int]]] = field(
        default_factory=list
    )
    """Auxiliary variables with their value for a given assignment, to complete hints."""

    def eligible(self, d_idx: int) -> tuple[int, ...]:
        """Return the shifts a doctor has a variable for."""
        return self.instance.shifts_of_doctor[d_idx]


def build_coverage(ctx: BuildContext) -> None:
    """Every shift s: sum over eligible doctors d of x[d, s] == need(s)."""
    for s_idx, shift in enumerate(ctx.instance.shifts):
        ctx.model.add(
            sum(ctx.x[d, s_idx] for d in ctx.instance.doctors_of_shift[s_idx]) == shift.need
        )


def _at_most_one_per_clique(ctx: BuildContext, slack_min: int) -> None:
    inst = ctx.instance
    for d_idx in range(len(inst.doctors)):
        for group in interval_cliques(
            ctx.eligible(d_idx), inst.start_min, inst.end_min, slack=slack_min
        ):
            ctx.model.add_at_most_one(ctx.x[d_idx, s] for s in group)


def build_overlap(ctx: BuildContext) -> None:
    """Per doctor, at most one of any set of shifts that share a moment.

    With a rest rule the rest cliques contain every overlap clique, so this adds nothing then.
    """
    if ctx.instance.scenario.rules.min_rest_hours == 0:
        _at_most_one_per_clique(ctx, 0)


def build_rest(ctx: BuildContext) -> None:
    """Per doctor, at most one of any set of shifts whose ``[start, end + rest)`` share a moment.

    Two duties a and b (a first) then satisfy start(b) >= end(a) + rest.
    """
    rest_min = round(ctx.instance.scenario.rules.min_rest_hours * 60)
    if rest_min > 0:
        _at_most_one_per_clique(ctx, rest_min)


def build_supervision(ctx: BuildContext) -> None:
    """A trainee's shift t excludes every other shift of the supervisor that overlaps t.

    For each overlap group G of the trainee's and supervisor's shifts and each trainee shift
    i in G: x[trainee, i] + sum over j in G, j != i, of x[supervisor, j] <= 1.
    """
    inst = ctx.instance
    index = inst.doctor_index()
    for t_idx, trainee in enumerate(inst.doctors):
        if trainee.role != "trainee" or trainee.supervisor is None:
            continue
        s_idx = index[trainee.supervisor]
        own, theirs = set(ctx.eligible(t_idx)), set(ctx.eligible(s_idx))
        for group in interval_cliques(sorted(own | theirs), inst.start_min, inst.end_min):
            for i in group:
                if i not in own:
                    continue
                others = [ctx.x[s_idx, j] for j in group if j != i and j in theirs]
                if others:
                    ctx.model.add(ctx.x[t_idx, i] + sum(others) <= 1)


def build_monthly_cap(ctx: BuildContext) -> None:
    """Cap duty minutes per doctor and month of local start.

    Hard: sum of minutes <= cap. Soft: over = ceil(max(0, minutes - cap) / 60), cost
    weight_per_hour * over.
    """
    rule = ctx.instance.scenario.rules.max_hours_per_month
    if rule is None:
        return
    inst = ctx.instance
    cap_min = round(rule.hours * 60)
    for d_idx in range(len(inst.doctors)):
        months: dict[tuple[int, int], list[int]] = defaultdict(list)
        for s in ctx.eligible(d_idx):
            start = inst.shifts[s].start
            months[start.year, start.month].append(s)
        for shifts in months.values():
            minutes = [inst.end_min[s] - inst.start_min[s] for s in shifts]
            if sum(minutes) <= cap_min:
                continue
            load = sum(m * ctx.x[d_idx, s] for m, s in zip(minutes, shifts, strict=True))
            if rule.hard:
                ctx.model.add(load <= cap_min)
                continue
            # Exact, not just bounded: over = ceil(max(0, load - cap) / 60), so the term's value
            # is fixed by the assignment even in a solution that is not optimal.
            excess_min = ctx.model.new_int_var(0, sum(minutes) - cap_min, "")
            ctx.model.add_max_equality(excess_min, [0, load - cap_min])
            hours_over = _hours_over(d_idx, shifts, minutes, cap_min)
            ctx.aux.append((excess_min, _minutes_over(d_idx, shifts, minutes, cap_min)))
            over = ctx.model.new_int_var(0, -(-(sum(minutes) - cap_min) // 60), "")
            ctx.model.add(60 * over >= excess_min)
            ctx.model.add(60 * over <= excess_min + 59)
            ctx.aux.append((over, hours_over))
            ctx.penalties["monthly_cap"].append(Penalty(rule.weight_per_hour, over, hours_over))


def build_weekend_spacing(ctx: BuildContext) -> None:
    """Space a doctor's weekend shifts at least ``days`` apart (by local start date).

    For a closer pair a, b: forbidden (hard), or z = x[a] AND x[b] with cost weight * z.
    """
    rule = ctx.instance.scenario.rules.min_days_between_weekends
    if rule is None:
        return
    inst = ctx.instance
    for d_idx in range(len(inst.doctors)):
        weekends = [s for s in ctx.eligible(d_idx) if inst.shifts[s].weekend]
        weekends.sort(key=lambda s: inst.shifts[s].start)
        for position, a in enumerate(weekends):
            for b in weekends[position + 1 :]:
                if (inst.shifts[b].start_date - inst.shifts[a].start_date).days >= rule.days:
                    break
                first, second = ctx.x[d_idx, a], ctx.x[d_idx, b]
                if rule.hard:
                    ctx.model.add_bool_or([first.Not(), second.Not()])
                elif rule.weight > 0:
                    both = ctx.model.new_bool_var("")
                    ctx.model.add_implication(both, first)
                    ctx.model.add_implication(both, second)
                    ctx.model.add_bool_or([first.Not(), second.Not(), both])
                    value = _all_chosen((d_idx, a), (d_idx, b))
                    ctx.aux.append((both, value))
                    ctx.penalties["weekend_spacing"].append(Penalty(rule.weight, both, value))


def build_avoid(ctx: BuildContext) -> None:
    """Cost ``avoid_weight`` for x[d, s] when shift s touches one of doctor d's avoid dates."""
    weight = ctx.instance.scenario.rules.avoid_weight
    inst = ctx.instance
    for d_idx, doctor in enumerate(inst.doctors):
        if not doctor.avoid or weight == 0:
            continue
        avoid = set(doctor.avoid)
        for s in ctx.eligible(d_idx):
            if not avoid.isdisjoint(touched_dates(inst.shifts[s])):
                ctx.penalties["avoid"].append(
                    Penalty(weight, ctx.x[d_idx, s], _all_chosen((d_idx, s)))
                )


def _all_chosen(*pairs: Pair) -> Callable[[Collection[Pair]], int]:
    return lambda chosen: int(all(p in chosen for p in pairs))


def _minutes_over(
    d_idx: int, shifts: list[int], minutes: list[int], cap_min: int
) -> Callable[[Collection[Pair]], int]:
    def value(chosen: Collection[Pair]) -> int:
        load = sum(m for s, m in zip(shifts, minutes, strict=True) if (d_idx, s) in chosen)
        return max(0, load - cap_min)

    return value


def _hours_over(
    d_idx: int, shifts: list[int], minutes: list[int], cap_min: int
) -> Callable[[Collection[Pair]], int]:
    over = _minutes_over(d_idx, shifts, minutes, cap_min)
    return lambda chosen: -(-over(chosen) // 60)


RULE_BUILDERS: dict[str, Callable[[BuildContext], None]] = {
    "coverage": build_coverage,
    "overlap": build_overlap,
    "rest": build_rest,
    "supervision": build_supervision,
    "monthly_cap": build_monthly_cap,
    "weekend_spacing": build_weekend_spacing,
    "avoid": build_avoid,
}
