"""Per-tag relaxations: small CP-SAT models whose optimum bounds a fairness stage from below.

A tag's rows (doctor, tag) only depend on the shifts that carry the tag. Two relaxations of
the full model are solved per group of doctors sharing the tag's shifts, and the better bound
kept. The first keeps those shifts with coverage, eligibility, overlap and rest among them. The
second keeps
only how many blocks of each size (points on the tag) every doctor takes: ``n[r, k]`` between 0
and the number of eligible blocks of size k, and the blocks of each size all taken
(``sum over r of n[r, k]`` = seats of size k). Time, rest and every other tag are dropped, so
any roster of the full model gives a solution here and the relaxation's optimum (or any bound
CP-SAT proves on it) bounds the full model's term from below. It is a choice among block-count
patterns per doctor: 260 doctors and a handful of block sizes solve in well under a second,
where the LP relaxation of the full model spreads blocks fractionally and proves almost
nothing. Doctors who share no shift of the tag are solved apart (one area's nights do not
interact with the next area's).

Each relaxation bounds one of three things (``objective``): the tag's largest deviation (the
spread stage), its summed deviation (the deviation stage), or, with the largest held at a
value, how many rows sit there (the at-spread stage: where seats are scarce the pigeonhole
leaves several doctors at the largest deviation, which the floors alone do not see).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from wachtplanner.solver.instance import Instance, TagGroup, interval_cliques


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
    seats: dict[int, int] = defaultdict(int)
    for s in group.shifts:
        seats[instance.tag_points[s][tag]] += instance.shifts[s].need
    counts: dict[tuple[int, int], cp_model.IntVar] = {}
    deviations: list[_Deviation] = []
    for r in group.rows:
        row = instance.targets[r]
        eligible: dict[int, int] = defaultdict(int)
        for s in instance.shifts_of_doctor[row.doctor_idx]:
            if tag in instance.tag_points[s]:
                eligible[instance.tag_points[s][tag]] += 1
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
    for size, total in seats.items():
        model.add(sum(v for (_, k), v in counts.items() if k == size) == total)
    _minimise(model, objective, deviations, cap)
    return _bound(model, time_limit_s, num_workers, deterministic_s)


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
    deterministic_s: float | None = None,
) -> int:
    """Return a lower bound on a tag's largest, summed, or count at ``cap`` of |deviation|.

    ``objective`` is ``max``, ``sum`` or ``at`` (how many of its rows sit at ``cap``).

    ``cap`` restricts every row to at most that deviation (valid once the full model does;
    the at-spread stage pins the tag's largest deviation to it, so one row at least sits
    there). Groups are solved until ``deadline`` (``time.perf_counter()``); those left get 0.
    With ``deterministic_s`` the groups share that much deterministic time instead (tests).
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
        # counts cannot see, and first: time one leaves over goes to the next. Both bounds are
        # valid; the better one is kept.
        relaxations = [_group_bound_counts]
        if _conflicts(instance, group):
            relaxations.insert(0, _group_bound_shifts)
        best = 0
        for order, relax in enumerate(relaxations):
            left = len(relaxations) - order
            best = max(
                best,
                relax(
                    instance,
                    tag,
                    group,
                    objective=objective,
                    cap=cap,
                    time_limit_s=(group_deadline - time.perf_counter()) / left,
                    num_workers=num_workers,
                    deterministic_s=None if deterministic is None else deterministic / left,
                ),
            )
        bounds.append(best)
    if objective == "max":
        return max(bounds, default=0)
    if objective == "at":
        return max(1, sum(bounds))
    return sum(bounds)
