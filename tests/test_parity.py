"""Solver and checker agree on every roster: zero hard violations, identical objective terms."""

import pytest

from benchmarks.generate import generate
from tests.helpers import FAST, cpsat_values, penalties_both_ways, scenario_of, solve_checked
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.expand import expand_shifts
from wachtplanner.solver.cpsat.model import CpSatModel
from wachtplanner.solver.cpsat.staged import STAGES, TERM_OF_STAGE
from wachtplanner.solver.greedy import greedy_roster
from wachtplanner.solver.instance import compile_instance


@pytest.mark.slow
@pytest.mark.parametrize(("num_gps", "seed"), [(12, 1), (20, 2), (28, 3)])
def test_generated_quarter_parity(num_gps, seed):
    """Generated circles of a quarter: the solver's terms equal the checker's, rules hold, and
    each lexicographic term of the solved roster is no worse than the rotations', in order."""
    scenario = scenario_of(generate(num_gps, 2, 2027, quarter=1, seed=seed))
    result = solve_checked(scenario)
    shifts = expand_shifts(scenario)
    evaluation = evaluate_roster(scenario, shifts, result.roster)
    assert result.terms["max_excess_centi"] == max(
        (round(r.excess * 100) for r in evaluation.fairness), default=0
    )
    assert [s.name for s in result.stages] == list(STAGES)
    # Every doctor in a pool has a fairness row for the pool's tags.
    gps = {d.id for d in scenario.doctors if d.role == "gp"}
    assert {r.doctor_id for r in evaluation.fairness if r.tag == "weekend"} >= gps
    instance = compile_instance(scenario, shifts)
    names = [TERM_OF_STAGE[s] for s in STAGES]
    starts = []
    for literal in (False, True):
        rotation = instance.roster_of(greedy_roster(instance, literal=literal).chosen)
        terms = evaluate_roster(scenario, shifts, rotation).terms.as_dict()
        starts.append([terms[k] for k in names])
    assert [result.terms[k] for k in names] <= min(starts)


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


def test_a_penalty_cut_loose_from_the_assignment_is_caught(monkeypatch):
    """Mutation: the weekend-spacing AND without the clause that forces it up (x[a] and x[b] =>
    z) lets CP-SAT keep z at 0 with both weekends taken. Evaluating a roster then finds the term
    undetermined (lowest 0, highest 7), and the solve refuses to return a roster."""
    from tests.rules.test_weekend_spacing import W1, W2, W4, _weekends
    from wachtplanner.exceptions import SolverError
    from wachtplanner.solver.cpsat import constraints

    def unlinked_and(ctx, literals):
        both = ctx.model.new_bool_var("")
        for literal in literals:
            ctx.model.add_implication(both, literal)
        return both  # the clause (not a) or (not b) or z is missing

    scenario = _weekends(hard=False)
    pairs = [(W1, "d0"), (W2, "d0"), ("weekend/wp/2027-02-19", "d1"), (W4, "d2")]
    assert penalties_both_ways(scenario, pairs)["weekend_spacing"] == 7
    monkeypatch.setattr(constraints, "_both", unlinked_and)
    with pytest.raises(SolverError, match="not determined by the roster"):
        cpsat_values(scenario, pairs)


def test_a_fairness_term_bounded_one_way_is_caught(monkeypatch):
    """Mutation: |deviation| bounded from below only (the old encoding) is caught the same way."""
    from ortools.sat.python import cp_model

    from wachtplanner.exceptions import SolverError

    def one_sided_abs(self, target, expr):
        self.add(target >= expr)
        self.add(target >= -expr)

    scenario = scenario_of(generate(12, 2, 2027, quarter=1, seed=1))
    instance = compile_instance(scenario, expand_shifts(scenario))
    rotation = greedy_roster(instance).chosen
    monkeypatch.setattr(cp_model.CpModel, "add_abs_equality", one_sided_abs)
    with pytest.raises(SolverError, match="not determined by the roster"):
        CpSatModel(instance).evaluate(rotation, FAST)


@pytest.mark.parametrize("running_sums", [False, True])
def test_running_sums_give_the_checkers_values(monkeypatch, running_sums):
    """A whole model of over 100 000 pairs (a circle year) sums long windows as running counts
    of each doctor's starts. Forced on (and off) for a 20-GP quarter, CP-SAT's terms and
    penalties of the rotation, each minimised and maximised with the roster fixed, equal the
    checker's; the min-gap windows (2-3 weeks, more than 6 starts) do use the running counts."""
    from wachtplanner.solver.cpsat import model as model_module

    monkeypatch.setattr(model_module, "FULL_SEARCH_UP_TO", 0 if running_sums else 10**9)
    scenario = scenario_of(generate(20, 2, 2027, quarter=1, seed=2))
    instance = compile_instance(scenario, expand_shifts(scenario))
    rotation = greedy_roster(instance, literal=True).chosen
    model = CpSatModel(instance)
    assert model.ctx.running_sums is running_sums
    assert bool(model.ctx._running) is running_sums
    values = model.evaluate(rotation, FAST)
    assert values is not None
    terms, penalties = values
    evaluation = evaluate_roster(scenario, instance.shifts, instance.roster_of(rotation))
    # The at-spread count is built when its stage starts.
    assert terms == {k: v for k, v in evaluation.terms.as_dict().items() if k != "at_spread"}
    by_rule = {k: v for k, v in evaluation.penalties_by_rule.items() if v}
    assert {k: v for k, v in penalties.items() if v} == by_rule
    assert by_rule["min_gap"] > 0
