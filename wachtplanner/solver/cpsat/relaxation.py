"""Per-tag relaxations: small CP-SAT models whose optimum bounds a fairness stage from below.

A tag's rows (doctor, tag) only depend on the shifts that carry the tag. Two relaxations of
the full model are solved per group of doctors sharing the tag's shifts, and the better bound
kept. The first keeps those shifts with coverage, eligibility, overlap and rest among them. The
second keeps only how many blocks of each size (points on the tag) every doctor takes, and the
blocks of each size all taken. Time, rest and every other tag are dropped, so any roster of
the full model gives a solution here and the relaxation's optimum (or any bound CP-SAT proves
on it) bounds the full model's term from below.

That second relaxation is stated as a choice of one pattern per doctor (how many blocks of
each size, with its deviation), among the patterns within the stage's cap (``_group_bound_
patterns``): CP-SAT's LP then sees each doctor's choices whole, and the 250-GP year's weekend
is proven in a fraction of a second (its largest deviation and its sum), where the LP
relaxation of the full model spreads blocks fractionally and proves almost nothing. Where a
group has too many patterns within the cap, the same relaxation through a count per size
(``_group_bound_counts``). Doctors who share no shift of the tag are solved apart (one
area's nights do not interact with the next area's).

Each relaxation bounds one of three things (``objective``): the tag's largest deviation (the
spread stage), its summed deviation (the deviation stage), or, with the largest held at a
value, how many rows sit there (the at-spread stage: where seats are scarce the pigeonhole
leaves several doctors at the largest deviation, which the floors alone do not see).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from wachtplanner.solver.instance import Instance, TagGroup, interval_cliques


def _eligible(instance: Instance, tag: str, row: int) -> dict[int, int]:
    """Return how many of the tag's shifts of each size (points) a row's doctor can take."""
    eligible: dict[int, int] = defaultdict(int)
    for s in instance.shifts_of_doctor[instance.targets[row].doctor_idx]:
        if tag in instance.tag_points[s]:
            eligible[instance.tag_points[s][tag]] += 1
    return eligible


def _seats(instance: Instance, tag: str, group: TagGroup) -> dict[int, int]:
    """Return how many seats of each size (points) the group's shifts hold."""
    seats: dict[int, int] = defaultdict(int)
    for s in group.shifts:
        seats[instance.tag_points[s][tag]] += instance.shifts[s].need
    return seats


def _group_bound_counts(
    instance: Instance,
    tag: str,
    group: TagGroup,
    *,
    objective: str,
    cap: int | None,
    time_limit_s: float,
    num_workers: int,
    deterministic_s: float | None,
) -> int:
    model = cp_model.CpModel()
    counts: dict[tuple[int, int], cp_model.IntVar] = {}
    deviations: list[_Deviation] = []
    for r in group.rows:
        row = instance.targets[r]
        eligible = _eligible(instance, tag, r)
        reach = sum(size * n for size, n in eligible.items())
        for size, n in eligible.items():
            counts[r, size] = model.new_int_var(0, n, "")
        sizes = sorted(eligible)
        deviation = _deviation(
            model,
            row.target_centi,
            reach,
            cap,
            cp_model.LinearExpr.weighted_sum([counts[r, k] for k in sizes], sizes),
        )
        if deviation is None:
            return 0  # the cap is not reachable here; the full model will say why
        deviations.append(deviation)
    for size, total in _seats(instance, tag, group).items():
        model.add(sum(v for (_, k), v in counts.items() if k == size) == total)
    _minimise(model, objective, deviations, cap)
    return _bound(model, time_limit_s, num_workers, deterministic_s)


@dataclass(frozen=True)
class _Pattern:
    """How many blocks of each size a doctor takes, and their points - target."""

    takes: tuple[tuple[int, int], ...]
    """(size, count) for every size taken at least once."""
    deviation: int


def _patterns(
    eligible: Mapping[int, int], target: int, within: int, limit: int
) -> list[_Pattern] | None:
    """Return every count of blocks per size that ends within ``within`` of ``target``.

    None where there are more than ``limit``.
    """
    sizes = sorted(eligible)
    # What the sizes from i on can add at most: a partial count that cannot get within
    # reach of target - within is cut at once.
    reach_from = [0] * (len(sizes) + 1)
    for i in range(len(sizes) - 1, -1, -1):
        reach_from[i] = reach_from[i + 1] + sizes[i] * eligible[sizes[i]]
    found: list[_Pattern] = []

    def extend(i: int, points: int, takes: tuple[tuple[int, int], ...]) -> bool:
        """Add the patterns that start with ``takes``; False once over the limit."""
        if points + reach_from[i] < target - within:
            return True
        if i == len(sizes):
            found.append(_Pattern(takes, points - target))
            return len(found) <= limit
        size = sizes[i]
        for n in range(eligible[size] + 1):
            if points + n * size > target + within:
                break  # the sizes are ascending: more blocks only go further above
            if not extend(i + 1, points + n * size, (*takes, (size, n)) if n else takes):
                return False
        return True

    return found if extend(0, 0, ()) else None


_PATTERNS_PER_ROW = 40
"""A group with more patterns within its limit (on average per row) is relaxed through its
counts (``_group_bound_counts``). The 250-GP year's weekend has 8.5 per row within 48.03
points of target, the 500-GP year's 8.3 within 48.50. On a 20-GP year's weekend, summed
within 60 points (39 per row), the patterns prove 281.22 points in 0.3 s where the counts
had 155.16 after 10 s; within 165 points (100 per row) the patterns had 14.32 after 20 s,
the counts 141.74."""


def _group_patterns(
    instance: Instance, tag: str, group: TagGroup, within: int
) -> list[list[_Pattern]] | None:
    """Return each row's patterns within ``within`` of its target (None: too many)."""
    rows: list[list[_Pattern]] = []
    left = _PATTERNS_PER_ROW * len(group.rows)
    for r in group.rows:
        target = instance.targets[r].target_centi
        patterns = _patterns(_eligible(instance, tag, r), target, within, left)
        if patterns is None:
            return None
        left -= len(patterns)
        rows.append(patterns)
    return rows


_Choices = list[list[tuple[cp_model.IntVar, int]]]
"""Per row, each pattern it may take as (variable, signed deviation)."""


def _pattern_model(
    rows: list[list[_Pattern]], seats: Mapping[int, int], within: int
) -> tuple[cp_model.CpModel, _Choices]:
    """Return a model choosing one pattern per row within ``within``, every seat taken."""
    model = cp_model.CpModel()
    return model, _add_choices(model, rows, seats, within)


def _add_choices(
    model: cp_model.CpModel, rows: list[list[_Pattern]], seats: Mapping[int, int], within: int
) -> _Choices:
    """Add one pattern per row within ``within`` to ``model``, every seat of a group taken."""
    choices: _Choices = []
    uses: dict[int, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    for patterns in rows:
        options = []
        for pattern in patterns:
            if abs(pattern.deviation) > within:
                continue
            chosen = model.new_bool_var("")
            options.append((chosen, pattern.deviation))
            for size, n in pattern.takes:
                uses[size].append((chosen, n))
        model.add_exactly_one(chosen for chosen, _ in options)
        choices.append(options)
    for size, total in seats.items():
        taken = uses.get(size, [])
        model.add_linear_constraint(
            cp_model.LinearExpr.weighted_sum([v for v, _ in taken], [n for _, n in taken]),
            total,
            total,
        )
    return choices


def _group_bound_patterns(
    instance: Instance,
    tag: str,
    group: TagGroup,
    *,
    objective: str,
    cap: int | None,
    within: int | None,
    time_limit_s: float,
    num_workers: int,
    deterministic_s: float | None,
) -> int:
    """Bound a group through a choice of one block-count pattern per row.

    The same relaxation as ``_group_bound_counts`` (any roster's counts are one pattern per
    row), stated so that CP-SAT's LP sees each row's choices whole: the 250-GP year's summed
    weekend deviation is proven (5 371.63 points) in 0.26 s, where the counts had 5 358.51
    after 10 s; its largest (48.03) in 0.2 s by probes (``_largest_by_probes``) against 5 s
    through the counts. Rows keep within ``cap`` where
    given; for the largest deviation within ``within``, the roster's value on the tag (its
    counts are a solution, so the bound is not cut). Without either, or with too many
    patterns, the counts.
    """
    limit = cap if cap is not None else within if objective == "max" else None
    rows = None if limit is None else _group_patterns(instance, tag, group, limit)
    if limit is None or rows is None:
        return _group_bound_counts(
            instance,
            tag,
            group,
            objective=objective,
            cap=cap,
            time_limit_s=time_limit_s,
            num_workers=num_workers,
            deterministic_s=deterministic_s,
        )
    if any(not patterns for patterns in rows):
        return 0  # the cap is not reachable here; the full model will say why
    seats = _seats(instance, tag, group)
    if objective == "max":
        return _largest_by_probes(
            rows, seats, time.perf_counter() + time_limit_s, num_workers, deterministic_s
        )
    model, choices = _pattern_model(rows, seats, limit)
    if objective == "at":
        model.minimize(
            sum(
                chosen
                for options in choices
                for chosen, deviation in options
                if abs(deviation) == limit
            )
        )
    else:
        model.minimize(
            cp_model.LinearExpr.weighted_sum(
                [chosen for options in choices for chosen, _ in options],
                [abs(deviation) for options in choices for _, deviation in options],
            )
        )
    return _bound(model, time_limit_s, num_workers, deterministic_s)


_DESCENTS = 3
"""Probes just below the largest level reached before halving the levels left. The 500-GP
year's weekend: the roster at 48.50 points, a choice at 48.45 below it, none below that;
halving from there took 9 more probes (4.1 s), the descent one (0.9 s)."""


def _largest_by_probes(
    rows: list[list[_Pattern]],
    seats: Mapping[int, int],
    deadline: float,
    num_workers: int,
    deterministic_s: float | None,
) -> int:
    """Return the least largest |deviation| of a pattern choice, or a bound when out of time.

    Asks whether every row can keep within a level, first just below the largest one (the
    roster's value, most often the optimum: one proof of infeasibility settles it) or below
    the largest a pattern choice reached, then by halving. Each answer is quick (0.4-0.5 s
    on the 500-GP year's weekend), where minimising the largest directly proved 42.59 of
    48.45 points there in 30 s.
    """
    levels = sorted({abs(p.deviation) for patterns in rows for p in patterns})
    # No row can do better than its nearest pattern.
    low = levels.index(max(min(abs(p.deviation) for p in patterns) for patterns in rows))
    high = len(levels) - 1
    probe = high - 1
    descents = 0
    left = deterministic_s
    while low < high:
        model, choices = _pattern_model(rows, seats, levels[probe])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = num_workers
        solver.parameters.max_time_in_seconds = max(0.05, deadline - time.perf_counter())
        if left is not None:
            solver.parameters.max_deterministic_time = left / 2
        code = solver.solve(model)
        if left is not None:
            left -= solver.deterministic_time
        if code == cp_model.INFEASIBLE:
            low = probe + 1
        elif code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            reached = max(
                abs(deviation)
                for options in choices
                for chosen, deviation in options
                if solver.boolean_value(chosen)
            )
            high = levels.index(reached)
        else:
            break  # out of time: what is proven so far
        if time.perf_counter() >= deadline or (left is not None and left <= 0):
            break
        descents += 1
        probe = high - 1 if descents < _DESCENTS else (low + high) // 2
    return levels[low]


@dataclass(frozen=True)
class _Deviation:
    """A row's points - target as a linear expression, and the range it can take."""

    expression: cp_model.LinearExprT
    low: int
    high: int


def _deviation(
    model: cp_model.CpModel, target: int, reach: int, cap: int | None, points: cp_model.LinearExprT
) -> _Deviation | None:
    """Return a row's points - target, within ``cap`` where given (None: out of its reach)."""
    low, high = -target, reach - target
    if cap is not None:
        low, high = max(low, -cap), min(high, cap)
        if low > high:
            return None
        model.add(points - target <= cap)
        model.add(points - target >= -cap)
    return _Deviation(points - target, low, high)


def _minimise(
    model: cp_model.CpModel, objective: str, deviations: list[_Deviation], cap: int | None
) -> None:
    """Set the relaxation's objective on the rows' signed deviations.

    ``max``: the largest |deviation|; ``sum``: their sum; ``at``: how many rows sit at ``cap``,
    which caps every row (the at-spread stage pins the tag's largest deviation to it).

    How each is stated is measured, with 2 workers (CP-SAT is sensitive to it here):

    * the count on the linear expressions: the 50-GP quarter's weekend proves 9 at once, where
      through a variable per row (its domain within the cap, or its absolute value) nothing
      in 10 s;
    * the largest through a variable per row bounded by it on both sides, no absolute value:
      the 250-GP year's weekend in 2.1-3.6 s against 3.5-4.7 s with |deviation| (2.4 points
      of 48.03 in 15 s on the expressions), the split post's holiday in 0.2 s against 5.5 s,
      the 500-GP year's weekend 44-48 points in 14-15 s against 3.7;
    * the sum through exact |deviation| (below).
    """
    if objective == "at":
        assert cap is not None
        at_cap = []
        for row in deviations:
            if -row.low < cap and row.high < cap:
                continue
            sits = model.new_bool_var("")
            model.add(row.expression <= cap - 1).only_enforce_if(sits.Not())
            model.add(row.expression >= 1 - cap).only_enforce_if(sits.Not())
            at_cap.append(sits)
        model.minimize(sum(at_cap))
        return
    if objective == "max":
        largest = model.new_int_var(
            0, max((max(-row.low, row.high) for row in deviations), default=0), ""
        )
        for row in deviations:
            deviation = model.new_int_var(row.low, row.high, "")
            model.add(deviation == row.expression)
            model.add(deviation <= largest)
            model.add(-deviation <= largest)
        model.minimize(largest)
        return
    # The sum through exact |deviation| of a variable per row: CP-SAT's bounds out of time are
    # higher so (the 100-GP year's weekend, 15 s: 1 515.96 against 1 454.21 with distances
    # only bounded from below).
    distances = []
    for row in deviations:
        deviation = model.new_int_var(row.low, row.high, "")
        model.add(deviation == row.expression)
        distance = model.new_int_var(0, max(-row.low, row.high), "")
        model.add_abs_equality(distance, deviation)
        distances.append(distance)
    model.minimize(sum(distances))


def _bound(
    model: cp_model.CpModel, time_limit_s: float, num_workers: int, deterministic_s: float | None
) -> int:
    """Solve a relaxation and return its optimum, or CP-SAT's bound on it when out of time."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit_s)
    solver.parameters.num_workers = num_workers
    if deterministic_s is not None:
        solver.parameters.max_deterministic_time = deterministic_s
    code = solver.solve(model)
    if code == cp_model.INFEASIBLE:
        return 0  # the cap is not reachable here; the full model will say why
    if code == cp_model.OPTIMAL:
        return max(0, round(solver.objective_value))
    return max(0, math.ceil(solver.best_objective_bound - 1e-6))


def _group_bound_shifts(
    instance: Instance,
    tag: str,
    group: TagGroup,
    *,
    objective: str,
    cap: int | None,
    time_limit_s: float,
    num_workers: int,
    deterministic_s: float | None,
) -> int:
    model = cp_model.CpModel()
    shifts = set(group.shifts)
    doctors = {instance.targets[r].doctor_idx for r in group.rows}
    x = {
        (d, s): model.new_bool_var("")
        for d in doctors
        for s in instance.shifts_of_doctor[d]
        if s in shifts
    }
    for s in group.shifts:
        model.add(sum(x[d, s] for d in instance.doctors_of_shift[s]) == instance.shifts[s].need)
    rest_min = round(instance.scenario.rules.min_rest_hours * 60)
    for d in doctors:
        mine = [s for s in instance.shifts_of_doctor[d] if s in shifts]
        for clique in interval_cliques(mine, instance.start_min, instance.end_min, slack=rest_min):
            model.add_at_most_one(x[d, s] for s in clique)
    deviations: list[_Deviation] = []
    for r in group.rows:
        row = instance.targets[r]
        mine = [s for s in instance.shifts_of_doctor[row.doctor_idx] if s in shifts]
        reach = sum(instance.tag_points[s][tag] for s in mine)
        deviation = _deviation(
            model,
            row.target_centi,
            reach,
            cap,
            cp_model.LinearExpr.weighted_sum(
                [x[row.doctor_idx, s] for s in mine], [instance.tag_points[s][tag] for s in mine]
            ),
        )
        if deviation is None:
            return 0  # the cap is not reachable here; the full model will say why
        deviations.append(deviation)
    _minimise(model, objective, deviations, cap)
    return _bound(model, time_limit_s, num_workers, deterministic_s)


def _conflicts(instance: Instance, group: TagGroup) -> bool:
    """Return whether two of the group's shifts cannot go to one doctor (overlap or rest)."""
    rest_min = round(instance.scenario.rules.min_rest_hours * 60)
    return bool(
        interval_cliques(group.shifts, instance.start_min, instance.end_min, slack=rest_min)
    )


def tag_bound(
    instance: Instance,
    tag: str,
    *,
    objective: str,
    deadline: float,
    num_workers: int,
    cap: int | None = None,
    within: int | None = None,
    deterministic_s: float | None = None,
) -> int:
    """Return a lower bound on a tag's largest, summed, or count at ``cap`` of |deviation|.

    ``objective`` is ``max``, ``sum`` or ``at`` (how many of its rows sit at ``cap``).

    ``cap`` restricts every row to at most that deviation (valid once the full model does;
    the at-spread stage pins the tag's largest deviation to it, so one row at least sits
    there). ``within`` is a roster's largest deviation on the tag: a bound on the largest
    need not look above it, so rows are held within it there. Groups are solved until
    ``deadline`` (``time.perf_counter()``); those left get 0. With ``deterministic_s`` the
    groups share that much deterministic time instead (tests).
    """
    bounds = []
    groups = instance.tag_groups(tag)
    if objective == "at":
        assert cap is not None
        # A doctor with none of the tag's shifts sits at their whole target, alone.
        bounds.append(
            sum(
                1
                for group in groups
                if not group.shifts and instance.targets[group.rows[0]].target_centi >= cap
            )
        )
    groups = [group for group in groups if group.shifts]
    for position, group in enumerate(groups):
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            break
        group_deadline = time.perf_counter() + remaining / (len(groups) - position)
        deterministic = None if deterministic_s is None else deterministic_s / len(groups)
        # Block counts bound seat scarcity (weekends). Where the tag's shifts conflict for one
        # doctor (consecutive holiday blocks: overlap or rest) the shifts themselves bound what
        # counts cannot see, and first, with half the time: time it leaves over goes to the
        # counts. Both bounds are valid; the better one is kept.
        best = 0
        if _conflicts(instance, group):
            best = _group_bound_shifts(
                instance,
                tag,
                group,
                objective=objective,
                cap=cap,
                time_limit_s=(group_deadline - time.perf_counter()) / 2,
                num_workers=num_workers,
                deterministic_s=None if deterministic is None else deterministic / 2,
            )
            if deterministic is not None:
                deterministic /= 2
        relaxed = _group_bound_patterns(
            instance,
            tag,
            group,
            objective=objective,
            cap=cap,
            within=within,
            time_limit_s=group_deadline - time.perf_counter(),
            num_workers=num_workers,
            deterministic_s=deterministic,
        )
        best = max(best, relaxed)
        bounds.append(best)
    if objective == "max":
        return max(bounds, default=0)
    if objective == "at":
        return max(1, sum(bounds))
    return sum(bounds)


_TOTAL_MIN_S = 0.5
"""Time left under which the total's relaxation is not built (``total_bound``)."""


def total_bound(
    instance: Instance,
    largest: Mapping[str, int],
    summed: int,
    *,
    deadline: float,
    num_workers: int,
    deterministic_s: float | None = None,
) -> int:
    """Return a lower bound on the summed |total deviation| of the doctors (the total stage).

    Every tag's groups in one model, a pattern per row within the tag's ``largest``, the
    rows' summed |deviation| at most ``summed`` (both held by the stages before), each
    doctor's total the sum of their rows' chosen deviations. The per-tag relaxations leave
    a doctor's tags apart; here a doctor short on weekends may only be evened out on nights
    as far as the night seats allow. On the 250-GP quarter it proves 4 261.23 points in 3 s
    (the roster 4 650.85; the floors 106.23), on the 250-GP year 4 098.68 in 2 s (5 747.54).
    Returns 0 where a tag has no largest or a group too many patterns, and without building
    the model where less than ``_TOTAL_MIN_S`` is left (building it takes 0.1-0.2 s on a
    circle year, past a deadline that close).
    """
    if deadline - time.perf_counter() < _TOTAL_MIN_S:
        return 0
    model = cp_model.CpModel()
    totals: dict[int, list[cp_model.LinearExprT]] = defaultdict(list)
    distances: list[cp_model.LinearExprT] = []
    for tag in sorted({row.tag for row in instance.targets}):
        if tag not in largest:
            return 0
        for group in instance.tag_groups(tag):
            if not group.shifts:
                for r in group.rows:
                    target = instance.targets[r]
                    totals[target.doctor_idx].append(-target.target_centi)
                    distances.append(target.target_centi)
                continue
            rows = _group_patterns(instance, tag, group, largest[tag])
            if rows is None:
                return 0
            choices = _add_choices(model, rows, _seats(instance, tag, group), largest[tag])
            for r, options in zip(group.rows, choices, strict=True):
                variables = [chosen for chosen, _ in options]
                totals[instance.targets[r].doctor_idx].append(
                    cp_model.LinearExpr.weighted_sum(variables, [d for _, d in options])
                )
                distances.append(
                    cp_model.LinearExpr.weighted_sum(variables, [abs(d) for _, d in options])
                )
    model.add(cp_model.LinearExpr.sum(distances) <= summed)
    summed_totals = []
    for parts in totals.values():
        # Through exact |total| of a variable, as for the summed deviation (``_minimise``):
        # with the distance only bounded from below the 250-GP quarter proved 3 283.73 points.
        total = model.new_int_var(-summed, summed, "")
        model.add(total == cp_model.LinearExpr.sum(parts))
        distance = model.new_int_var(0, summed, "")
        model.add_abs_equality(distance, total)
        summed_totals.append(distance)
    model.minimize(cp_model.LinearExpr.sum(summed_totals))
    return _bound(model, deadline - time.perf_counter(), num_workers, deterministic_s)
