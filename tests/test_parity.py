"""Solver and checker agree on every roster: zero hard violations, identical objective terms."""

import pytest

from benchmarks.generate import generate
from tests.helpers import scenario_of, solve_checked
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.expand import expand_shifts


@pytest.mark.parametrize(("num_gps", "seed"), [(12, 1), (20, 2), (28, 3)])
def test_generated_quarter_parity(num_gps, seed):
    """Generated circles of a quarter: the solver's terms equal the checker's, rules hold."""
    scenario = scenario_of(generate(num_gps, 2, 2027, quarter=1, seed=seed))
    result = solve_checked(scenario)
    evaluation = evaluate_roster(scenario, expand_shifts(scenario), result.roster)
    assert result.terms["max_excess_centi"] == max(
        (round(r.excess * 100) for r in evaluation.fairness), default=0
    )
    assert [s.name for s in result.stages] == ["max_excess", "sum_excess", "soft"]


def test_fairness_rows_cover_every_pool_member():
    """Every doctor in a pool has a fairness row for the pool's tags."""
    scenario = scenario_of(generate(12, 2, 2027, quarter=1, seed=1))
    result = solve_checked(scenario)
    evaluation = evaluate_roster(scenario, expand_shifts(scenario), result.roster)
    gps = {d.id for d in scenario.doctors if d.role == "gp"}
    assert {r.doctor_id for r in evaluation.fairness if r.tag == "weekend"} >= gps
