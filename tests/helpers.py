"""Tiny scenario builders and the two-sided rule assertions used by the rule tests."""

from __future__ import annotations

import copy
import time
from collections.abc import Collection
from typing import Any

from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.objective import Evaluation, evaluate_roster
from wachtplanner.exceptions import ScenarioInfeasibleError
from wachtplanner.expand import expand_shifts
from wachtplanner.result import Result, SolveStatus
from wachtplanner.solver import SolverParams, solve
from wachtplanner.solver.cpsat.model import CpSatModel
from wachtplanner.solver.cpsat.staged import StagedSolve
from wachtplanner.solver.instance import compile_instance

FAST = SolverParams(time_limit_s=60, num_workers=1, random_seed=1, deterministic_time=2.0)
"""Deterministic: one worker, a fixed seed and a limit in CP-SAT's deterministic time units
(about 1 s here), so a test solves the same roster on any machine; the wall-clock limit is
only a safety net."""

WEEKNIGHT: dict[str, Any] = {
    "id": "weeknight",
    "label": "Weekwacht",
    "scope": "area",
    "days": ["mon", "tue", "wed", "thu"],
    "start": "19:00",
    "end": "08:00",
    "skip_holidays": True,
    "tags": ["night"],
}
WEEKEND: dict[str, Any] = {
    "id": "weekend",
    "label": "Weekendwacht",
    "scope": "post",
    "days": ["fri"],
    "start": "19:00",
    "end": "08:00",
    "span_days": 3,
    "points_per_hour": 1.3,
    "tags": ["weekend"],
}

HOLIDAY: dict[str, Any] = {
    "id": "holiday",
    "label": "Feestdagwacht",
    "scope": "post",
    "days": ["holiday_eve"],
    "start": "19:00",
    "end": "08:00",
    "span_days": 2,
    "tags": ["holiday"],
}
"""A block from each holiday's eve 19:00 to 08:00 after the holiday (Christmas: 24-26 Dec)."""
CHRISTMAS = "holiday/wp/2027-12-24"
"""The ``HOLIDAY`` block of Christmas 2027 at the post ``wp``, by its shift id."""


SPREAD_RULES_OFF: dict[str, Any] = {
    "max_consecutive_nights": None,
    "max_duties_per_7_days": None,
    "min_days_between_duties": None,
    "even_load": None,
    "holiday_rotation": None,
    "holiday_share": None,
}
"""The spread-over-time rules (on by default) switched off, so a rule's test sees only it."""


def tiny_doc(num_doctors: int = 4, **overrides: Any) -> dict[str, Any]:
    """One area and post, ``num_doctors`` GPs, weeknights of the week of Mon 8 Feb 2027.

    The spread-over-time rules are off unless ``rules`` names them (4 nights among few doctors
    would otherwise cost min-gap penalties in every test of another rule).
    """
    doc: dict[str, Any] = {
        "name": "tiny",
        "horizon": {"start": "2027-02-08", "end": "2027-02-11"},
        "areas": [{"id": "noord", "name": "WDO Noord"}],
        "posts": [{"id": "wp", "name": "Wachtpost", "areas": ["noord"]}],
        "practices": [{"id": "p1", "name": "Praktijk 1", "area": "noord"}],
        "doctors": [
            {"id": f"d{i}", "name": f"Dr. {i}", "practice": "p1"} for i in range(num_doctors)
        ],
        "shift_types": [copy.deepcopy(WEEKNIGHT)],
        "rules": {"min_rest_hours": 11},
    }
    doc.update(overrides)
    doc["rules"] = {**SPREAD_RULES_OFF, **doc["rules"]}
    return doc


def scenario_of(doc: dict[str, Any]) -> Scenario:
    """Validate a scenario document."""
    return Scenario.model_validate(doc)


def evaluate(scenario: Scenario, pairs: list[tuple[str, str]]) -> Evaluation:
    """Evaluate a hand-made roster given as (shift_id, doctor_id) pairs."""
    roster = Roster(assignments=tuple(Assignment(shift_id=s, doctor_id=d) for s, d in pairs))
    return evaluate_roster(scenario, expand_shifts(scenario), roster)


def broken(scenario: Scenario, pairs: list[tuple[str, str]]) -> set[str]:
    """Return the hard rules a hand-made roster breaks per the checker."""
    return {v.rule for v in evaluate(scenario, pairs).hard_violations}


def solve_checked(scenario: Scenario, fixed: list[tuple[str, str]] | None = None) -> Result:
    """Solve, and assert the independent checker agrees: zero hard violations, same terms."""
    result = solve(scenario, FAST, fixed=fixed or [])
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    evaluation = evaluate_roster(scenario, expand_shifts(scenario), result.roster)
    assert evaluation.hard_violations == ()
    assert evaluation.terms.as_dict() == result.terms
    return result


def solver_allows(scenario: Scenario, fixed: list[tuple[str, str]]) -> bool:
    """Return whether the solver finds a roster that keeps the fixed assignments."""
    try:
        result = solve_checked(scenario, fixed)
    except ScenarioInfeasibleError:
        return False
    assert set(fixed) <= result.roster.pairs()
    return True


def cpsat_values(
    scenario: Scenario, pairs: list[tuple[str, str]]
) -> tuple[dict[str, int], dict[str, int]]:
    """Return CP-SAT's own terms and per-rule penalties for a hand-made roster.

    The roster's assignment variables are fixed in the full model, every term minimised and
    maximised (they must agree); None is not expected (the roster must keep the model's rules).
    """
    shifts = expand_shifts(scenario)
    instance = compile_instance(scenario, shifts)
    values = CpSatModel(instance).evaluate(instance.pairs_of(pairs), FAST)
    assert values is not None, "the roster breaks a constraint of the CP-SAT model"
    terms, penalties = values
    return terms, {k: v for k, v in penalties.items() if v}


def penalties_both_ways(scenario: Scenario, pairs: list[tuple[str, str]]) -> dict[str, int]:
    """Return the per-rule penalties of a hand-made roster, asserting checker == CP-SAT."""
    checker = evaluate(scenario, pairs)
    _, solver = cpsat_values(scenario, pairs)
    by_rule = {k: v for k, v in checker.penalties_by_rule.items() if v}
    assert solver == by_rule, (solver, by_rule)
    return by_rule


def reach_checked(
    model: CpSatModel,
    roster: Collection[tuple[int, int]],
    ceilings: dict[str, int],
    beside: dict[str, int] | None = None,
) -> Evaluation:
    """Bring ``roster`` down to ``ceilings`` before the soft stage (``_reach_ceilings``).

    Returns the checker's evaluation of the roster reached, which keeps every hard rule and
    whose terms and penalties are CP-SAT's own.
    """
    reached_by = StagedSolve(model)._reach_ceilings(
        ceilings,
        ("soft", "deviation", "total"),
        roster,
        FAST,
        time.perf_counter() + 60,
        complete=True,
        beside=beside,
    )
    assert reached_by is not None
    assert reached_by.solver is not None
    solver = reached_by.solver
    instance = model.instance
    reached = instance.roster_of(model.chosen(solver))
    evaluation = evaluate_roster(instance.scenario, instance.shifts, reached)
    assert evaluation.hard_violations == ()
    assert evaluation.terms.deviation_centi == solver.value(model.objectives["deviation"])
    # Every term and soft rule's penalty, CP-SAT's against the checker's (the at-spread count
    # is built by its stage, which has not run).
    terms, penalties = model._read(solver, model._expressions())
    checker = evaluation.terms.as_dict()
    assert terms == {k: v for k, v in checker.items() if k in terms}
    assert set(checker) - set(terms) <= {"at_spread"}
    by_rule = {k: v for k, v in evaluation.penalties_by_rule.items() if v}
    assert {k: v for k, v in penalties.items() if v} == by_rule
    return evaluation
