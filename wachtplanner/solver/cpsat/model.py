"""The CP-SAT model: variables, rule builders, fairness terms, and a lexicographic solve.

Stages, each proven (or stopped by the time limit) before the next starts:

1. ``max_excess``: minimise the largest excess of any (doctor, tag) beyond its rounding band.
2. ``sum_excess``: keep stage 1's value, minimise the sum of the excesses.
3. ``spread``: keep both, minimise per tag the largest |points - target|, summed over tags.
4. ``soft``: keep all three, minimise the weighted soft penalties.

A warm start (the greedy rotation) seeds the first stage; each stage hints the next with its
roster. A stage whose objective is already 0 on the current roster is proven optimal without a
search (every term is at least 0), which saves CP-SAT's presolve of a large model.

The objective values reported are computed exactly from the chosen pairs (``exact_terms``), not
read from auxiliary variables, which are bounded from one side only.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from wachtplanner.domain.roster import Roster
from wachtplanner.exceptions import SolverError
from wachtplanner.result import SolveStatus, StageResult
from wachtplanner.solver.cpsat.constraints import RULE_BUILDERS, BuildContext, Pair
from wachtplanner.solver.instance import Instance
from wachtplanner.solver.params import SolverParams

ProgressFn = Callable[[str, int, int, float], None]
"""Called as (stage, objective, bound, elapsed seconds) whenever a better roster is found."""

STAGES: tuple[str, ...] = ("max_excess", "sum_excess", "spread", "soft")
TERM_OF_STAGE = {
    "changes": "changed_assignments",
    "max_excess": "max_excess_centi",
    "sum_excess": "sum_excess_centi",
    "spread": "spread_centi",
    "soft": "soft_penalty",
}
_LIGHT_PRESOLVE_FROM = 20_000
"""Models with more (doctor, shift) variables than this get a light presolve."""
_STAGE_SHARE = {"changes": 0.3, "max_excess": 0.3, "sum_excess": 0.4, "spread": 0.45, "soft": 1.0}


@dataclass(frozen=True)
class Solved:
    """The outcome of the staged solve."""

    status: SolveStatus
    roster: Roster
    terms: dict[str, int]
    stages: tuple[StageResult, ...]
    time_to_first_s: float | None


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, stage: str, clock: float, report: ProgressFn | None) -> None:
        super().__init__()
        self.stage, self.clock, self.report = stage, clock, report
        self.first_at: float | None = None

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.clock
        if self.first_at is None:
            self.first_at = elapsed
        if self.report is not None:
            self.report(
                self.stage, round(self.objective_value), round(self.best_objective_bound), elapsed
            )


class CpSatModel:
    """Build the CP-SAT model of a compiled instance with the given rules enabled."""

    def __init__(
        self,
        instance: Instance,
        rules: Collection[str] = tuple(RULE_BUILDERS),
        keep: Collection[Pair] = (),
    ) -> None:
        """``keep`` are published pairs a re-plan should change as few of as possible."""
        self.instance = instance
        self.keep = frozenset(keep)
        self.model = cp_model.CpModel()
        self.x = {
            (d, s): self.model.new_bool_var(f"x[{d},{s}]")
            for d, shifts in enumerate(instance.shifts_of_doctor)
            for s in shifts
        }
        self.ctx = BuildContext(self.model, instance, self.x)
        self._excess_vars: list[tuple[cp_model.IntVar, int]] = []
        self._spread_vars: dict[str, cp_model.IntVar] = {}
        for name, build in RULE_BUILDERS.items():
            if name in rules:
                build(self.ctx)
        for pair in instance.fixed:
            if pair in self.x:
                self.model.add(self.x[pair] == 1)
        max_excess, sum_excess, spread = self._fairness()
        soft = sum(p.weight * p.term for terms in self.ctx.penalties.values() for p in terms)
        # A kept pair without a variable (its doctor can no longer do it) is a forced change.
        self.objectives: dict[str, cp_model.LinearExprT] = {
            "changes": cp_model.LinearExpr.sum(
                [1 - self.x[p] if p in self.x else 1 for p in sorted(self.keep)]
            ),
            "max_excess": max_excess,
            "sum_excess": sum_excess,
            "spread": spread,
            "soft": soft,
        }

    def _fairness(self) -> tuple[cp_model.IntVar, cp_model.LinearExprT, cp_model.LinearExprT]:
        inst = self.instance
        excesses: list[cp_model.IntVar | int] = []
        constant_max = 0
        bound = 0
        dev_top = 1
        largest_dev: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
        for row_idx, row in enumerate(inst.targets):
            terms = [
                (inst.tag_points[s][row.tag], self.x[row.doctor_idx, s])
                for s in inst.shifts_of_doctor[row.doctor_idx]
                if row.tag in inst.tag_points[s]
            ]
            reach = sum(points for points, _ in terms)
            if reach == 0:
                constant = max(0, row.target_centi - row.band_centi)
                excesses.append(constant)
                constant_max = max(constant_max, constant)
                largest_dev[row.tag].append(row.target_centi)
                dev_top = max(dev_top, row.target_centi)
                continue
            earned = sum(points * var for points, var in terms)
            top = max(row.target_centi, reach - row.target_centi)
            # Bounded from below only: exact max-equalities over thousands of rows made a first
            # roster of the 250-GP year unreachable in minutes. Minimisation pulls these down;
            # the reported terms are recomputed exactly from the assignment (exact_terms).
            excess = self.model.new_int_var(0, top, "")
            self.model.add(excess >= earned - row.target_centi - row.band_centi)
            self.model.add(excess >= row.target_centi - earned - row.band_centi)
            excesses.append(excess)
            self._excess_vars.append((excess, row_idx))
            largest_dev[row.tag] += [earned - row.target_centi, row.target_centi - earned]
            bound = max(bound, top)
            dev_top = max(dev_top, top)
        largest = self.model.new_int_var(constant_max, max(bound, constant_max), "max_excess")
        self._largest = largest
        for item in excesses:
            self.model.add(largest >= item)
        for tag, items in sorted(largest_dev.items()):
            tag_max = self.model.new_int_var(0, dev_top, f"spread[{tag}]")
            for deviation in items:
                self.model.add(tag_max >= deviation)
            self._spread_vars[tag] = tag_max
        return (
            largest,
            cp_model.LinearExpr.sum(excesses),
            cp_model.LinearExpr.sum(list(self._spread_vars.values())),
        )

    def _fairness_values(self, picked: Collection[Pair]) -> tuple[list[int], dict[str, int]]:
        """Return each row's excess and each tag's largest |deviation| for an assignment."""
        inst = self.instance
        earned: dict[tuple[int, str], int] = defaultdict(int)
        for d_idx, s_idx in picked:
            for tag, points in inst.tag_points[s_idx].items():
                earned[d_idx, tag] += points
        excesses: list[int] = []
        largest_dev: dict[str, int] = defaultdict(int)
        for row in inst.targets:
            deviation = abs(earned[row.doctor_idx, row.tag] - row.target_centi)
            excesses.append(max(0, deviation - row.band_centi))
            largest_dev[row.tag] = max(largest_dev[row.tag], deviation)
        return excesses, largest_dev

    def exact_terms(self, chosen: Collection[Pair]) -> dict[str, int]:
        """Return every objective term of an assignment, from the instance's data alone."""
        picked = chosen if isinstance(chosen, set | frozenset) else set(chosen)
        excesses, largest_dev = self._fairness_values(picked)
        soft = sum(
            p.weight * p.value(picked) for terms in self.ctx.penalties.values() for p in terms
        )
        terms = {
            "max_excess_centi": max(excesses, default=0),
            "sum_excess_centi": sum(excesses),
            "spread_centi": sum(largest_dev.values()),
            "soft_penalty": soft,
        }
        if self.keep:
            terms["changed_assignments"] = len(self.keep - set(picked))
        return terms

    def hint(self, chosen: Collection[Pair]) -> None:
        """Hint a complete assignment, auxiliary variables included, so CP-SAT can adopt it."""
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        picked = set(chosen)
        for key, var in self.x.items():
            self.model.add_hint(var, key in picked)
        excesses, largest_dev = self._fairness_values(picked)
        for var, row_idx in self._excess_vars:
            self.model.add_hint(var, excesses[row_idx])
        self.model.add_hint(self._largest, max(excesses, default=0))
        for tag, var in self._spread_vars.items():
            self.model.add_hint(var, largest_dev[tag])
        for var, value in self.ctx.aux:
            self.model.add_hint(var, value(picked))

    def _chosen(self, solver: cp_model.CpSolver) -> list[Pair]:
        return [key for key, var in self.x.items() if solver.boolean_value(var)]

    def _run(
        self, name: str, budget_s: float, params: SolverParams, callback: _Progress
    ) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
        self.model.minimize(self.objectives[name])
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = budget_s
        solver.parameters.num_workers = params.num_workers
        solver.parameters.random_seed = params.random_seed
        solver.parameters.log_search_progress = params.log_search
        if params.deterministic_time is not None:
            solver.parameters.max_deterministic_time = params.deterministic_time / len(STAGES)
        if len(self.x) > _LIGHT_PRESOLVE_FROM:
            # Full probing of a circle-year model costs 10-25 s per stage and buys little once
            # a complete hint is known; a single light pass leaves the time to the search.
            solver.parameters.cp_model_probing_level = 0
            solver.parameters.max_presolve_iterations = 1
        code = solver.solve(self.model, callback)
        if code == cp_model.MODEL_INVALID:
            raise SolverError(f"CP-SAT rejected the model: {self.model.validate()}")
        return code, solver

    def solve(
        self,
        params: SolverParams,
        progress: ProgressFn | None = None,
        stages: Sequence[str] = STAGES,
        *,
        start: Collection[Pair] | None = None,
        clock: float | None = None,
        start_found_at: float | None = None,
    ) -> Solved:
        """Run the lexicographic stages within ``params.time_limit_s`` in total.

        Parameters
        ----------
        start
            A roster known to keep every hard rule (checked by the caller), to improve on.
        clock
            ``time.perf_counter()`` value that elapsed times are measured from.
        start_found_at
            When ``start`` was known, in seconds since ``clock``.
        """
        clock = time.perf_counter() if clock is None else clock
        started = time.perf_counter()
        best: list[Pair] | None = list(start) if start is not None else None
        first_at = None
        if best is not None:
            first_at = start_found_at if start_found_at is not None else time.perf_counter() - clock
        results: list[StageResult] = []
        for name in stages:
            term = TERM_OF_STAGE[name]
            if best is not None and self.exact_terms(best)[term] == 0:
                results.append(StageResult(name, SolveStatus.OPTIMAL, 0, 0, 0.0))
                self.model.add(self.objectives[name] <= 0)
                continue
            remaining = params.time_limit_s - (time.perf_counter() - started)
            budget = max(0.5, remaining * _STAGE_SHARE[name])
            callback = _Progress(name, clock, progress)
            stage_started = time.perf_counter()
            code, solver = self._run(name, budget, params, callback)
            if first_at is None:
                first_at = callback.first_at
            found = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            if found:
                best = self._chosen(solver)
            if best is None:
                status = (
                    SolveStatus.INFEASIBLE
                    if code == cp_model.INFEASIBLE
                    else SolveStatus.NO_SOLUTION
                )
                return Solved(status, Roster(), {}, (), first_at)
            value = self.exact_terms(best)[term]
            bound = min(value, round(solver.best_objective_bound)) if found else 0
            results.append(
                StageResult(
                    name,
                    SolveStatus.OPTIMAL if code == cp_model.OPTIMAL else SolveStatus.FEASIBLE,
                    value,
                    max(0, bound),
                    time.perf_counter() - stage_started,
                )
            )
            if not found:
                break  # the time went into presolve; later stages would fare no better
            self.hint(best)
            self.model.add(self.objectives[name] <= value)
        assert best is not None  # returned above otherwise
        proven = len(results) == len(stages) and all(
            r.status is SolveStatus.OPTIMAL for r in results
        )
        return Solved(
            SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
            self.instance.roster_of(best),
            self.exact_terms(best),
            tuple(results),
            first_at,
        )
