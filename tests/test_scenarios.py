"""Every shipped scenario validates; the demo solves and checks; the infeasible one explains."""

import pytest

from tests.helpers import solve_checked
from wachtplanner.exceptions import ScenarioInfeasibleError
from wachtplanner.expand import expand_shifts
from wachtplanner.io.scenario_files import load_scenario
from wachtplanner.solver import SolverParams, solve
from wachtplanner.solver.instance import compile_instance
from wachtplanner.solver.presolve import check_feasible_counts


@pytest.mark.parametrize("name", ["demo.yaml", "circle-250-2027.yaml"])
def test_feasible_scenarios_pass_the_counting_checks(scenarios_dir, name):
    """Shipped feasible scenarios load, expand and have enough eligible doctors everywhere."""
    scenario = load_scenario(scenarios_dir / name)
    check_feasible_counts(compile_instance(scenario, expand_shifts(scenario)))


def test_demo_solves_and_passes_the_checker(scenarios_dir):
    """The demo gives a valid roster whose terms the checker confirms."""
    result = solve_checked(load_scenario(scenarios_dir / "demo.yaml"))
    assert result.terms["max_excess_centi"] == 0


def test_infeasible_scenario_explains(scenarios_dir):
    """The infeasible example is refused before CP-SAT with one reason per shift."""
    scenario = load_scenario(scenarios_dir / "infeasible.yaml")
    with pytest.raises(ScenarioInfeasibleError) as caught:
        solve(scenario, SolverParams(time_limit_s=5, num_workers=1))
    assert len(caught.value.reasons) == 4
    assert "1 eligible (aerts)" in caught.value.reasons[-1]
