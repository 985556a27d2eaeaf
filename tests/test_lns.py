"""The neighbourhood search of the summed stages (``solver.cpsat.lns``).

Each step re-solves a few doctors' rosters with everyone else's fixed: it may only change those
doctors' duties, never gives up a constraint of the model (the earlier stages' values among
them), never returns a worse value, and repeats exactly with a deterministic budget.
"""

from __future__ import annotations

import time

import pytest

from benchmarks.generate import generate
from tests.helpers import FAST, scenario_of, solve_checked
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.expand import expand_shifts
from wachtplanner.solver.cpsat import model as model_module
from wachtplanner.solver.cpsat.lns import MIN_DOCTORS, Neighbourhoods, improve
from wachtplanner.solver.cpsat.model import CpSatModel
from wachtplanner.solver.greedy import greedy_roster
from wachtplanner.solver.instance import Instance, compile_instance


@pytest.fixture(scope="module")
def circle() -> tuple[Instance, CpSatModel, list[int], dict[str, int]]:
    """A generated 20-GP quarter, its model hinted with the rotation: (instance, model, the
    rotation as values of every model variable, CP-SAT's terms of the rotation)."""
    scenario = scenario_of(generate(20, 2, 2027, quarter=1, seed=2))
    instance = compile_instance(scenario, expand_shifts(scenario))
    model = CpSatModel(instance)
    rotation = greedy_roster(instance, literal=True)
    assert rotation.complete
    evaluated = model.evaluate(rotation.chosen, FAST)
    assert evaluated is not None
    assert model.hint(rotation.chosen, FAST)
    solution = list(model.model.proto.solution_hint.values)
    return instance, model, solution, evaluated[0]


def _chosen(model: CpSatModel, solution: list[int]) -> set[tuple[int, int]]:
    return {pair for pair, var in model.x.items() if solution[var.index] == 1}


def _run(circle, proto=None, **limits):
    instance, model, solution, terms = circle
    return improve(
        model.model if proto is None else proto,
        model.x,
        instance,
        model.objectives["soft"],
        solution,
        terms["soft_penalty"],
        until=time.perf_counter() + 60,
        params=FAST,
        **limits,
    )


def test_one_step_changes_only_the_drawn_doctors(circle):
    """The first step's roster differs from the rotation only in the first neighbourhood's
    doctors (drawn with the same seed), and it is lower: the rotation is blind to soft wishes,
    so ten doctors out of twenty find a better trade among themselves."""
    instance, model, solution, terms = circle
    drawn = Neighbourhoods(instance, FAST.random_seed).pick()
    outcome = _run(circle, max_steps=1, deterministic_s=4.0)
    changed = _chosen(model, solution) ^ _chosen(model, outcome.solution)
    assert changed
    assert {d for d, _ in changed} <= drawn
    assert len(drawn) < len(instance.doctors)
    assert outcome.value < terms["soft_penalty"]


def test_search_keeps_the_earlier_stages_and_the_checker_agrees(circle):
    """With the spread capped at the rotation's value (as the spread stage leaves it), the
    search lowers the soft penalty, keeps every hard rule and the cap, and the checker's soft
    penalty of the result is the value the search reports."""
    instance, model, _, terms = circle
    spread = model.objectives["spread"]
    capped = model.model.clone()
    capped.add(spread <= terms["spread_centi"])
    outcome = _run(circle, capped, deterministic_s=4.0)
    assert outcome.num_improving >= 1
    assert outcome.value < terms["soft_penalty"]
    roster = instance.roster_of(sorted(_chosen(model, outcome.solution)))
    evaluation = evaluate_roster(instance.scenario, instance.shifts, roster)
    assert evaluation.hard_violations == ()
    assert evaluation.terms.soft_penalty == outcome.value
    assert evaluation.terms.spread_centi <= terms["spread_centi"]


def test_deterministic_budget_repeats_exactly(circle):
    """Two searches with the same deterministic budget and seed return the same roster."""
    first = _run(circle, deterministic_s=0.5)
    second = _run(circle, deterministic_s=0.5)
    assert first.num_steps == second.num_steps
    assert first.solution == second.solution


def test_neighbourhoods_need_enough_doctors():
    """A model with fewer than twice the smallest neighbourhood is not split; the size adapts
    between that smallest size and half the doctors."""
    small = compile_instance(
        scenario := scenario_of(generate(20, 2, 2027, quarter=1, seed=2)), expand_shifts(scenario)
    )
    parts = Neighbourhoods(small, 0)
    assert parts.applies()
    for _ in range(20):
        parts.feedback(proven=False, used_share=1.0)
    assert parts.size == MIN_DOCTORS
    for _ in range(40):
        parts.feedback(proven=True, used_share=0.1)
    assert parts.size == len(parts.active) // 2
    assert all(len(parts.pick()) == parts.size for _ in range(10))


def test_soft_stage_keeps_what_the_neighbourhoods_found(monkeypatch):
    """In the staged solve the soft stage ends lower with the neighbourhood search than with
    its full search alone, on the same deterministic budget; and ``solve`` has checked the
    roster and compared CP-SAT's terms with the checker's (it raises otherwise)."""
    scenario = scenario_of(generate(40, 2, 2027, quarter=1, seed=5))
    with_lns = solve_checked(scenario)
    monkeypatch.setattr(model_module, "_LNS_STAGES", ())
    without = solve_checked(scenario)
    assert with_lns.terms["soft_penalty"] < without.terms["soft_penalty"]
