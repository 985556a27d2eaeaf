"""The CP-SAT model of a compiled instance, and CP-SAT's own values of a roster.

Built from the pieces the way PyJobShop builds its CP model: ``variables`` (the x and shared
expressions), ``constraints`` (one builder per rule), ``objective`` (fairness terms and each
stage's expression), put together by ``assemble`` (which also builds each neighbourhood's
small model for ``lns``). The lexicographic stages that search it are ``staged``.

Every value reported is CP-SAT's own: :meth:`CpSatModel.evaluate` fixes the ``x`` of a roster
and both minimises and maximises every term; they must agree (the term is a function of the
roster), and the solve then compares them with the independent checker. Where that two-way
evaluation would not fit the time limit (a circle year), the terms are those of the solve that
found the roster (the neighbourhood search's is a solve of the whole model with the roster
fixed), still compared with the checker (:meth:`CpSatModel.final_values`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager

from ortools.sat.python import cp_model, cp_model_helper

from wachtplanner.exceptions import SolverError
from wachtplanner.solver.bounds import FairnessBounds, fairness_bounds
from wachtplanner.solver.cpsat.assemble import assemble
from wachtplanner.solver.cpsat.constraints import RULE_BUILDERS
from wachtplanner.solver.cpsat.lns import (
    Neighbourhoods,
    cap_figures,
    largest_figures,
)
from wachtplanner.solver.cpsat.objective import (
    TERM_OF_STAGE,
    Expr,
    doctor_parts,
    penalty_by_rule,
    row_distances,
)
from wachtplanner.solver.cpsat.variables import Pair
from wachtplanner.solver.instance import Instance
from wachtplanner.solver.params import SolverParams

ProgressFn = Callable[[str, int, int, float], None]
"""Called as (stage, objective, bound, elapsed seconds) whenever a better roster is found."""

__all__ = ["CpSatModel", "ProgressFn", "SearchProgress"]

LIGHT_PRESOLVE_FROM = 20_000
"""Models with more (doctor, shift) variables than this get a light presolve."""
_PENALTY_MAX = 2**40
"""Upper bound of a soft rule's penalty held in one variable (``_hold_penalties``)."""
FULL_SEARCH_UP_TO = 100_000
"""A model with more (doctor, shift) pairs gets no full search, only fixed-roster solves, and
is built with running sums (``assemble``)."""
_TWO_WAY_COST = 8.0
"""The two-way evaluation's time in one-way evaluations (measured on the 500-GP year: 9.6 s
against 1.4 s; the objective over every term makes each of its two solves slower)."""


class SearchProgress(cp_model.CpSolverSolutionCallback):
    """Report a stage's search as it finds better rosters, and when it found the first."""

    def __init__(
        self, stage: str, clock: float, report: ProgressFn | None, scale: int = 1, cap: int = 0
    ) -> None:
        super().__init__()
        self.stage, self.clock, self.report = stage, clock, report
        self.scale, self.cap = scale, cap
        self.first_at: float | None = None

    def on_solution_callback(self) -> None:
        """Report the solution's objective and the bound, scaled back to the stage's term."""
        elapsed = time.perf_counter() - self.clock
        if self.first_at is None:
            self.first_at = elapsed
        if self.report is not None:
            objective = int(self.objective_value) // self.scale
            bound = math.ceil((self.best_objective_bound - self.cap) / self.scale - 1e-9)
            self.report(self.stage, objective, max(0, bound), elapsed)


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
        self.rules = frozenset(rules)
        self.keep = frozenset(keep)
        # A model that gets no full search (only fixed-roster solves) is built small.
        small = instance.num_pairs > FULL_SEARCH_UP_TO
        built = assemble(instance, self.rules, self.keep, running_sums=small)
        self.model, self.x, self.ctx = built.model, built.x, built.ctx
        self.fairness = built.fairness
        self.objectives: dict[str, Expr] = built.objectives
        self.penalties = penalty_by_rule(self.ctx)
        if small:
            self._hold_penalties()
        self.splittable = Neighbourhoods(instance, 0).applies()
        """Whether the model has enough doctors for the neighbourhood search."""
        self._bounds: FairnessBounds | None = None
        self.evaluation_s = 0.0
        """How long the last :meth:`evaluate` took (the final one must fit the time limit)."""
        self.reading_s = 0.0
        """The longest reading of every value from a solution so far (:meth:`_read`)."""
        self.fixed_solve_s = 0.0
        """The longest fixed-roster solve so far (a neighbourhood search ends with one)."""
        self.hint_values: list[int] | None = None
        """The complete solution of the last evaluation's first solve (a hint)."""
        self._ceiling_of: dict[str, cp_model.IntVar] = {}
        """Each held summed stage's ceiling, as a variable (:meth:`hold`)."""

    def _hold_penalties(self) -> None:
        """Hold each soft rule's penalty in a variable of its own; the soft penalty is their sum.

        Reading a value of the sum of every penalty term (563 671 on the 500-GP year) takes
        0.65 s, and keeping a stage's value as a constraint on it as long; a solve of a
        circle year did that six times after its searches (it ended at 61.4 s of 60). A
        variable's value is read at once. Each variable equals its sum (``evaluate`` checks
        that every term is a function of the roster), and the fixed-roster solves took as long
        with them (4.4-5.3 s against 4.7-6.8 s).
        """
        held: dict[str, Expr] = {}
        for rule, expression in self.penalties.items():
            variable = self.model.new_int_var(0, _PENALTY_MAX, f"penalty_{rule}")
            self.model.add(variable == expression)
            held[rule] = variable
        self.penalties = held
        self.objectives["soft"] = cp_model.LinearExpr.sum(list(held.values()))

    @property
    def bounds(self) -> FairnessBounds:
        """Return the fairness lower bounds (computed once)."""
        if self._bounds is None:
            self._bounds = fairness_bounds(self.instance)
        return self._bounds

    @contextmanager
    def _fixed(self, chosen: Collection[Pair]) -> Iterator[cp_model.CpModel]:
        """Fix the roster's ``x`` in the model itself, without objective or hint, then restore.

        In place rather than on a clone: cloning the 500-GP year's model takes 1.8 s.
        """
        picked = set(chosen)
        proto = self.model.proto
        objective = cp_model_helper.CpObjectiveProto()
        had_objective = proto.has_objective()
        if had_objective:
            objective.copy_from(proto.objective)
        hint = cp_model_helper.PartialVariableAssignment()
        hint.copy_from(proto.solution_hint)
        proto.clear_objective()
        proto.clear_solution_hint()
        variables = proto.variables
        try:
            for key, var in self.x.items():
                value = int(key in picked)
                domain = variables[var.index].domain
                domain.clear()
                domain.extend([value, value])
            yield self.model
        finally:
            for var in self.x.values():
                domain = variables[var.index].domain
                domain.clear()
                domain.extend([0, 1])
            proto.clear_objective()
            if had_objective:
                proto.objective.copy_from(objective)
            proto.solution_hint.copy_from(hint)

    def _solve_fixed(
        self, copy: cp_model.CpModel, params: SolverParams, limit_s: float
    ) -> cp_model.CpSolver | None:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.1, limit_s)
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = params.random_seed
        # Every assignment is fixed, so every other variable follows by propagation: one light
        # presolve pass and no symmetry detection (2.4 s instead of 5.7 s on the 500-GP year's
        # 1.3 M variables; without presolve it searched for over a minute).
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.max_presolve_iterations = 1
        solver.parameters.symmetry_level = 0
        started = time.perf_counter()
        code = solver.solve(copy)
        self.fixed_solve_s = max(self.fixed_solve_s, time.perf_counter() - started)
        if code == cp_model.MODEL_INVALID:
            raise SolverError(f"CP-SAT rejected the model: {copy.validate()}")
        return solver if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None

    def hold(self, name: str, value: int) -> None:
        """Hold a stage's expression at or below ``value``, lower or higher than held before.

        Through a variable of its own (expression <= ceiling) whose domain is set, so that a
        later stage may widen it (``staged._SPENT_BESIDE``) where a constraint would stay. The
        variable is hinted at its ceiling, so that a complete hint stays complete and feasible
        (the roster hinted is within what is held).
        """
        top = max(0, value)
        ceiling = self._ceiling_of.get(name)
        if ceiling is None:
            ceiling = self.model.new_int_var(0, top, f"ceiling_{name}")
            self.model.add(self.objectives[name] <= ceiling)
            self._ceiling_of[name] = ceiling
        domain = self.model.proto.variables[ceiling.index].domain
        domain.clear()
        domain.extend([0, top])
        hint = self.model.proto.solution_hint
        hinted = self._complete_hint_size()
        if hinted == ceiling.index:
            hint.vars.extend([hinted])
            hint.values.extend([top])
        elif hinted > ceiling.index:
            hint.values[ceiling.index] = top

    def _expressions(self) -> dict[str, Expr]:
        expressions = {TERM_OF_STAGE[k]: v for k, v in self.objectives.items() if k != "changes"}
        if self.fairness.at_spread is not None:
            expressions["at_spread"] = self.fairness.at_spread
        if self.keep:
            expressions["changed_assignments"] = self.objectives["changes"]
        return expressions

    def evaluate(
        self,
        chosen: Collection[Pair],
        params: SolverParams,
        limit_s: float = 30.0,
        *,
        both_ways: bool = True,
    ) -> tuple[dict[str, int], dict[str, int]] | None:
        """Return CP-SAT's value of every term and soft rule's penalty for a roster.

        The roster's ``x`` are fixed and the sum of all terms is minimised, then maximised: the
        two solutions must give every term the same value, which proves each is a function of
        the roster (an encoding bounded from one side only would differ). With
        ``both_ways=False`` one solve without an objective gives the values (1.4 s instead of
        9.6 s on the 500-GP year), for a start roster whose values the stages only compare.
        Returns None when the roster breaks a constraint of the model.

        Raises
        ------
        SolverError
            When a term is not determined by the roster.
        """
        started = time.perf_counter()
        expressions = self._expressions()
        values: list[tuple[dict[str, int], dict[str, int]]] = []
        with self._fixed(chosen) as fixed:
            for sense in (1, -1) if both_ways else (0,):
                if sense:
                    everything = [*expressions.values(), *self.penalties.values()]
                    fixed.minimize(sense * cp_model.LinearExpr.sum(everything))
                solver = self._solve_fixed(fixed, params, limit_s / 2)
                if solver is None:
                    return None
                if sense != -1:
                    self.hint_values = list(solver.response_proto.solution)
                values.append(self._read(solver, expressions))
        self.evaluation_s = time.perf_counter() - started
        if values[0] != values[-1]:
            raise SolverError(
                "a term of the model is not determined by the roster (an auxiliary variable "
                f"is not tied to the assignment both ways): lowest {values[0]}, highest "
                f"{values[1]}"
            )
        return values[0]

    def _read(
        self, solver: cp_model.CpSolver, expressions: Mapping[str, Expr]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Return the terms' and every penalty's values in a solution; the time is kept."""
        started = time.perf_counter()
        values = (
            {name: int(solver.value(expr)) for name, expr in expressions.items()},
            {name: int(solver.value(expr)) for name, expr in self.penalties.items()},
        )
        self.reading_s = max(self.reading_s, time.perf_counter() - started)
        return values

    def hint(self, chosen: Collection[Pair], params: SolverParams) -> bool:
        """Hint a complete assignment, every auxiliary variable included; False if invalid."""
        if self.evaluate(chosen, params) is None or self.hint_values is None:
            return False
        self.hint_all(self.hint_values)
        return True

    def hint_pairs(self, chosen: Collection[Pair]) -> None:
        """Hint only the assignment (a partial roster, such as a published one to keep)."""
        picked = set(chosen)
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        for key, var in self.x.items():
            self.model.add_hint(var, key in picked)

    def fixed_solver(self, chosen: Collection[Pair], params: SolverParams) -> cp_model.CpSolver:
        """Return a solve of the model with the roster's ``x`` fixed (every variable's value)."""
        with self._fixed(chosen) as fixed:
            solver = self._solve_fixed(fixed, params, 30.0)
        if solver is None:
            raise SolverError("a roster of the neighbourhood search breaks a rule of the model")
        return solver

    def _complete_hint_size(self) -> int:
        """Return how many variables, from the first, a complete hint gives (0 if partial)."""
        hint = self.model.proto.solution_hint
        num_vars = len(hint.vars)
        if num_vars == 0 or hint.vars[0] != 0 or hint.vars[num_vars - 1] != num_vars - 1:
            return 0
        return num_vars

    def hinted_solution(self) -> list[int]:
        """Return the complete hint as values by variable index (empty if it is partial)."""
        if not self._complete_hint_size():
            return []
        return list(self.model.proto.solution_hint.values)

    def hint_all(self, values: Sequence[int]) -> None:
        """Hint a complete solution, given as values by variable index."""
        hint = self.model.proto.solution_hint
        hint.vars.clear()
        hint.values.clear()
        hint.vars.extend(range(len(values)))
        hint.values.extend(values)

    def chosen(self, solver: cp_model.CpSolver) -> list[Pair]:
        """Return the roster of a solution."""
        return [key for key, var in self.x.items() if solver.boolean_value(var)]

    def run(
        self,
        expression: Expr,
        budget_s: float,
        params: SolverParams,
        callback: SearchProgress,
        deterministic_s: float | None = None,
        *,
        relative_gap: float,
        linear: bool = True,
    ) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
        """Search the model for the least ``expression``, until its gap is ``relative_gap``.

        ``deterministic_s`` limits it in CP-SAT's deterministic time as well (tests); without
        ``linear``, no LP relaxation.
        """
        self.model.minimize(expression)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = budget_s
        solver.parameters.num_workers = params.num_workers
        solver.parameters.random_seed = params.random_seed
        solver.parameters.log_search_progress = params.log_search
        solver.parameters.relative_gap_limit = relative_gap
        if deterministic_s is not None:
            solver.parameters.max_deterministic_time = deterministic_s
        if len(self.x) > LIGHT_PRESOLVE_FROM:
            # Full probing of a circle-year model costs 10-25 s per stage and buys little once
            # a complete hint is known; a single light pass leaves the time to the search.
            solver.parameters.cp_model_probing_level = 0
            solver.parameters.max_presolve_iterations = 1
        if not linear:
            # The workers without the LP: each one's search is then all propagation.
            solver.parameters.linearization_level = 0
            solver.parameters.subsolvers.extend(
                ["no_lp", "quick_restart_no_lp"][: params.num_workers]
            )
        code = solver.solve(self.model, callback)
        if code == cp_model.MODEL_INVALID:
            raise SolverError(f"CP-SAT rejected the model: {self.model.validate()}")
        return code, solver

    def by_tag(self, chosen: Collection[Pair], *, summed: bool) -> dict[str, int]:
        """Return each tag's largest (or, ``summed``, summed) |deviation| of a roster."""
        by_tag: dict[str, int] = dict.fromkeys(self.fairness.rows_of_tag, 0)
        for row, deviation in zip(
            self.instance.targets, row_distances(self.instance, chosen), strict=True
        ):
            if summed:
                by_tag[row.tag] += deviation
            else:
                by_tag[row.tag] = max(by_tag[row.tag], deviation)
        return by_tag

    def keep_figures(self, chosen: Collection[Pair]) -> None:
        """Keep every doctor's largest figures a coordinator reads within the roster's.

        Every neighbourhood keeps them (``lns._Caps.figures``, the month's from the soft stage
        on); from the soft stage on the whole model does too, so a full search (a small
        circle's) cannot raise the largest total deviation, the most holiday blocks or the most
        hours in a month of one doctor, figures no stage lowers (the monthly cap's penalty is
        small). (In a benchmark run at 5000df6 the 50-GP quarter ended at the rotation's
        largest total, 95.56 points; its start's was 86.90.)
        """
        figures = largest_figures(self.instance, set(chosen))
        cap_figures(self.model, self.x, self.instance, self.fairness, figures)

    def doctor_values(self, name: str, solution: Sequence[int]) -> dict[int, int] | None:
        """Return each doctor's part of a summed stage in a complete solution (else None)."""
        parts = doctor_parts(self.ctx, self.fairness, name)
        if parts is None or len(solution) < len(self.model.proto.variables):
            return None
        values: dict[int, int] = {}
        for d_idx, expression in parts.items():
            if isinstance(expression, int):
                values[d_idx] = expression
                continue
            flat = cp_model_helper.FlatIntExpr(cp_model.LinearExpr.sum([expression]))
            values[d_idx] = flat.offset + sum(
                coefficient * solution[var.index]
                for coefficient, var in zip(flat.coeffs, flat.vars, strict=True)
            )
        return values

    def final_values(
        self,
        best: Collection[Pair],
        last_solver: cp_model.CpSolver | None,
        start_values: tuple[dict[str, int], dict[str, int]] | None,
        current: dict[str, int],
        params: SolverParams,
        clock: float,
        after_s: float,
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Return CP-SAT's value of every term and penalty of the final roster.

        With time left, from :meth:`evaluate` both ways (which proves every term a function of
        the roster; ~8 one-way solves on a circle year). Otherwise from the search that found
        the roster, or when none did, the start's values; where that solve or the start
        predates the at-spread count's variables, the count is the one its stage found (the
        caller compares every value with the checker's).
        """
        left_s = clock + params.time_limit_s - time.perf_counter() - 1.5 * after_s
        at_spread = {k: v for k, v in current.items() if k == "at_spread"}
        # One way, as the start's evaluation took or else the longest fixed-roster solve.
        one_way_s = self.evaluation_s or self.fixed_solve_s
        if one_way_s and left_s > _TWO_WAY_COST * one_way_s + 0.5:
            evaluated = self.evaluate(best, params, limit_s=max(1.0, left_s))
        elif last_solver is None and start_values is not None:
            return {**start_values[0], **at_spread}, start_values[1]
        elif last_solver is not None:
            complete = len(last_solver.response_proto.solution) == len(self.model.proto.variables)
            values, penalties = self._read(
                last_solver,
                {
                    name: expression
                    for name, expression in self._expressions().items()
                    if complete or name != "at_spread"
                },
            )
            return {**at_spread, **values}, penalties
        else:
            evaluated = self.evaluate(best, params, limit_s=max(1.0, left_s), both_ways=False)
        if evaluated is None:
            raise SolverError("the final roster breaks a constraint of its own model")
        return evaluated

    def current(self, solver: cp_model.CpSolver) -> dict[str, int]:
        """Return every term's value in a stage's solution, as CP-SAT computed it."""
        return {name: int(solver.value(expr)) for name, expr in self._expressions().items()}
