"""Large-neighbourhood search: re-solve a few doctors' whole rosters with everyone else fixed.

On circle-sized models the full search of a summed stage (the soft penalty above all) barely
moves within two workers' time: on the 250-GP quarter the soft stage ended 27 % below the
rotation in 35 s, and on the 250-GP year not at all. Most of what a coordinator sees there
(duties close together, uneven months) is repaired by trading duties between a handful of
colleagues, which CP-SAT proves optimal in a second when the other doctors' assignments are
fixed. So, after a short full search, a summed stage repeats:

1. pick a neighbourhood of doctors: colleagues eligible for one randomly drawn shift (so they
   can trade it: the same area's weeknights, the post's weekends), or doctors drawn at random;
2. fix the ``x`` of everyone else to the current roster (every constraint of the model stays,
   the previous stages' values included, so the fairness reached is never given up);
3. minimise the stage's expression from the current roster (a complete hint) and keep the
   result when it is lower.

The neighbourhood grows while its searches end proven in under half their time and shrinks when
they run out of time. With ``deterministic_time`` set, each search gets a fixed deterministic
budget and the loop stops on the deterministic time spent, so tests repeat exactly.

The working copy is one clone of the model, its ``x`` domains changed per neighbourhood (only
those of the doctors who enter or leave it), so a step costs the search and CP-SAT's presolve of
the fixed model, not a rebuild.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from wachtplanner.exceptions import SolverError
from wachtplanner.solver.cpsat.variables import Pair
from wachtplanner.solver.instance import Instance
from wachtplanner.solver.params import SolverParams

Expr = cp_model.LinearExprT

MIN_DOCTORS = 4
"""The smallest neighbourhood; a model with fewer than twice this many doctors is not split."""
_FIRST_SIZE = 10
_STEP_LIMIT_S = (0.6, 1.5)
"""Wall-clock limit of one neighbourhood's search: on a model up to ``_LARGE_MODEL`` pairs, and
on a larger one, where CP-SAT's load and presolve of the fixed model alone take ~0.6 s.
Measured at 60 s, 2 workers (soft penalty, one run each): the 250-GP quarter 6 467 with 1.5 s
and 4 409-4 976 with 0.4-0.8 s; the 100-GP year 35 188 with 1.5 s, 29 155 with 0.6 s; the
250-GP year 106 504 with 1.5 s, 111 941 with 0.6 s."""
_LARGE_MODEL = 100_000
_TARGETED_SHARE = 0.4
"""Share of neighbourhoods built around a doctor drawn by their own penalty."""
_SHIFT_SHARE = 0.35
"""Share built from the colleagues of one random shift; the rest is drawn at random."""
_MIN_STEP_S = 0.2
_STEP_DETERMINISTIC = 1.0
"""Deterministic limit of one neighbourhood's search (deterministic runs), at most a quarter
of the whole budget so that a small budget still makes several steps."""
_GROW_BELOW = 0.3
"""A proven search that used less than this share of its limit lets the neighbourhood grow."""


@dataclass
class LnsOutcome:
    """What the search ended with: the best solution, its value, and what it took."""

    solution: list[int]
    value: int
    solver: cp_model.CpSolver | None
    """The search whose solution is ``solution`` (None when no search was taken)."""
    num_steps: int
    num_improving: int


class Neighbourhoods:
    """Draw sets of doctors whose whole rosters are re-solved; their number adapts.

    Whole rosters rather than windows of days: the even-load penalty is lowered by moving a
    duty from a busy month to a quiet one months apart. (Measured on the 250-GP year: parts of
    a quarter's days prove faster but ended at 111 019 against 106 504 for whole rosters.)
    """

    def __init__(self, instance: Instance, seed: int) -> None:
        self.instance = instance
        self.rng = random.Random(seed)
        self.active = [d for d, shifts in enumerate(instance.shifts_of_doctor) if shifts]
        self.size = min(_FIRST_SIZE, max(MIN_DOCTORS, len(self.active) // 2))
        self._shifts = [s for s, doctors in enumerate(instance.doctors_of_shift) if doctors]

    def applies(self) -> bool:
        """Return whether the model has enough doctors for a neighbourhood to be a part."""
        return len(self.active) >= 2 * MIN_DOCTORS and bool(self._shifts)

    def pick(self, penalty_of_doctor: Mapping[int, int] | None = None) -> frozenset[int]:
        """Return the next neighbourhood.

        One of: a doctor drawn in proportion to their own penalty with colleagues who can take
        one of their shifts (when ``penalty_of_doctor`` is known); colleagues eligible for one
        randomly drawn shift; doctors drawn at random.
        """
        size = min(self.size, len(self.active))
        draw = self.rng.random()
        carrying = [d for d, penalty in (penalty_of_doctor or {}).items() if penalty > 0]
        if carrying and draw < _TARGETED_SHARE:
            assert penalty_of_doctor is not None
            weights = [penalty_of_doctor[d] for d in carrying]
            seed = self.rng.choices(carrying, weights)[0]
            shift = self.rng.choice(self.instance.shifts_of_doctor[seed])
            pool = [d for d in self.instance.doctors_of_shift[shift] if d != seed]
            return self._fill({seed}, pool, size)
        if draw < _TARGETED_SHARE + _SHIFT_SHARE:
            shift = self.rng.choice(self._shifts)
            return self._fill(set(), list(self.instance.doctors_of_shift[shift]), size)
        return frozenset(self.rng.sample(self.active, size))

    def _fill(self, chosen: set[int], pool: list[int], size: int) -> frozenset[int]:
        """Add doctors of ``pool`` to ``chosen`` up to ``size``, then others at random."""
        wanted = size - len(chosen)
        if len(pool) >= wanted:
            return frozenset(chosen | set(self.rng.sample(pool, wanted)))
        chosen |= set(pool)
        others = [d for d in self.active if d not in chosen]
        return frozenset(chosen | set(self.rng.sample(others, size - len(chosen))))

    def feedback(self, *, proven: bool, used_share: float) -> None:
        """Grow after a quick proof, shrink after a search that ran out of time."""
        if proven and used_share < _GROW_BELOW:
            self.size = min(len(self.active) // 2, self.size + 2)
        elif not proven:
            self.size = max(MIN_DOCTORS, self.size - 1)


class _WorkingCopy:
    """A clone of the model whose ``x`` outside the neighbourhood are fixed to the roster."""

    def __init__(self, model: cp_model.CpModel, x: Mapping[Pair, cp_model.IntVar]) -> None:
        self.model = model.clone()
        self.variables = self.model.proto.variables
        self.x_of_doctor: dict[int, list[int]] = {}
        for (d_idx, _), var in x.items():
            self.x_of_doctor.setdefault(d_idx, []).append(var.index)
        self.free: frozenset[int] = frozenset()
        self._fixed_to: dict[int, int] = {}

    def _set(self, index: int, low: int, high: int) -> None:
        domain = self.variables[index].domain
        domain.clear()
        domain.extend([low, high])

    def open(self, doctors: frozenset[int], solution: Sequence[int]) -> None:
        """Free the ``x`` of ``doctors``, fix every other ``x`` to ``solution``."""
        for d_idx, indices in self.x_of_doctor.items():
            if d_idx in doctors:
                if d_idx not in self.free:
                    for index in indices:
                        self._set(index, 0, 1)
                        self._fixed_to.pop(index, None)
                continue
            for index in indices:
                value = solution[index]
                if self._fixed_to.get(index) != value:
                    self._set(index, value, value)
                    self._fixed_to[index] = value
        self.free = doctors
        hint = self.model.proto.solution_hint
        hint.vars.clear()
        hint.values.clear()
        hint.vars.extend(range(len(solution)))
        hint.values.extend(solution)


def improve(
    model: cp_model.CpModel,
    x: Mapping[Pair, cp_model.IntVar],
    instance: Instance,
    expression: Expr,
    solution: Sequence[int],
    value: int,
    *,
    until: float,
    params: SolverParams,
    deterministic_s: float | None = None,
    max_steps: int | None = None,
    doctor_terms: Mapping[int, Expr] | None = None,
    on_improve: Callable[[int], None] | None = None,
) -> LnsOutcome:
    """Lower ``expression`` from ``solution`` (worth ``value``) by neighbourhood searches.

    Stops at ``until`` (a ``time.perf_counter()`` value), once ``deterministic_s`` of
    deterministic time is spent or ``max_steps`` searches are made when given, or when the
    value reaches 0. ``doctor_terms`` are the doctors' own parts of the expression, where it
    is a sum of such parts: neighbourhoods are then also built around the doctors who carry it.
    A search that ends at the same value is also taken (a sideways move), for variety.
    """
    neighbourhoods = Neighbourhoods(instance, params.random_seed)
    work = _WorkingCopy(model, x)
    work.model.minimize(expression)
    best, best_value = list(solution), value
    outcome = LnsOutcome(best, best_value, None, 0, 0)
    penalty_of_doctor: dict[int, int] = {}
    step_limit_s = _STEP_LIMIT_S[len(x) > _LARGE_MODEL]
    spent_deterministic = 0.0
    overhead_s = 0.2
    """What a step takes beyond its search limit (loading the model, reading the solution)."""
    while best_value > 0:
        step_started = time.perf_counter()
        limit_s = until - step_started - overhead_s
        if deterministic_s is None:
            # With a deterministic budget the wall clock is only a safety net.
            limit_s = min(step_limit_s, limit_s)
        if limit_s < _MIN_STEP_S:
            break
        if deterministic_s is not None and spent_deterministic >= deterministic_s:
            break
        if max_steps is not None and outcome.num_steps >= max_steps:
            break
        doctors = neighbourhoods.pick(penalty_of_doctor)
        work.open(doctors, best)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = limit_s
        solver.parameters.num_workers = params.num_workers
        solver.parameters.random_seed = params.random_seed + outcome.num_steps
        if deterministic_s is not None:
            solver.parameters.max_deterministic_time = min(
                _STEP_DETERMINISTIC, deterministic_s / 4, deterministic_s - spent_deterministic
            )
        code = solver.solve(work.model)
        if code == cp_model.MODEL_INVALID:
            raise SolverError(f"CP-SAT rejected a neighbourhood: {work.model.validate()}")
        outcome.num_steps += 1
        overhead_s = max(overhead_s, time.perf_counter() - step_started - solver.wall_time)
        spent_deterministic += solver.response_proto.deterministic_time
        neighbourhoods.feedback(
            proven=code == cp_model.OPTIMAL, used_share=solver.wall_time / max(limit_s, 1e-9)
        )
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        found = int(solver.value(expression))
        if found > best_value:
            continue
        if doctor_terms is not None:
            refresh = (
                doctor_terms.keys() if not penalty_of_doctor else doctors & doctor_terms.keys()
            )
            penalty_of_doctor.update({d: int(solver.value(doctor_terms[d])) for d in refresh})
        best, improved = list(solver.response_proto.solution), found < best_value
        best_value, outcome.solver = found, solver
        if improved:
            outcome.num_improving += 1
            if on_improve is not None:
                on_improve(found)
    outcome.solution, outcome.value = best, best_value
    return outcome
