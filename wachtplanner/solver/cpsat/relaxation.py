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
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from wachtplanner.solver.instance import Instance, interval_cliques


@dataclass(frozen=True)
class _Group:
    rows: list[int]
    shifts: list[int]


def _groups(instance: Instance, tag: str) -> list[_Group]:
    parent: dict[int, int] = {}

    def find(item: int) -> int:
        while parent.setdefault(item, item) != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    tagged = [s for s, tags in enumerate(instance.tag_points) if tag in tags]
    for s in tagged:
        doctors = instance.doctors_of_shift[s]
        for d in doctors:
            parent.setdefault(d, d)
            parent[find(d)] = find(doctors[0])
    rows: dict[int, list[int]] = defaultdict(list)
    shifts: dict[int, list[int]] = defaultdict(list)
    for r, row in enumerate(instance.targets):
        if row.tag == tag and row.doctor_idx in parent:
            rows[find(row.doctor_idx)].append(r)
    for s in tagged:
        if instance.doctors_of_shift[s]:
            shifts[find(instance.doctors_of_shift[s][0])].append(s)
    return [_Group(rows[root], shifts[root]) for root in rows if shifts[root]]


def _group_bound_counts(
    instance: Instance,
    tag: str,
    group: _Group,
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
    distances, tops = [], []
    for r in group.rows:
        row = instance.targets[r]
        eligible: dict[int, int] = defaultdict(int)
        for s in instance.shifts_of_doctor[row.doctor_idx]:
            if tag in instance.tag_points[s]:
                eligible[instance.tag_points[s][tag]] += 1
        reach = sum(size * n for size, n in eligible.items())
        for size, n in eligible.items():
            counts[r, size] = model.new_int_var(0, n, "")
        top = max(row.target_centi, reach - row.target_centi)
        tops.append(top if cap is None else min(top, cap))
        distance = model.new_int_var(0, tops[-1], "")
        deviation = model.new_int_var(-row.target_centi, reach - row.target_centi, "")
        sizes = sorted(eligible)
        model.add(
            deviation
            == cp_model.LinearExpr.weighted_sum([counts[r, k] for k in sizes], sizes)
            - row.target_centi
        )
        model.add_abs_equality(distance, deviation)
        distances.append(distance)
    for size, total in seats.items():
        model.add(sum(v for (_, k), v in counts.items() if k == size) == total)
    if objective == "max":
        largest = model.new_int_var(0, max(tops, default=0), "")
        model.add_max_equality(largest, distances)
        model.minimize(largest)
    else:
        model.minimize(sum(distances))
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
    group: _Group,
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
    distances, tops = [], []
    for r in group.rows:
        row = instance.targets[r]
        mine = [s for s in instance.shifts_of_doctor[row.doctor_idx] if s in shifts]
        reach = sum(instance.tag_points[s][tag] for s in mine)
        top = max(row.target_centi, reach - row.target_centi)
        tops.append(top if cap is None else min(top, cap))
        distance = model.new_int_var(0, tops[-1], "")
        deviation = model.new_int_var(-row.target_centi, reach - row.target_centi, "")
        model.add(
            deviation
            == cp_model.LinearExpr.weighted_sum(
                [x[row.doctor_idx, s] for s in mine], [instance.tag_points[s][tag] for s in mine]
            )
            - row.target_centi
        )
        model.add_abs_equality(distance, deviation)
        distances.append(distance)
    if objective == "max":
        largest = model.new_int_var(0, max(tops, default=0), "")
        model.add_max_equality(largest, distances)
        model.minimize(largest)
    else:
        model.minimize(sum(distances))
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


def _conflicts(instance: Instance, group: _Group) -> bool:
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
    """Return a lower bound on the tag's largest (``max``) or summed (``sum``) |deviation|.

    ``cap`` restricts every row to at most that deviation (valid once the full model does).
    Groups are solved until ``deadline`` (``time.perf_counter()``); those left get 0. With
    ``deterministic_s`` the groups share that much deterministic time instead (tests).
    """
    bounds = []
    groups = _groups(instance, tag)
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
    return sum(bounds)
