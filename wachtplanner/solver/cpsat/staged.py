"""The lexicographic solve: the stages of ``objective.STAGES`` searched in turn on a model.

Each stage is proven (or stopped at a 1 % gap or by its share of the time limit) before the
next starts with the previous value as a constraint.

A stage starts from a complete hint: the previous stage's solution, or for the first one the
rotation's roster completed by CP-SAT itself (every auxiliary variable is a function of the
``x``). Before a stage runs, the bounds of ``solver.bounds`` are added, raised where they can
be by the per-tag relaxations of ``relaxation`` (spread, at-spread count, summed deviation); a
stage whose current value already meets its bound is proven without a search. The summed
stages trade duties among a few doctors at a time (``lns``) on models of circle size.

Every stage's objective and bound are CP-SAT's own as the solver returns them, and the final
terms are the model's (``CpSatModel.final_values``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model, cp_model_helper

from wachtplanner.domain.roster import Roster
from wachtplanner.domain.rules import Rule
from wachtplanner.exceptions import SolverError
from wachtplanner.result import SolveStatus, StageResult
from wachtplanner.solver.cpsat.lns import (
    TRADED_STAGES,
    LnsOutcome,
    Stage,
    improve,
    lower_largest,
    summed_by_doctor,
    summed_deviations,
    trade,
)
from wachtplanner.solver.cpsat.model import (
    FULL_SEARCH_UP_TO,
    LIGHT_PRESOLVE_FROM,
    CpSatModel,
    ProgressFn,
    SearchProgress,
)
from wachtplanner.solver.cpsat.objective import (
    STAGES,
    TERM_OF_STAGE,
    Expr,
    build_at_spread,
    row_distances,
)
from wachtplanner.solver.cpsat.relaxation import tag_bound, total_bound
from wachtplanner.solver.cpsat.variables import Pair
from wachtplanner.solver.params import SolverParams

StageDoneFn = Callable[[StageResult], None]
"""Called with each stage's result as it ends."""

__all__ = ["STAGES", "TERM_OF_STAGE", "Solved", "StageDoneFn", "StagedSolve", "StartValues"]

_STAGE_SHARE = {
    "changes": 0.3,
    "max_excess": 0.2,
    "sum_excess": 0.2,
    "spread": 0.15,
    "at_spread": 0.05,
    "soft": 0.85,
    "deviation": 0.5,
    "total": 1.0,
}
"""Each stage's share of the time left when it starts; the last one takes what remains."""
_RELATIVE_GAP = 0.01
"""A stage stops once its gap is at most 1 %."""
_TIE_BROKEN = ("at_spread",)
"""Stages searched with the soft penalty as a tie-break (see ``StagedSolve._tie_broken``). Not
the spread: tie-broken, its search never left the rotation's spread on the 10-GP subdivision
year (97.18 points, where 67.24 is proven reachable); alone it reached 72.16 in 5 s, and the
soft stage's neighbourhoods then ended lower than after the tie-broken search (1 821 against
2 086-2 275). On a model whose spread search could upset the soft penalty beyond repair (the
250-GP year) the spread stage does not search (``_SPREAD_SEARCH_UP_TO``)."""
_MIN_STAGE_S = 0.3
_AT_BOUNDS_SHARE = 0.8
"""Share of the spread stage's search for a roster at every tag's bound (``_at_bounds``): on
the 10-GP subdivision year it needs 3.5-4.1 s of the 7 s this leaves in a 60-s solve (0.5 left
4.4 s and found none in one run of two); where it finds none (the 50-GP year), the stage's own
search had not moved the spread in the whole of that time either."""
_LOWERING_SHARE = 0.5
"""Share of the spread stage's search time (after the search at the bounds) for lowering the
tags' largest deviations by pairs (``lns.lower_largest``, the start's lowering continued)
before the full search. On the 100-GP year the spread fell from 102.94 points to 95.95 in a
60-s solve, where a 50-s full search had not moved it (one run each); on the 50-GP year and
the split post the pairs found nothing and their spreads stayed."""
_TOTAL_LEVEL_SHARE = 0.15
"""Share of the time left when the soft stage starts for lowering the largest total deviation,
the level over all tags together after the tags' own (``StagedSolve._lower_total``). On the
50-GP year it fell from 79.24 points to 69.79 in 6 s of this share (Timefold's 74.89-88.35),
and the soft stage then ended at 7 742 against 6 622-7 165 with the time it had before (one
run each; 7 753 against 6 737 in the benchmark runs at 5e78450 and ca966a8); on the 100-GP
year no pair lowered it and the search for one took 5.2 s."""
_FOUND = (cp_model.OPTIMAL, cp_model.FEASIBLE)
_RELAX_SHARE = {"spread": 0.8, "at_spread": 0.5, "deviation": 0.4, "total": 0.4}
"""Share of a stage's time its relaxations may take before the search. Most of the spread
stage's: the relaxations are what prove a spread (the 500-GP quarter's weekend needed 2.5 s
of the 3 s that 0.4 left it through the counts, and missed it in one run of two), and the
time they leave goes to the search. A spread stage that does not search
(``_SPREAD_SEARCH_UP_TO``) gives them the whole of its share. (As patterns, the 250-GP
year's weekend is proven at 48.03 points in 0.2 s instead of 4.1-4.5 s through the counts,
and the year's spread stage takes 0.2 s instead of 5.5 s.) The at-spread count's
relaxations take a few hundredths of a second where they prove it (the 50-GP quarter and
year); the rest of the stage's share goes to its search. The summed stages' neighbourhoods
lower their sums; the total's relaxation (all tags in one model) has its bound after 2-3 s
on the 250-GP quarter and year, and stops when the stage's share of it is out."""
_TOTAL_RELAX_MOST_S = 2.5
"""The most the total's relaxation takes where the stages defer their completions (the circle
years over ``FULL_SEARCH_UP_TO`` pairs): 0.4 of the total stage took 5.1 s of the 250-GP
year's 14.5 for a bound 25 % under its value, and 2.7-3.7 s of the 500-GP year's for one
65 % under; the search is what lowers the total a coordinator sees."""
_EVALUATION_RESERVE_S = 1.0
"""Kept back from the stages for reading the final values, so the time limit holds; at least
``_READING_MARGIN`` times what reading the start's values took, where that was longer."""
_READING_MARGIN = 1.5
"""Reading every term's and penalty's value from a solution takes 0.93 s on the 500-GP year
(its soft penalty sums 563 671 terms), and more on a busier machine: with the reserve fixed
at 1.0 s that solve once ended 0.25 s over its 60 s. The start's reading is measured."""
_COMPLETION_MARGIN = 1.5
"""A neighbourhood search stops this many fixed-roster solves before its stage ends: the
roster it found is completed by one (2.4 s on the 500-GP year with its light presolve; the
longest so far is the measure). On a slow spell of this machine the soft stage's completion
took 6.75 s where the longest before was 5.07, and with 1.2 the solve ended at 61.7 s."""
_FIXED_SOLVE_S_PER_VARIABLE = 4e-6
"""A fixed-roster solve's time by the model's variables, before one is measured (the 250-GP
year's 637 145 took 1.7-1.8 s, the 500-GP year's 1 269 255 took 4.0-4.5 s, 6.75 s on a slow
spell)."""
_SPENT_BESIDE = "deviation"
"""The summed stage whose gap the next one may spend: the total stage lowers the summed
deviation per tag and the summed total together (issue §3: "the sum of deviations per tag and
in total"), the first held with the 1 % of room at which a search stops (``_held_at``), and
at most at the rotation's. On the 50-GP quarter, held at its value (163 619 centi-points), a
40-s search did not lower the total from 128 087; held at the rotation's 163 701 (the top of
its gap is 164 046), a search of the sum found 123 287 with 163 697 (Timefold: 123 605 with
164 079). On the 250-GP year, from a 60-s roster (deviation 970 596, 2.7 % over its bound,
total 570 554), 15 s of the total's neighbourhoods beside it held at the rotation's 971 026
found nothing; 10 s of the deviation's first (to 969 164), then 10 s of the total's, took the
total to 565 354 with 970 380: the room the deviation's search makes is what the total
spends."""
_BESIDE_FULL_UP_TO = LIGHT_PRESOLVE_FROM
"""Up to so many pairs a stage searched beside another gets only the full search: on the 50-GP
quarter (5 470 pairs) the neighbourhoods of a few doctors took the total from 128 087 to
124 887 and no further (in 6 s and in 11 s of the stage), where CP-SAT's own, of most of the
model, took it to 123 287 (in 16 s; in a search of its own, 2.8 s after a 4-s presolve)."""
_SHARES_BY_SIZE: tuple[tuple[int, Mapping[str, float]], ...] = (
    (_BESIDE_FULL_UP_TO, {"soft": 0.7}),
    (FULL_SEARCH_UP_TO, {}),
    (150_000, {"soft": 0.4, "deviation": 0.3}),
    (300_000, {"soft": 0.3, "deviation": 0.45}),
)
"""Shares of the time left that differ from ``_STAGE_SHARE``, on models up to so many pairs
(the first row that fits; larger models take ``_STAGE_SHARE``). Time the later stages leave
goes back to the soft stage (``_soft_with_time_left``).

Up to ``_BESIDE_FULL_UP_TO``, where the total stage gets a full search beside the summed
deviation per tag, the soft stage takes 0.7: on the 50-GP quarter the total stage's 8 s (0.85)
took the total from 128 087 to 126 487, 16 s (0.7) to 123 287 (Timefold: 123 605); the soft
penalty ended at 1 027 against 993 (Timefold: 1 574).

Over ``FULL_SEARCH_UP_TO`` and up to 150 000 (the 250-GP year's 111 935) soft 0.4 and
deviation 0.3. With 0.85 of the time left the soft stage took 38 s of a 60-s solve and the two
summed stages 5.5 s, and the summed total stayed over Timefold's (5 705.54 against 5 670.40).
With these shares the deviation's neighbourhoods lowered it by 19-59 points in 7 s, which the
total stage beside it spent (``_held_at``): in two 60-s runs the total ended at 5 646.76 and
5 611.54 and the summed deviation per tag at 9 703.06 and 9 681.98 (the rotation's 9 710.26),
the soft penalty at 65 274 and 68 059 against 55 679 (Timefold's 80 887), with 0 and 1 pairs
of close duties (Timefold's 2; three runs before the close duties were held: 5 611.54-
5 619.34).

Over 150 000 and up to 300 000 (the 500-GP year's 222 451) soft 0.3 and deviation 0.45,
with the stages' one completion (``_defers_completions``) kept back first. Each stage had its
own completion before (4-5 s), and the two summed stages no search at all: the total ended
at 11 401.39-11 443.39 in four 60-s runs (Timefold's 11 334.71 and 11 341.01), the soft
penalty at 134 082-136 039. With one completion, at 0.85 and 0.5 the total stayed at
11 431.23; at 0.4 and 0.4 it ended at 11 329.83, 11 355.19 and 11 329.19; at 0.3 and 0.45 at
11 319.45 and 11 329.19, with the soft penalty at 140 728-141 881 (Timefold's 166 070) and
the close duties at 2 pairs (0.06 % of consecutive duties; Timefold's 0.23 %). The soft
stage's first 4.5 s untangle the close duties (``lns.trade``: from 40 pairs to 2); the
summed deviation's neighbourhoods then make the room the total spends (from a finished
roster, 6 s of the deviation's and 10 s of the total's took the total from 11 401.39 to
11 194.19, 20 s and 60 s to 10 866.19)."""
_DEFERRED_STAGES = ("soft", "deviation", "total")
"""Stages whose rosters are completed once, after the last (``_defers_completions``)."""
_SIDEWAYS_DROPPED = ("spread", "at_spread")
"""Stages before the soft one that keep the roster they started from unless they lower their
value: where they do not, the summed deviations stay the rotation's (the ceilings)."""
_CEILING_SHARE = 0.1
"""Share of the time left that bringing each summed deviation down to the rotation's may take
before the soft stage (see ``StagedSolve._reach_ceilings``). The search stops at the ceiling:
on the 100-GP quarter it gets there in 2.9-5.4 s, 6-11 % of the time left; aiming 0.5 %
below it instead took the whole of a 0.3 share (14 s), and the soft stage then ended at
2 336 against 2 085-2 119."""
_CEILING_SEARCH_S = 5.0
"""Search time that bringing a summed deviation down to its ceiling gets at least, beside its
completion: on the 500-GP year the share alone left nothing after the completion's 3.8 s, and
the summed deviation per tag ended 0.46 % above the rotation's; single moves and exchanges
(``lns.trade``) took its start to the rotation's in 4.0 s in a separate run. (On a slow spell,
with the completion at 4.3 s, 3.1 s of search took off a fifth of what was over.)"""
_DEFERRED_COMPLETIONS = 1.3
"""Time left before the stages' end where the search for the ceilings stops when the stages
complete their roster once (``_defers_completions``), in completions: that completion, and the
soft stage's preparation (2 s on the 500-GP year). On a slow spell of this machine (its
build 32 s) the search ended 5.7 s before the stages' end, the completion took 7.2 s and the
solve 64.2 s."""
_CEILING_MOST = 0.3
"""Share of the time left that bringing each summed deviation to its ceiling takes at most."""
_LNS_STAGES = ("sum_excess", "at_spread", "soft", "deviation", "total")
"""Summed stages, which trading duties within a few doctors lowers (``lns``). A stage of a
largest value (the spread) is held by doctors a neighbourhood rarely contains."""
_SPREAD_SEARCH_UP_TO = FULL_SEARCH_UP_TO
"""On a larger model the spread stage keeps the start's spread, bounded by the relaxations:
on the 250- and 500-GP years its full search (9 s) never moved it from the rotation's (the
seat counts fix each tag's largest deviation there), time the soft stage lacked."""
_FULL_SHARE_BEFORE_LNS = ((LIGHT_PRESOLVE_FROM, 0.3), (FULL_SEARCH_UP_TO, 0.05))
"""Share of an LNS stage's time for the full search first (its bound, or a proof on a small
model), on a model up to so many pairs; the rest goes to the neighbourhood searches. (On the
250-GP quarter a 5-s full soft search found nothing the neighbourhoods would not have found in
0.1 s.) A larger model gets none: on the 500-GP year CP-SAT's load and presolve alone took the
soft stage's 4.6 s, and its soft bound stays 0 on every circle year."""


def _stage_deterministic(params: SolverParams, share: float) -> float | None:
    """Return ``share`` of one stage's part of a deterministic time limit (tests), or None."""
    if params.deterministic_time is None:
        return None
    return params.deterministic_time / len(STAGES) * share


@dataclass(frozen=True)
class Solved:
    """The outcome of the staged solve, with CP-SAT's own value of every term."""

    status: SolveStatus
    roster: Roster
    terms: dict[str, int]
    penalties: dict[str, int]
    stages: tuple[StageResult, ...]
    time_to_first_s: float | None


@dataclass(frozen=True)
class StartValues:
    """The checker's values of the start roster (``StagedSolve.solve``'s ``checked``)."""

    terms: dict[str, int]
    """Every objective term, by name (``TERM_OF_STAGE``)."""
    soft_of_doctor: dict[int, int]
    """Each doctor's soft penalty, by doctor index."""


@dataclass(frozen=True)
class _Reached:
    """The roster with its later summed stages brought to their ceilings (``_reach_ceilings``)."""

    chosen: set[Pair]
    solver: cp_model.CpSolver | None
    """The fixed-roster solve of ``chosen``, where it was completed."""
    soft_change: int
    """How much the searches changed the soft penalty (where not completed)."""
    summed: dict[str, int]
    """The summed deviations of ``chosen`` (``lns.summed_deviations``), by stage."""


class _Results(list[StageResult]):
    """The stage results so far; each one is reported as it is added."""

    def __init__(self, report: StageDoneFn | None) -> None:
        super().__init__()
        self.report = report

    def append(self, result: StageResult) -> None:
        super().append(result)
        if self.report is not None:
            self.report(result)

    def revise(self, result: StageResult) -> None:
        """Replace the result of a stage searched again, and report it again."""
        index = next(i for i, r in enumerate(self) if r.name == result.name)
        self[index] = result
        if self.report is not None:
            self.report(result)


@dataclass
class _Run:
    """What the stages of one solve hand on to each other."""

    params: SolverParams
    clock: float
    """``time.perf_counter()`` value that elapsed times and the time limit count from."""
    deadline: float
    """When the stages must end (``StagedSolve._deadline``)."""
    progress: ProgressFn | None
    results: _Results
    best: list[Pair] | None
    """The roster so far."""
    first_at: float | None
    """When the first roster was known, in seconds since ``clock``."""
    current: dict[str, int]
    """Every term's value in ``best``."""
    start_values: tuple[dict[str, int], dict[str, int]] | None
    """CP-SAT's values of the start roster, valid while no stage has found another."""
    unsolved: bool
    """Whether ``current`` holds the checker's values of ``best``, no solve's."""
    soft_of_doctor: dict[int, int] | None
    """Each doctor's soft penalty in the start, where no solve gives it."""
    last_solver: cp_model.CpSolver | None = None
    """The search whose solution is ``best`` (its values are CP-SAT's own)."""
    pending: bool = False
    """Whether ``best`` is not the roster of ``last_solver`` (``_defers_completions``)."""
    held: dict[str, int] = field(default_factory=dict)
    """Ceilings of later summed stages that the stages from the soft one on keep."""
    overrun: float = 0.0
    """The most a search overran its limit by (loading and presolving the model), taken off
    the next budgets."""
    start_sums: dict[str, int] = field(default_factory=dict)
    """The start's summed deviation per tag and summed total (by term), where it has them."""


class StagedSolve:
    """Run the stages on a model.

    What one solve learns (each tag's largest deviation, the stages' values held, the spread's
    bounds) stays with it.
    """

    def __init__(self, sat: CpSatModel) -> None:
        self.sat = sat
        self._largest: dict[str, int] = {}
        self._spread_bounds: dict[str, int] = {}
        """Each tag's lower bound on its largest deviation, from the spread stage's relaxations."""
        self._held: dict[str, int] = {}
        """Each finished stage's value, which the model holds its expression at or below."""
        self._held_rules: tuple[str, ...] = ()
        """Soft rules held at their penalty from the soft stage's end on (``_hold_bunching``)."""

    def _stage_expression(self, name: str, best: Collection[Pair] | None) -> tuple[Expr, int]:
        """Return a stage's expression and its combinatorial lower bound."""
        if name == "at_spread":
            assert best is not None
            largest = self.sat.by_tag(best, summed=False)
            self._largest = largest
            expression = build_at_spread(self.sat.ctx, self.sat.fairness, largest)
            return expression, self.sat.bounds.at_spread(self.sat.instance, largest)
        return self.sat.objectives[name], self.sat.bounds.of_stage(name)

    def _num_at_largest(self, chosen: Collection[Pair]) -> int:
        """Count the rows at their tag's largest deviation (the at_spread term, by hand).

        Counted in Python rather than by a fixed-roster CP-SAT solve, which costs 4 s on the
        250-GP year; the stage's own search then reports CP-SAT's value.
        """
        return sum(self._at_largest_by_tag(chosen).values())

    def _at_largest_by_tag(self, chosen: Collection[Pair]) -> dict[str, int]:
        """Count each tag's rows at its largest deviation (``self._largest``)."""
        by_tag: dict[str, int] = dict.fromkeys(self._largest, 0)
        for row, deviation in zip(
            self.sat.instance.targets, row_distances(self.sat.instance, chosen), strict=True
        ):
            by_tag[row.tag] += deviation >= self._largest[row.tag]
        return by_tag

    def _keep(self, name: str, expression: Expr, value: int) -> None:
        """Hold a finished stage's expression at or below its value."""
        if name == _SPENT_BESIDE:
            # Its ceiling from the soft stage on, lowered or widened (``_held_at``).
            self.sat.hold(name, value)
        else:
            self.sat.model.add(expression <= value)
        self._held[name] = value

    @classmethod
    def _held_at(cls, name: str, value: int, bound: int, ceilings: Mapping[str, int]) -> int:
        """Return what a finished stage is held at: its value, but see ``_SPENT_BESIDE``.

        The summed deviation per tag is held with 1 % of room (the gap at which a search
        stops): where within that gap of its bound, at the top of the gap; where outside it,
        1 % over its value. Never above the rotation's (``ceilings``; the soft stage held it
        at the start's where that was lower). The total stage searches the two sums together
        (``_beside``) and may spend what is left of it. Where proven (at its bound), at its
        value: no roster is fairer per tag, and the stages' order keeps that (on the 10-GP
        subdivision the total stage spent 1.46 of its points, 375.02 against the proven
        373.56, for a total of 195.98 against 199.92; Timefold reached 373.56 with 199.92).
        """
        if name != _SPENT_BESIDE or value <= bound:
            return value
        if cls._within_gap(value, bound):
            top = cls._gap_target(bound, None)
        else:
            top = math.floor(value * (1 + _RELATIVE_GAP))
        ceiling = ceilings.get(name)
        return max(value, top if ceiling is None else min(top, ceiling))

    def _beside(self, name: str, current: Mapping[str, int]) -> str | None:
        """Return the earlier stage a stage is searched together with (``_SPENT_BESIDE``)."""
        held = self._held.get(_SPENT_BESIDE)
        now = current.get(TERM_OF_STAGE[_SPENT_BESIDE])
        if name != "total" or held is None or now is None or held <= now:
            return None
        return _SPENT_BESIDE

    def _relaxed_bound(
        self,
        name: str,
        lower: int,
        best: Collection[Pair] | None,
        value: int | None,
        deadline: float,
        params: SolverParams,
    ) -> int:
        """Raise a stage's bound with the per-tag relaxations, while they may still help.

        Only the tags whose combinatorial bound is below the roster's value on that tag are
        relaxed (on the 500-GP quarter the day and night spreads already meet it): the
        weekend's relaxation, which needs 2.5 s there, got 0.75 s when all four tags shared
        it and proved 4 577 instead of 6 397. The open tags share the time in proportion to
        how far the roster is above their bound, the smallest first so that time one leaves
        over goes to the next: on the 250-GP year the weekend (48.00 points against a bound
        of 16.83) needed 4.7 s through the counts, and got half of 4.9 s beside the holiday
        (48.60 against 46.90), which proved nothing more.

        The total stage's relaxation is one model of every tag (``total_bound``), with each
        tag's largest and the summed deviation as the stages before hold them.
        """
        if name not in _RELAX_SHARE or best is None or value is None or value <= lower:
            return lower
        # Deterministic runs (tests) give the relaxations of a stage a fixed share of that
        # stage's budget: they are small models, and a bound found quickly saves a search.
        deterministic = _stage_deterministic(params, _RELAX_SHARE[name])
        if name == "total":
            if "deviation" not in self._held or not self._largest:
                return lower
            relaxed = total_bound(
                self.sat.instance,
                self._largest,
                self._held["deviation"],
                deadline=deadline,
                num_workers=params.num_workers,
                deterministic_s=deterministic,
            )
            return max(lower, relaxed)
        objective = {"spread": "max", "deviation": "sum", "at_spread": "at"}[name]
        combinatorial: Mapping[str, int]
        if name == "at_spread":
            combinatorial = self.sat.bounds.at_spread_by_tag(self.sat.instance, self._largest)
            now = self._at_largest_by_tag(best)
        else:
            summed = name == "deviation"
            combinatorial = (
                self.sat.bounds.deviation_by_tag if summed else self.sat.bounds.spread_by_tag
            )
            now = self.sat.by_tag(best, summed=summed)
        by_tag = {tag: combinatorial.get(tag, 0) for tag in sorted(self.sat.fairness.rows_of_tag)}
        above = {tag: now[tag] - bound for tag, bound in by_tag.items() if bound < now[tag]}
        open_tags = sorted(above, key=lambda tag: (above[tag], tag))
        total_above = left_above = sum(above.values())
        for tag in open_tags:
            share = above[tag] / left_above
            left_above -= above[tag]
            tag_deadline = time.perf_counter() + (deadline - time.perf_counter()) * share
            relaxed = tag_bound(
                self.sat.instance,
                tag,
                objective=objective,
                deadline=tag_deadline,
                num_workers=params.num_workers,
                cap=None if name == "spread" else self._largest.get(tag),
                within=now[tag] if name == "spread" else None,
                deterministic_s=None
                if deterministic is None
                else deterministic * above[tag] / total_above,
            )
            by_tag[tag] = max(relaxed, by_tag[tag])
        if name == "spread":
            for tag, bound in by_tag.items():
                self.sat.model.add(self.sat.fairness.tag_max[tag] >= bound)
            self._spread_bounds = by_tag
        return max(lower, sum(by_tag.values()))

    def _search(
        self,
        expression: Expr,
        budget_s: float,
        params: SolverParams,
        callback: SearchProgress,
        deterministic_share: float = 1.0,
        *,
        linear: bool = True,
    ) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
        """Search the whole model (``CpSatModel.run``) until the stages' gap."""
        deterministic_s = _stage_deterministic(params, deterministic_share)
        return self.sat.run(
            expression,
            budget_s,
            params,
            callback,
            deterministic_s,
            relative_gap=_RELATIVE_GAP,
            linear=linear,
        )

    def _at_bounds(
        self, expression: Expr, budget_s: float, params: SolverParams, callback: SearchProgress
    ) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver | None]:
        """Search for a roster with every tag's largest deviation at its lower bound.

        The domains of the tags' largest deviations are cut to their bounds for this search
        and restored after it: a question of feasibility, whose propagation prunes every row
        at once, where minimising the sum of the largest values does not. Without the LP and
        without the start as hint (measured on the 10-GP subdivision year, where a roster at
        the bounds exists: with the LP none in 106 s; with the hint 9-10 s, without it 4 s).
        """
        variables = self.sat.model.proto.variables
        saved = {}
        for tag, bound in self._spread_bounds.items():
            domain = variables[self.sat.fairness.tag_max[tag].index].domain
            saved[tag] = list(domain)
            low = domain[0]
            domain.clear()
            domain.extend([low, max(low, bound)])
        hint = cp_model_helper.PartialVariableAssignment()
        hint.copy_from(self.sat.model.proto.solution_hint)
        self.sat.model.proto.clear_solution_hint()
        try:
            code, solver = self._search(
                expression, budget_s, params, callback, _AT_BOUNDS_SHARE, linear=False
            )
        finally:
            self.sat.model.proto.solution_hint.copy_from(hint)
            for tag, values in saved.items():
                domain = variables[self.sat.fairness.tag_max[tag].index].domain
                domain.clear()
                domain.extend(values)
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
        stage_done: StageDoneFn | None = None,
        after_s: float = 0.0,
        ceilings: Mapping[str, int] | None = None,
        beside: Mapping[str, int] | None = None,
        checked: StartValues | None = None,
    ) -> Solved:
        """Run the lexicographic stages within ``params.time_limit_s`` from ``clock``.

        Parameters
        ----------
        start
            A roster known to keep every hard rule (checked by the caller), to improve on.
        clock
            ``time.perf_counter()`` value that elapsed times and the time limit count from.
        start_found_at
            When ``start`` was known, in seconds since ``clock``.
        after_s
            What the caller still does within the time limit once this returns (the checker).
        ceilings
            Values of the summed stages after the soft one (``deviation``, ``total``) that the
            soft stage and later ones keep, where the roster entering the soft stage is within
            them (else its own value): the rotation's, so that spreading duties over time
            never costs the summed fairness a coordinator's rotation reaches; the start's
            where that is lower (``_enter_soft``).
        beside
            What a later sum is held at while an earlier one is brought to its ceiling, where
            above its own ceiling: the rotation's that sets the earlier one's (a roster at
            that rotation's summed deviation per tag and below its total is as fair as it on
            both). Held at its own ceiling, the total stopped the 500-GP year's summed
            deviation per tag 0.4 % above the rotation's; beside it, it is then brought to its
            own ceiling in turn.
        checked
            The checker's values of ``start``. Where the stages complete their roster once
            (``_defers_completions``), they start from them instead of CP-SAT's:
            one fixed-roster solve fewer (5.5 s of the 500-GP year's 60; its soft stage then
            had 20.6 s instead of 14.2 and ended at 136 626 instead of 140 778), and the
            first completion checks CP-SAT's values against them plus what the searches
            changed.
        """
        clock = time.perf_counter() if clock is None else clock
        run = self._begin(
            params, progress, stage_done, start, checked, clock, start_found_at, after_s
        )
        for name in stages:
            without_roster = self._stage(run, name, stages, ceilings or {}, beside)
            if without_roster is not None:
                return without_roster
        return self._end(run, stages, after_s)

    def _begin(
        self,
        params: SolverParams,
        progress: ProgressFn | None,
        stage_done: StageDoneFn | None,
        start: Collection[Pair] | None,
        checked: StartValues | None,
        clock: float,
        start_found_at: float | None,
        after_s: float,
    ) -> _Run:
        """Take the start's values (the checker's, or CP-SAT's) and set the stages' end."""
        best: list[Pair] | None = list(start) if start is not None else None
        first_at = start_found_at if best is not None else None
        current: dict[str, int] = {}
        start_values: tuple[dict[str, int], dict[str, int]] | None = None
        unsolved = False
        soft_of_doctor: dict[int, int] | None = None
        if best is not None and checked is not None and self._defers_completions:
            current, unsolved = dict(checked.terms), True
            soft_of_doctor = checked.soft_of_doctor
            self.sat.hint_pairs(best)
        elif best is not None:
            start_values = self.sat.evaluate(best, params, both_ways=False)
            if start_values is None:
                best, first_at = None, None
            else:
                current = dict(start_values[0])
                assert self.sat.hint_values is not None
                self.sat.hint_all(self.sat.hint_values)
        # The final values come from the last solve (see ``CpSatModel.final_values``): what
        # is kept back is for reading them, and for the caller's checker.
        sums = [TERM_OF_STAGE[name] for name in ("deviation", "total")]
        return _Run(
            params,
            clock,
            self._deadline(clock, params.time_limit_s, after_s),
            progress,
            _Results(stage_done),
            best,
            first_at,
            current,
            start_values,
            unsolved,
            soft_of_doctor,
            start_sums={term: current[term] for term in sums if term in current},
        )

    def _stage(
        self,
        run: _Run,
        name: str,
        stages: Sequence[str],
        ceilings: Mapping[str, int],
        beside: Mapping[str, int] | None,
    ) -> Solved | None:
        """Run one stage; returns a solve without a roster where there is none to be had."""
        stage_started = time.perf_counter()
        if run.pending and not self._defers_completions:
            assert run.best is not None
            run.last_solver, run.current = self._settle(run.best, run.current, run.params)
            run.pending = False
        if name == "soft" and run.best is not None:
            self._lower_total(run)
            if ceilings:
                self._enter_soft(run, stages, ceilings, beside)
            assert run.best is not None
            self.sat.keep_figures(run.best)
        expression, lower = self._stage_expression(name, run.best)
        term = TERM_OF_STAGE[name]
        if name == "at_spread" and run.best is not None:
            run.current[term] = self._num_at_largest(run.best)
        if run.best is not None and run.current.get(term, lower) > lower:
            relax_s = (run.deadline - time.perf_counter()) * self._share(name)
            # A spread stage that will not search gives its relaxations the whole of it.
            will_search = name != "spread" or self._searches_spread
            relax_share = _RELAX_SHARE.get(name, 0) if will_search else 1.0
            relax_until = time.perf_counter() + relax_s * relax_share
            if name == "total" and self._defers_completions:
                relax_until = min(relax_until, time.perf_counter() + _TOTAL_RELAX_MOST_S)
            lower = self._relaxed_bound(
                name, lower, run.best, run.current.get(term), relax_until, run.params
            )
        if not self._done_without_search(run, name, expression, lower, ceilings, stage_started):
            solved = self._searched_stage(
                run, name, stages, expression, lower, ceilings, stage_started
            )
            if solved is not None:
                return solved
        if name == "soft":
            self._hold_bunching(run)
        return None

    def _hold_bunching(self, run: _Run) -> None:
        """Hold the close-duties rule at its penalty in the soft stage's roster.

        The stages after the soft one hold the soft penalty, not each rule's part of it: they
        may trade a lower even-load penalty for two duties close together, what a coordinator
        looks at first. On the 250-GP year the total stage took the soft stage's one close pair
        to two (0.09 % of consecutive duties, Timefold's share) in a 60-s solve. Held in the
        model and by every later neighbourhood (``Stage.held_rules``).
        """
        rule = str(Rule.CLOSE_DUTIES)
        expression = self.sat.penalties.get(rule)
        if expression is None or run.best is None:
            return
        self._held_rules = (rule,)
        if self._defers_completions:
            # No whole-model search follows (``_FULL_SHARE_BEFORE_LNS``): the neighbourhoods'
            # hold is the one, and the roster is completed once, at the end.
            return
        if run.pending or run.unsolved or run.last_solver is None:
            run.last_solver, run.current = self._settle(run.best, run.current, run.params)
            run.pending = run.unsolved = False
        self.sat.model.add(expression <= int(run.last_solver.value(expression)))

    def _lower_total(self, run: _Run) -> None:
        """Lower the largest |total deviation| of a doctor, all the tags' levels kept.

        After the tags' largest deviations (the spread and at-spread stages), before the soft
        stage, which holds the roster's largest total from then on (``keep_figures``): a level
        over all tags together, lowered by pairs and teams of the doctor who holds it
        (``lns.lower_largest``), where the summed deviation per tag does not rise; no finished
        stage's value rises (the model's completion would fail where one did). Not on
        a model over ``_SPREAD_SEARCH_UP_TO`` pairs: on the 250- and 500-GP years the start's
        largest total is already under Timefold's (67.45 points against 76.46, 66.68 against
        72.32 in the benchmark run at 5e78450), and the time is the soft stage's.
        """
        assert run.best is not None
        if not self._searches_spread or not self.sat.splittable or self.sat.keep:
            return
        now = time.perf_counter()
        until = now + (run.deadline - now) * _TOTAL_LEVEL_SHARE - self._completion_s
        deterministic_s = _stage_deterministic(run.params, _TOTAL_LEVEL_SHARE)
        chosen = set(run.best)
        lowered = lower_largest(
            self.sat.instance,
            chosen,
            rules=self.sat.rules,
            until=until,
            params=run.params,
            deterministic_s=deterministic_s,
            total_only=True,
        )
        if lowered == chosen:
            return
        self._adopt(run, sorted(lowered), self.sat.fixed_solver(lowered, run.params))

    def _adopt(self, run: _Run, chosen: list[Pair], solver: cp_model.CpSolver) -> None:
        """Make a completed roster the run's: its solve the hint and the values now."""
        run.best, run.last_solver = chosen, solver
        self.sat.hint_all(list(solver.response_proto.solution))
        run.current = self.sat.current(solver)
        run.pending = run.unsolved = False

    def _enter_soft(
        self,
        run: _Run,
        stages: Sequence[str],
        ceilings: Mapping[str, int],
        beside: Mapping[str, int] | None,
    ) -> None:
        """Bring the later sums to their ceilings (``_reach_ceilings``) and hold them.

        A sum's ceiling here is the start's where that is lower than the rotation's: the
        stages before the soft one do not look at the sums (the spread's pairs may raise them
        to the rotation's), and the soft stage keeps what it is given. On the 10-GP
        subdivision the spread stage's roster at its bounds came with a summed deviation per
        tag of 413.36 points where the start had 373.56 (the lowest there is) and the
        rotation 518.42; held at the rotation's, it ended at 413.36 (one run at 706582b).
        """
        assert run.best is not None
        ceilings = {
            name: min(ceiling, run.start_sums.get(TERM_OF_STAGE[name], ceiling))
            for name, ceiling in ceilings.items()
        }
        complete = not self._defers_completions
        reached = self._reach_ceilings(
            ceilings, stages, run.best, run.params, run.deadline, complete=complete, beside=beside
        )
        if reached is not None and reached.solver is not None:
            self._adopt(run, self.sat.chosen(reached.solver), reached.solver)
        elif reached is not None:
            self._defer(run, reached.chosen, reached.soft_change)
        run.held = self._hold(ceilings, stages, run.current)

    def _defer(self, run: _Run, chosen: Collection[Pair], soft_change: int) -> None:
        """Take a roster the searches found, its completion left to a later solve.

        Its soft penalty moved by ``soft_change`` (the searches added it up); its summed
        deviations are computed here. ``_settle`` (or the completion that ends a later search)
        checks them against CP-SAT's.
        """
        run.best, run.pending = sorted(chosen), True
        run.current[TERM_OF_STAGE["soft"]] += soft_change
        summed = summed_deviations(self.sat.instance, set(chosen))
        run.current.update({TERM_OF_STAGE[k]: v for k, v in summed.items()})

    def _parts_of_doctors(
        self, run: _Run, name: str, solution: Sequence[int]
    ) -> Mapping[int, int] | None:
        """Return each doctor's part of a summed stage's value now, for drawing neighbourhoods.

        The summed deviations from the roster itself (a deferred completion leaves no solution
        of it); the soft penalty from the stage's solution, else the start's (the checker's).
        """
        if name in TRADED_STAGES:
            assert run.best is not None
            return summed_by_doctor(self.sat.instance, set(run.best), name)
        return self.sat.doctor_values(name, solution) or (
            run.soft_of_doctor if name == "soft" else None
        )

    def _done_without_search(
        self,
        run: _Run,
        name: str,
        expression: Expr,
        lower: int,
        ceilings: Mapping[str, int],
        stage_started: float,
    ) -> bool:
        """Finish a stage that needs no search, or has no time for one; False otherwise."""
        term = TERM_OF_STAGE[name]
        value_now = run.current.get(term)
        if (
            run.best is not None
            and value_now is not None
            and self._within_gap(value_now, lower)
            and value_now <= ceilings.get(name, value_now)
        ):
            # At its bound, or within the gap a search stops at: done without a search
            # (and CP-SAT's presolve saved); proven where equal. Not while a summed
            # deviation is above the rotation's: a roster of that value exists (on the
            # 100-GP quarter the stage stopped 0.5 % from its bound, 0.1 % above it).
            status = SolveStatus.OPTIMAL if value_now == lower else SolveStatus.FEASIBLE
            run.results.append(
                StageResult(name, status, value_now, lower, time.perf_counter() - stage_started)
            )
            self._keep(name, expression, self._held_at(name, value_now, lower, ceilings))
            return True
        remaining = run.deadline - time.perf_counter()
        if run.best is not None and (
            remaining < _MIN_STAGE_S or (name == "spread" and not self._searches_spread)
        ):
            # No time left, or a spread search that would not move it: the roster's value,
            # and the time its relaxations took.
            value = run.current.get(term, lower)
            run.results.append(
                StageResult(
                    name,
                    SolveStatus.FEASIBLE,
                    value,
                    lower,
                    time.perf_counter() - stage_started,
                )
            )
            self._keep(name, expression, value)
            return True
        return False

    def _searched_stage(
        self,
        run: _Run,
        name: str,
        stages: Sequence[str],
        expression: Expr,
        lower: int,
        ceilings: Mapping[str, int],
        stage_started: float,
    ) -> Solved | None:
        """Search a stage: the whole model, then (on a circle) its neighbourhoods."""
        params, term = run.params, TERM_OF_STAGE[name]
        entering, entering_value = run.best, run.current.get(term)
        if lower > 0:
            self.sat.model.add(expression >= lower)
        # A search overruns its limit by what loading and presolving the model take (2-6 s
        # on a circle year); the largest overrun so far is taken off the next budget.
        share = 1.0 if name == stages[-1] else self._share(name)
        remaining = run.deadline - time.perf_counter()
        lns = name in _LNS_STAGES and self.sat.splittable
        deferred = self._defers_completions and name in _DEFERRED_STAGES
        if deferred:
            # The one completion, after the last stage, is every such stage's to leave.
            remaining -= self._completion_s
        budget = max(_MIN_STAGE_S, remaining * share - run.overrun)
        beside = self._beside(name, run.current)
        searched, scale, cap = self._tie_broken(name, stages, expression, run.current, beside)
        callback = SearchProgress(name, run.clock, run.progress, scale, cap)
        stage_until = time.perf_counter() + budget
        full_share = self._full_share(beside) if lns else 1.0
        code, solver, searched_bound = self._full_search(
            run,
            name,
            expression,
            searched,
            callback,
            budget * full_share,
            full_share,
            stage_until,
            ceilings,
        )
        if run.first_at is None:
            run.first_at = callback.first_at
        found = solver is not None and code in _FOUND
        if not found and run.best is None:
            status = (
                SolveStatus.INFEASIBLE if code == cp_model.INFEASIBLE else SolveStatus.NO_SOLUTION
            )
            return Solved(status, Roster(), {}, {}, (), run.first_at)
        evaluated_by: cp_model.CpSolver | None = None
        if found:
            assert solver is not None
            run.best = self.sat.chosen(solver)
            # The stage's value in CP-SAT's returned solution. (With several workers and a
            # time limit, CP-SAT 9.15 at times reports an objective_value above that of the
            # solution it returns, which is feasible; the solution is what is kept.)
            value = int(solver.value(expression))
            objective_bound = (
                solver.best_objective_bound if searched_bound is None else searched_bound
            )
            bound = math.ceil((objective_bound - cap) / scale - 1e-9)
            if bound > value:
                raise SolverError(f"stage {name}: CP-SAT's bound {bound} exceeds {value}")
            solution = list(solver.response_proto.solution)
            evaluated_by = solver
        else:
            value, bound = run.current.get(term, lower), lower
            solution = self.sat.hinted_solution()
        if (
            lns
            and full_share < 1.0
            and code != cp_model.OPTIMAL
            and value > max(bound, lower)
            and run.best is not None
        ):
            # The full search on a circle-sized model is where time is lost; trading
            # duties among a few doctors at a time is where the stage improves.
            done = tuple(stages[: stages.index(name)])
            later = stages[stages.index(name) + 1 :]
            outcome, completed = self._improve(
                set(run.best),
                value,
                Stage(
                    name,
                    done,
                    self._largest if "at_spread" in (*done, name) else None,
                    self._next_summed(name, stages),
                    {k: v for k, v in run.held.items() if k in later}
                    | ({} if beside is None else {beside: self._held[beside]}),
                    beside=beside,
                    held_rules=self._held_rules,
                ),
                expression,
                stage_until,
                params,
                penalty_of_doctor=self._parts_of_doctors(run, name, solution),
                on_improve=self._lns_progress(name, run.clock, run.progress, max(bound, lower)),
                target=self._gap_target(max(bound, lower), ceilings.get(name)),
                # (The soft stage's own change is its value.)
                tracked="soft" if deferred and name != "soft" else None,
                complete=not deferred,
                changed=run.pending,
            )
            if completed is not None:
                run.best = sorted(outcome.chosen)
                value, solution = outcome.value, list(completed.response_proto.solution)
                evaluated_by = completed
            elif outcome.changed:
                self._defer(run, outcome.chosen, outcome.tracked)
                value = outcome.value
                if name in TRADED_STAGES and run.current[term] != value:
                    raise SolverError(
                        f"stage {name}: the neighbourhoods' value {value} is not the "
                        f"roster's {run.current[term]}"
                    )
        if (
            evaluated_by is not None
            and name in _SIDEWAYS_DROPPED
            and entering_value is not None
            and value >= entering_value
        ):
            # The stage did not lower its value: the roster it started from is kept (its
            # sideways moves only cost the sums after the soft stage: 50-GP quarter's
            # summed deviation 163 959 after them against the rotation's 163 701).
            run.best, value, evaluated_by = entering, entering_value, None
        if evaluated_by is not None:
            self.sat.hint_all(solution)
            run.current = self.sat.current(evaluated_by)
            run.last_solver, run.pending, run.unsolved = evaluated_by, False, False
        bound = max(bound, lower)
        run.current[term] = value
        # CP-SAT says OPTIMAL once the gap is within relative_gap_limit; proven means equal.
        run.results.append(
            StageResult(
                name,
                SolveStatus.OPTIMAL if value == bound else SolveStatus.FEASIBLE,
                value,
                bound,
                time.perf_counter() - stage_started,
            )
        )
        self._keep(name, expression, self._held_at(name, value, bound, ceilings))
        if beside is not None:
            self._revise_beside(run, beside)
        return None

    def _full_search(
        self,
        run: _Run,
        name: str,
        expression: Expr,
        searched: Expr,
        callback: SearchProgress,
        full_budget: float,
        full_share: float,
        stage_until: float,
        ceilings: Mapping[str, int],
    ) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver | None, float | None]:
        """Search the whole model for a stage (the spread's first at its bounds, then by pairs).

        Returns CP-SAT's status and solver, and the full search's bound where its roster is
        not the one returned (the spread's pairs' roster is). ``searched``: the stage's
        expression as searched (tie-broken, ``_tie_broken``); ``full_share``: the share of the
        stage's time the full search takes (the rest is for the neighbourhoods).
        """
        params, term = run.params, TERM_OF_STAGE[name]
        searched_at = time.perf_counter()
        code: cp_model.CpSolverStatus = cp_model.UNKNOWN
        solver: cp_model.CpSolver | None = None
        if name == "spread" and run.best is not None and self._spread_bounds:
            code, solver = self._at_bounds(
                expression, full_budget * _AT_BOUNDS_SHARE, params, callback
            )
            full_budget = max(_MIN_STAGE_S, stage_until - time.perf_counter())
        lowered: cp_model.CpSolver | None = None
        if name == "spread" and run.best is not None and code not in _FOUND:
            lowered = self._lower_spread(
                run.best,
                run.current[term],
                params,
                time.perf_counter() + full_budget * _LOWERING_SHARE,
                ceilings.get("deviation"),
                run.current.get(TERM_OF_STAGE["deviation"]),
            )
            if lowered is not None:
                self.sat.hint_all(list(lowered.response_proto.solution))
            full_budget = max(_MIN_STAGE_S, stage_until - time.perf_counter())
        if code not in _FOUND and (full_share > 0 or run.best is None):
            code, solver = self._search(searched, full_budget, params, callback, full_share)
            run.overrun = max(run.overrun, time.perf_counter() - searched_at - full_budget)
        if lowered is not None and (
            solver is None
            or code not in _FOUND
            or solver.value(expression) > lowered.value(expression)
        ):
            # The search did not better the pairs' roster (its hint): that roster, with
            # the search's bound where it has one.
            searched_bound = (
                solver.best_objective_bound
                if solver is not None and code in _FOUND
                else callback.cap
            )
            return cp_model.FEASIBLE, lowered, searched_bound
        return code, solver, None

    def _end(self, run: _Run, stages: Sequence[str], after_s: float) -> Solved:
        """Give the soft stage the time left, and read CP-SAT's final values of the roster."""
        assert run.best is not None  # a solve without a roster ended at its stage
        polished = self._soft_with_time_left(run, stages)
        if polished is not None:
            run.best, run.last_solver = self.sat.chosen(polished), polished
            run.current, run.pending, run.unsolved = self.sat.current(polished), False, False
            # Where it completed deferred searches, the sums they added up are CP-SAT's too.
            summed = summed_deviations(self.sat.instance, set(run.best))
            self._check_searched({TERM_OF_STAGE[k]: v for k, v in summed.items()}, run.current)
        if run.pending or run.unsolved:
            run.last_solver, run.current = self._settle(run.best, run.current, run.params)
        terms, penalties = self.sat.final_values(
            run.best,
            run.last_solver,
            run.start_values,
            run.current,
            run.params,
            run.clock,
            after_s,
        )
        proven = len(run.results) == len(stages) and all(
            r.status is SolveStatus.OPTIMAL for r in run.results
        )
        return Solved(
            SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
            self.sat.instance.roster_of(run.best),
            terms,
            penalties,
            tuple(run.results),
            run.first_at,
        )

    def _soft_with_time_left(self, run: _Run, stages: Sequence[str]) -> cp_model.CpSolver | None:
        """Give the time the stages after the soft one left to its neighbourhoods, all held.

        Every other stage keeps its value (each neighbourhood its part), so a lower soft
        penalty is a better roster by the stages' order whatever comes after it. Returns the
        completed roster's solver where the searches changed it, and reports the soft stage
        again with its new value. (The stages after the soft one prove fast on small
        models: the 28-GP demo ended 5.2 s before its 30, the 10-GP subdivision year 8 s
        before its 60.)
        """
        value = run.current.get(TERM_OF_STAGE["soft"])
        solution = None if run.pending else run.last_solver
        soft = next((r for r in run.results if r.name == "soft"), None)
        if (
            soft is None
            or value is None
            or soft.status is SolveStatus.OPTIMAL
            or not self.sat.splittable
            or run.best is None
        ):
            return None
        started = time.perf_counter()
        if run.deadline - started - self._completion_s < _MIN_STAGE_S:
            return None
        outcome, completed = self._improve(
            set(run.best),
            value,
            Stage(
                "soft",
                tuple(name for name in stages if name != "soft"),
                self._largest if "at_spread" in stages else None,
                held_rules=self._held_rules,
            ),
            self.sat.objectives["soft"],
            run.deadline,
            run.params,
            penalty_of_doctor=None
            if solution is None
            else self.sat.doctor_values("soft", list(solution.response_proto.solution)),
            on_improve=self._lns_progress("soft", run.clock, run.progress, soft.bound),
            changed=run.pending or run.unsolved,
        )
        if completed is None:
            return None
        if outcome.value < value:
            self._keep("soft", self.sat.objectives["soft"], outcome.value)
            run.results.revise(
                StageResult(
                    "soft",
                    SolveStatus.OPTIMAL if outcome.value == soft.bound else SolveStatus.FEASIBLE,
                    outcome.value,
                    soft.bound,
                    soft.wall_time_s + time.perf_counter() - started,
                )
            )
        return completed

    def _lower_spread(
        self,
        best: Collection[Pair],
        spread: int,
        params: SolverParams,
        until: float,
        ceiling: int | None,
        summed: int | None,
    ) -> cp_model.CpSolver | None:
        """Lower the tags' largest deviations by pairs (``lns.lower_largest``); None if not.

        The summed deviation per tag stays within the rotation's (``ceiling``), or the
        roster's (``summed``) where that is higher, as in the start's lowering. Returns the
        fixed-roster solve of the pairs' roster, where its spread is below the roster's
        (``spread``; a roster that only lowered the largest total would be dropped as a
        sideways move).
        """
        if not self.sat.splittable or self.sat.keep:
            # (A re-plan's pairs would not know which assignments were published.)
            return None
        summed_cap = None if ceiling is None else max(ceiling, summed or 0)
        chosen = set(best)
        deterministic_s = _stage_deterministic(params, _LOWERING_SHARE)
        lowered = lower_largest(
            self.sat.instance,
            chosen,
            rules=self.sat.rules,
            until=until - self._completion_s,
            params=params,
            deterministic_s=deterministic_s,
            summed_cap=summed_cap,
        )
        if lowered == chosen:
            return None
        after = sum(self.sat.by_tag(lowered, summed=False).values())
        if after >= spread:
            return None
        solver = self.sat.fixed_solver(lowered, params)
        model_value = int(solver.value(self.sat.objectives["spread"]))
        if model_value != after:
            raise SolverError(
                f"stage spread: the pairs' spread {after} is not the model's {model_value} "
                "for the same roster"
            )
        return solver

    def _deadline(self, clock: float, time_limit_s: float, after_s: float) -> float:
        """Return when the stages must end.

        What reading the final values takes is kept back, and ``after_s`` (the caller's
        checker) with half again to spare.
        """
        reserve_s = max(_EVALUATION_RESERVE_S, _READING_MARGIN * self.sat.reading_s)
        return clock + time_limit_s - reserve_s - 1.5 * after_s

    @property
    def _searches_spread(self) -> bool:
        """Return whether the spread stage searches (``_SPREAD_SEARCH_UP_TO``)."""
        return len(self.sat.x) <= _SPREAD_SEARCH_UP_TO

    @property
    def _completion_s(self) -> float:
        """Return the time a neighbourhood search leaves to complete its roster (``_improve``)."""
        # Before one is measured (the start's values are the checker's), what one would take.
        fixed_solve_s = self.sat.fixed_solve_s or _FIXED_SOLVE_S_PER_VARIABLE * len(
            self.sat.model.proto.variables
        )
        return _COMPLETION_MARGIN * fixed_solve_s + 0.2

    @property
    def _defers_completions(self) -> bool:
        """Return whether the summed stages' rosters are completed once, after the last one.

        Where no stage from the soft one on has a full search (``_FULL_SHARE_BEFORE_LNS``),
        only neighbourhoods, which add up the values they change: nothing needs the whole
        model's solution in between. The reaching of the ceilings, the soft stage and the
        summed ones then share one fixed-roster solve (``_settle``, in ``_end``), where each
        had its own: on the 500-GP year each took 4-5 s of the 27 s they had in a 60-s solve,
        and left the summed deviation per tag and the total no search at all. (The reaching
        of the ceilings' own completion, the first deferred, left it no time of its own
        there.)
        """
        return self.sat.splittable and self._full_share() == 0

    def _settle(
        self, chosen: Collection[Pair], current: Mapping[str, int], params: SolverParams
    ) -> tuple[cp_model.CpSolver, dict[str, int]]:
        """Complete a roster whose soft penalty and summed deviations the searches added up.

        Or whose values are the checker's (the start's, ``checked`` in ``solve``), where no
        stage changed it.

        Raises
        ------
        SolverError
            When CP-SAT's value of one of them differs from the searches'. (The earlier
            stages' values are kept at most as they were: they may have fallen.)
        """
        solver = self.sat.fixed_solver(chosen, params)
        values = self.sat.current(solver)
        added_up = [TERM_OF_STAGE[name] for name in ("soft", "deviation", "total")]
        self._check_searched({k: current.get(k) for k in added_up}, values)
        self.sat.hint_all(list(solver.response_proto.solution))
        return solver, values

    @staticmethod
    def _check_searched(searched: Mapping[str, int | None], values: Mapping[str, int]) -> None:
        """Raise where a term's value the searches give differs from CP-SAT's (by term)."""
        wrong = {k: (v, values[k]) for k, v in searched.items() if values[k] != v}
        if wrong:
            raise SolverError(f"the searches' values are not the model's: {wrong}")

    @staticmethod
    def _within_gap(value: int, bound: int) -> bool:
        """Return whether a value is within the gap at which a stage's search stops."""
        return value <= StagedSolve._gap_target(bound, None)

    @staticmethod
    def _gap_target(bound: int, ceiling: int | None) -> int:
        """Return the largest value at which a stage's search stops.

        Within the 1 % gap of ``bound`` (value - bound <= 1 % of the value), and not above the
        stage's ceiling where it has one.
        """
        within = math.floor(bound / max(1e-9, 1 - _RELATIVE_GAP))
        return within if ceiling is None else min(within, ceiling)

    def _reach_ceilings(
        self,
        ceilings: Mapping[str, int],
        stages: Sequence[str],
        best: Collection[Pair],
        params: SolverParams,
        deadline: float,
        *,
        complete: bool,
        beside: Mapping[str, int] | None = None,
    ) -> _Reached | None:
        """Bring the later summed stages down to their ceilings where the roster is above.

        The roster entering the soft stage can sit a little above the rotation's summed
        deviation (the spread stages and the rotation variant that avoids soft penalties do
        not look at it): pairs of a doctor over target and one under it, then a short
        neighbourhood search of that stage (``_improve``), the earlier stages kept, stopping
        once the sum is at its ceiling (on the 100-GP quarter, 772 centi-points above, the
        neighbourhoods alone took 330 off in 6.8 s, the pairs all of it in 0.2 s). Returns
        the new roster, or None where nothing changed. With ``complete`` each sum's search
        ends with a fixed-roster solve of the whole model; without, the stages' one completion
        completes it (``_defers_completions``) and the change of the soft penalty is added up
        from the searches.
        """
        done = tuple(stages[: stages.index("soft")])
        chosen, solver = set(best), None
        soft_change = 0
        reached: dict[str, int] = {}
        summed = summed_deviations(self.sat.instance, chosen)
        for name, ceiling in ceilings.items():
            now = summed[name]
            if now <= ceiling or not self.sat.splittable:
                reached[name] = max(ceiling, now)
                continue
            left = deadline - time.perf_counter()
            # At least a short search, beside its completion where it has one (3.8 s on the
            # 500-GP year).
            floor_s = _CEILING_SEARCH_S + (self._completion_s if complete else 0.0)
            searched = max(left * _CEILING_SHARE, floor_s)
            until = time.perf_counter() + min(searched, left * _CEILING_MOST)
            if not complete:
                # The soft stage completes what this finds, even with no time to search.
                until = min(until, deadline - _DEFERRED_COMPLETIONS * self._completion_s)
            # The sums after this one may not rise over their ceilings (or their values now),
            # or what ``beside`` allows: with no hold, the exchanges took the 500-GP year's
            # summed total 2.6 % up and over the rotations'.
            later = {
                other: max((beside or {}).get(other, other_ceiling), other_ceiling, summed[other])
                for other, other_ceiling in ceilings.items()
                if other not in reached and other != name
            }
            outcome, completed = self._improve(
                chosen,
                now,
                # No tie-break by the soft penalty (the soft stage comes next): with it, the
                # 20-GP quarter's summed deviation fell by 0.3 % where it fell by 43 % without.
                Stage(
                    name,
                    done,
                    self._largest if "at_spread" in done else None,
                    None,
                    {**reached, **later},
                ),
                self.sat.objectives[name],
                until,
                params,
                target=ceiling,
                tracked=None if complete else "soft",
                complete=complete,
            )
            reached[name] = max(ceiling, outcome.value)
            if outcome.changed:
                chosen = outcome.chosen
                solver = completed
                soft_change += outcome.tracked
                summed = summed_deviations(self.sat.instance, chosen)
        if chosen == set(best):
            return None
        return _Reached(chosen, solver, soft_change, summed)

    def _improve(
        self,
        chosen: set[Pair],
        value: int,
        stage: Stage,
        expression: Expr,
        until: float,
        params: SolverParams,
        *,
        penalty_of_doctor: Mapping[int, int] | None = None,
        on_improve: Callable[[int], None] | None = None,
        target: int = 0,
        tracked: str | None = None,
        complete: bool = True,
        changed: bool = False,
    ) -> tuple[LnsOutcome, cp_model.CpSolver | None]:
        """Search neighbourhoods (``lns.improve``) and complete the roster found.

        A summed deviation (``lns.TRADED_STAGES``) is first lowered by pairs of a doctor over
        target and one under it (a duty handed over, or two of a tag exchanged), the soft
        penalty by pairs of a doctor with two duties close together or a month over the cap and
        one clear of duties there (``lns.trade``; its deterministic time is taken off the
        neighbourhoods'). The completion is one fixed-roster solve of the whole
        model (None where the roster did not change, or without ``complete``), whose value of
        ``expression`` must be the searches' running value. ``changed``: the roster ``chosen``
        is not the last completed one (it is completed even where the searches keep it).
        ``tracked``: a stage whose change the searches add up (``LnsOutcome.tracked``).
        """
        # The completion's solve must fit before ``until``.
        searched_until = until - self._completion_s if complete else until
        deterministic_s = self._lns_deterministic(params)
        traded = trade(
            self.sat.instance,
            chosen,
            value,
            stage,
            rules=self.sat.rules,
            keep=self.sat.keep,
            until=searched_until,
            params=params,
            deterministic_s=deterministic_s,
            target=target,
            tracked=tracked,
        )
        if deterministic_s is not None:
            deterministic_s = max(0.0, deterministic_s - traded.spent_deterministic)
        if traded.changed and on_improve is not None:
            on_improve(traded.value)
        outcome = improve(
            self.sat.instance,
            traded.chosen,
            traded.value,
            stage,
            rules=self.sat.rules,
            keep=self.sat.keep,
            until=searched_until,
            params=params,
            deterministic_s=deterministic_s,
            penalty_of_doctor=penalty_of_doctor,
            on_improve=on_improve,
            target=target,
            tracked=tracked,
        )
        outcome.changed = outcome.changed or traded.changed
        outcome.tracked += traded.tracked
        if not complete or not (outcome.changed or changed):
            return outcome, None
        completed = self.sat.fixed_solver(outcome.chosen, params)
        if int(completed.value(expression)) != outcome.value:
            raise SolverError(
                f"stage {stage.name}: the neighbourhoods' value {outcome.value} is not the "
                f"model's {int(completed.value(expression))} for the same roster"
            )
        return outcome, completed

    def _hold(
        self, ceilings: Mapping[str, int], stages: Sequence[str], current: Mapping[str, int]
    ) -> dict[str, int]:
        """Add each later stage's ceiling (or its value now, when above) to the model."""
        held = {}
        later = stages[stages.index("soft") + 1 :]
        for name, ceiling in ceilings.items():
            now = current.get(TERM_OF_STAGE[name])
            if name in later and now is not None:
                held[name] = max(ceiling, now)
                self.sat.hold(name, held[name])
        return held

    @staticmethod
    def _next_summed(name: str, stages: Sequence[str]) -> str | None:
        """Return the stage after ``name`` where it is a summed one (it breaks LNS ties).

        Not after the soft stage: the ceilings hold the summed deviations there, and the
        tie-break only slowed its neighbourhoods (one paired 60-s run each: 14 332 against
        12 282 without on the 500-GP quarter, 74 802 against 69 109 on the 250-GP year, the
        summed deviation within the ceiling either way).
        """
        later = stages[stages.index(name) + 1 :]
        if name == "soft" or not later:
            return None
        return later[0] if later[0] in ("soft", "deviation", "total") else None

    def _share(self, name: str) -> float:
        """Return a stage's share of the time left (``_SHARES_BY_SIZE``, ``_STAGE_SHARE``)."""
        shares = next((shares for up_to, shares in _SHARES_BY_SIZE if len(self.sat.x) <= up_to), {})
        return shares.get(name, _STAGE_SHARE[name])

    def _full_share(self, beside: str | None = None) -> float:
        """Return the share of an LNS stage's time for its full search (``_FULL_SHARE_BEFORE_LNS``).

        All of it for a stage searched beside another (``_BESIDE_FULL_UP_TO``).
        """
        if beside is not None and len(self.sat.x) <= _BESIDE_FULL_UP_TO:
            return 1.0
        return next(
            (share for up_to, share in _FULL_SHARE_BEFORE_LNS if len(self.sat.x) <= up_to), 0.0
        )

    def _lns_deterministic(self, params: SolverParams) -> float | None:
        return _stage_deterministic(params, 1 - self._full_share())

    @staticmethod
    def _lns_progress(
        name: str, clock: float, progress: ProgressFn | None, bound: int
    ) -> Callable[[int], None] | None:
        if progress is None:
            return None
        return lambda value: progress(name, value, max(0, bound), time.perf_counter() - clock)

    def _revise_beside(self, run: _Run, beside: str) -> None:
        """Report the stage searched beside another again, with the roster's value now."""
        result = next(r for r in run.results if r.name == beside)
        value = run.current[TERM_OF_STAGE[beside]]
        if value != result.objective:
            status = SolveStatus.OPTIMAL if value == result.bound else SolveStatus.FEASIBLE
            run.results.revise(replace(result, status=status, objective=value))

    def _tie_broken(
        self,
        name: str,
        stages: Sequence[str],
        expression: Expr,
        current: dict[str, int],
        beside: str | None = None,
    ) -> tuple[Expr, int, int]:
        """Return what a stage searches, with the scale and the cap on what is added to it.

        A stage of ``_TIE_BROKEN`` before the soft stage searches its term tie-broken by the
        soft penalty: searched alone, CP-SAT is free to reshuffle everything else (on the
        250-GP year the spread search improved the spread by 4 % and nearly doubled the
        rotation's soft penalty, which the soft stage could not repair in its time).
        With soft <= cap (twice its current value, plus slack) and scale = cap + 1, minimising
        scale * term + soft ranks rosters by the term first, exactly, among those rosters; the
        stage's bound on the term is ceil((bound - cap) / scale).
        """
        if beside is not None:
            # The sum of both; the stage's bound is that of the sum less what is held beside.
            both = cp_model.LinearExpr.sum([expression, self.sat.objectives[beside]])
            return both, 1, self._held[beside]
        soft_now = current.get("soft_penalty")
        later = stages[stages.index(name) + 1 :]
        if name not in _TIE_BROKEN or "soft" not in later or soft_now is None:
            return expression, 1, 0
        cap = 2 * soft_now + 100
        self.sat.model.add(self.sat.objectives["soft"] <= cap)
        scale = cap + 1
        searched = cp_model.LinearExpr.weighted_sum(
            [expression, self.sat.objectives["soft"]], [scale, 1]
        )
        return searched, scale, cap
