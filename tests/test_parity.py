"""Solver and checker agree on every roster: zero hard violations, identical objective terms."""

import pytest

from benchmarks.generate import generate
from tests.helpers import scenario_of, solve_checked
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.expand import expand_shifts
from wachtplanner.solver.cpsat.model import STAGES, TERM_OF_STAGE, CpSatModel
from wachtplanner.solver.greedy import greedy_roster
from wachtplanner.solver.instance import compile_instance


@pytest.mark.parametrize(("num_gps", "seed"), [(12, 1), (20, 2), (28, 3)])
def test_generated_quarter_parity(num_gps, seed):
    """Generated circles of a quarter: the solver's terms equal the checker's, rules hold."""
    scenario = scenario_of(generate(num_gps, 2, 2027, quarter=1, seed=seed))
    result = solve_checked(scenario)
    evaluation = evaluate_roster(scenario, expand_shifts(scenario), result.roster)
    assert result.terms["max_excess_centi"] == max(
        (round(r.excess * 100) for r in evaluation.fairness), default=0
    )
    assert [s.name for s in result.stages] == ["max_excess", "sum_excess", "spread", "soft"]


def test_fairness_rows_cover_every_pool_member():
    """Every doctor in a pool has a fairness row for the pool's tags."""
    scenario = scenario_of(generate(12, 2, 2027, quarter=1, seed=1))
    result = solve_checked(scenario)
    evaluation = evaluate_roster(scenario, expand_shifts(scenario), result.roster)
    gps = {d.id for d in scenario.doctors if d.role == "gp"}
    assert {r.doctor_id for r in evaluation.fairness if r.tag == "weekend"} >= gps


@pytest.mark.parametrize(("num_gps", "seed"), [(12, 1), (28, 3), (60, 4)])
def test_greedy_rotation_keeps_hard_rules(num_gps, seed):
    """The rotation (warm start and benchmark baseline) never breaks a hard rule; a complete
    rotation covers every seat."""
    scenario = scenario_of(generate(num_gps, 2, 2027, quarter=1, seed=seed))
    instance = compile_instance(scenario, expand_shifts(scenario))
    for literal in (False, True):
        rotation = greedy_roster(instance, literal=literal)
        roster = instance.roster_of(rotation.chosen)
        evaluation = evaluate_roster(scenario, instance.shifts, roster)
        assert not [v for v in evaluation.hard_violations if v.rule != "coverage"]
        if rotation.complete:
            assert not evaluation.hard_violations


def test_solver_never_worse_than_its_warm_start():
    """Each lexicographic term of the solved roster is no worse than the rotation's, in order."""
    scenario = scenario_of(generate(28, 2, 2027, quarter=1, seed=3))
    instance = compile_instance(scenario, expand_shifts(scenario))
    model = CpSatModel(instance)
    start = model.exact_terms(greedy_roster(instance).chosen)
    result = solve_checked(scenario)
    names = [TERM_OF_STAGE[s] for s in STAGES]
    solved = [result.terms[k] for k in names]
    assert solved <= [start[k] for k in names]
