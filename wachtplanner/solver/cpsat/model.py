"""The CP-SAT model: variables, rule builders, fairness terms, and a lexicographic solve.

Stages, each proven (or stopped by the time limit) before the next starts:

1. ``max_excess``: minimise the largest excess of any (doctor, tag) beyond its rounding band.
2. ``sum_excess``: keep stage 1's value, minimise the sum of the excesses.
3. ``soft``: keep both, minimise the weighted soft penalties.

Each stage starts from the previous stage's roster as a complete hint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.exceptions import SolverError
from wachtplanner.result import SolveStatus, StageResult
from wachtplanner.solver.cpsat.constraints import RULE_BUILDERS, BuildContext
from wachtplanner.solver.instance import Instance
from wachtplanner.solver.params import SolverParams

ProgressFn = Callable[[str, int, int, float], None]
"""Called as (stage, objective, bound, elapsed seconds) whenever a better roster is found."""

STAGES: tuple[str, ...] = ("max_excess", "sum_excess", "soft")
_STAGE_SHARE = {"max_excess": 0.35, "sum_excess": 0.5, "soft": 1.0}


@dataclass(frozen=True)
class Solved:
    """The outcome of the staged solve."""

    status: SolveStatus
    roster: Roster
    terms: dict[str, int]
    stages: tuple[StageResult, ...]
    time_to_first_s: float | None


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, stage: str, started: float, report: ProgressFn | None) -> None:
        super().__init__()
        self.stage, self.started, self.report = stage, started, report
        self.first_at: float | None = None

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.started
        if self.first_at is None:
            self.first_at = elapsed
        if self.report is not None:
            self.report(
                self.stage, round(self.objective_value), round(self.best_objective_bound), elapsed
            )


class CpSatModel:
    """Build the CP-SAT model of a compiled instance with the given rules enabled."""

    def __init__(self, instance: Instance, rules: Collection[str] = tuple(RULE_BUILDERS)) -> None:
        self.instance = instance
        self.model = cp_model.CpModel()
        self.x = {
            (d, s): self.model.new_bool_var(f"x[{d},{s}]")
            for d, shifts in enumerate(instance.shifts_of_doctor)
            for s in shifts
        }
        self.ctx = BuildContext(self.model, instance, self.x)
        for name, build in RULE_BUILDERS.items():
            if name in rules:
                build(self.ctx)
        for pair in instance.fixed:
            if pair in self.x:
                self.model.add(self.x[pair] == 1)
        self.max_excess, self.sum_excess = self._fairness()
        self.soft = sum(w * term for terms in self.ctx.penalties.values() for w, term in terms)

    def _fairness(self) -> tuple[cp_model.IntVar, cp_model.LinearExprT]:
        inst = self.instance
        excesses: list[cp_model.IntVar | int] = []
        constant_max = 0
        bound = 0
        for row in inst.targets:
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
            bound = max(bound, top)
        largest = self.model.new_int_var(constant_max, max(bound, constant_max), "max_excess")
        for item in excesses:
            self.model.add(largest >= item)
        return largest, cp_model.LinearExpr.sum(excesses)

    def exact_fairness(self, chosen: Collection[tuple[int, int]]) -> tuple[int, int]:
        """Return (largest, sum of) excess of an assignment, from the instance's index data."""
        inst = self.instance
        earned: dict[tuple[int, str], int] = {}
        for d_idx, s_idx in chosen:
            for tag, points in inst.tag_points[s_idx].items():
                earned[d_idx, tag] = earned.get((d_idx, tag), 0) + points
        excesses = [
            max(
                0, abs(earned.get((row.doctor_idx, row.tag), 0) - row.target_centi) - row.band_centi
            )
            for row in inst.targets
        ]
        return max(excesses, default=0), sum(excesses)

    def _hint(self, solver: cp_model.CpSolver) -> None:
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        for var in self.x.values():
            self.model.add_hint(var, solver.boolean_value(var))

    def _roster(self, solver: cp_model.CpSolver) -> Roster:
        inst = self.instance
        chosen = sorted(
            (key for key, var in self.x.items() if solver.boolean_value(var)),
            key=lambda k: (inst.start_min[k[1]], inst.shifts[k[1]].shift_id, inst.doctors[k[0]].id),
        )
        return Roster(
            assignments=tuple(
                Assignment(shift_id=inst.shifts[s].shift_id, doctor_id=inst.doctors[d].id)
                for d, s in chosen
            )
        )

    def solve(
        self,
        params: SolverParams,
        progress: ProgressFn | None = None,
        stages: Sequence[str] = STAGES,
    ) -> Solved:
        """Run the lexicographic stages within ``params.time_limit_s`` in total."""
        started = time.perf_counter()
        objectives: dict[str, cp_model.LinearExprT] = {
            "max_excess": self.max_excess,
            "sum_excess": self.sum_excess,
            "soft": self.soft,
        }
        results: list[StageResult] = []
        first_at: float | None = None
        best: cp_model.CpSolver | None = None
        for name in stages:
            remaining = params.time_limit_s - (time.perf_counter() - started)
            budget = max(0.5, remaining * _STAGE_SHARE[name])
            self.model.minimize(objectives[name])
            solver = cp_model.CpSolver()
            solver.parameters.max_time_in_seconds = budget
            solver.parameters.num_workers = params.num_workers
            solver.parameters.random_seed = params.random_seed
            solver.parameters.log_search_progress = params.log_search
            if params.deterministic_time is not None:
                solver.parameters.max_deterministic_time = params.deterministic_time / len(stages)
            callback = _Progress(name, started, progress)
            stage_started = time.perf_counter()
            code = solver.solve(self.model, callback)
            if code == cp_model.MODEL_INVALID:
                raise SolverError(f"CP-SAT rejected the model: {self.model.validate()}")
            if first_at is None and callback.first_at is not None:
                first_at = callback.first_at
            if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                status = (
                    SolveStatus.INFEASIBLE
                    if code == cp_model.INFEASIBLE
                    else SolveStatus.NO_SOLUTION
                )
                if not results:
                    return Solved(status, Roster(), {}, (), first_at)
                break  # keep the previous stage's roster: it satisfies everything fixed so far
            value = round(solver.objective_value)
            results.append(
                StageResult(
                    name,
                    SolveStatus.OPTIMAL if code == cp_model.OPTIMAL else SolveStatus.FEASIBLE,
                    value,
                    round(solver.best_objective_bound),
                    time.perf_counter() - stage_started,
                )
            )
            best = solver
            self._hint(solver)
            self.model.add(objectives[name] <= value)
        assert best is not None  # the first stage returned early otherwise
        chosen = [key for key, var in self.x.items() if best.boolean_value(var)]
        largest, total = self.exact_fairness(chosen)
        terms = {
            "max_excess_centi": largest,
            "sum_excess_centi": total,
            "soft_penalty": round(best.value(self.soft)),
        }
        proven = len(results) == len(stages) and all(
            r.status is SolveStatus.OPTIMAL for r in results
        )
        return Solved(
            SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
            self._roster(best),
            terms,
            tuple(results),
            first_at,
        )
