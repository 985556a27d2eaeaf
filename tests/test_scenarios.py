"""Every shipped scenario validates; the demo solves and checks; the infeasible one explains."""

import pytest

from tests.helpers import FAST
from wachtplanner.exceptions import ScenarioInfeasibleError
from wachtplanner.expand import expand_shifts
from wachtplanner.io.scenario_files import load_scenario
from wachtplanner.solver import SolverParams, solve
from wachtplanner.solver.instance import compile_instance
from wachtplanner.solver.presolve import check_feasible_counts

CONTINUITY = [
    "loss-2000-gmd.yaml",
    "loss-2000-gmd-noodpunt.yaml",
    "overflow-group-practice.yaml",
    "dagwacht-monday.yaml",
    "ageing-solo-5y.yaml",
]


@pytest.mark.parametrize("name", ["demo.yaml", "circle-250-2027.yaml", *CONTINUITY])
def test_feasible_scenarios_pass_the_counting_checks(scenarios_dir, name):
    """Shipped feasible scenarios load, expand and have enough eligible doctors everywhere."""
    scenario = load_scenario(scenarios_dir / name)
    check_feasible_counts(compile_instance(scenario, expand_shifts(scenario)))


def test_demo_solves_and_passes_the_checker(demo_solved):
    """The demo gives a valid roster whose terms the checker confirms (``solve_checked``)."""
    _, result = demo_solved
    assert result.terms["max_excess_centi"] == 0


def test_infeasible_scenario_explains(scenarios_dir):
    """The infeasible example is refused before CP-SAT with one reason per shift."""
    scenario = load_scenario(scenarios_dir / "infeasible.yaml")
    with pytest.raises(ScenarioInfeasibleError) as caught:
        solve(scenario, SolverParams(time_limit_s=5, num_workers=1))
    assert len(caught.value.reasons) == 4
    assert "1 eligible (aerts)" in caught.value.reasons[-1]


NOODPUNT_GPS = {"eva-nood", "omar-nood"}
GROUP_PRACTICE = {"pieter-kouter", "sara-kouter", "wout-kouter", "nele-kouter", "haio-lien",
                  "haio-jonas"}  # fmt: skip


def _holders(result, shift_type):
    by_id = {s.shift_id: s for s in result.shifts}
    return {
        a.doctor_id for a in result.roster.assignments if by_id[a.shift_id].shift_type == shift_type
    }


@pytest.mark.slow
def test_noodpunt_sessions_go_to_the_emergency_gps_only(scenarios_dir):
    """Noodpunt sessions go to the emergency GPs only; the roster passes the checker (solve
    raises otherwise). Who may hold a session is a hard rule, so the shortest search will do."""
    params = FAST.model_copy(update={"deterministic_time": 0.5})
    result = solve(load_scenario(scenarios_dir / "loss-2000-gmd-noodpunt.yaml"), params)
    assert _holders(result, "noodpunt") == NOODPUNT_GPS


@pytest.mark.slow
def test_the_overflow_scenario_is_solved_within_band(scenarios_dir):
    """With 6 deterministic units (about 6 s here) every doctor of the group-practice scenario
    is within one shift of target: CP-SAT proves the largest excess 0 (the rotation leaves 14.1
    points), and the overflow duty goes to the group practice only. The noodpunt scenario needs
    about 30 units (30 s here; Dr. Jan Solo dies on 1 March and owes his share by then), too
    long for this suite: `wachtplanner solve` reaches it in its default 60 s."""
    params = FAST.model_copy(update={"deterministic_time": 6.0})
    result = solve(load_scenario(scenarios_dir / "overflow-group-practice.yaml"), params)
    assert result.terms["max_excess_centi"] == 0
    assert _holders(result, "overflow") == GROUP_PRACTICE


def test_monday_day_duty_only_on_mondays_and_not_on_whit_monday(scenarios_dir):
    """The Monday dagwacht has one instance per area per Monday of Q2 2027 except Whit Monday."""
    scenario = load_scenario(scenarios_dir / "dagwacht-monday.yaml")
    days = {s.start_date for s in expand_shifts(scenario) if s.shift_type == "dagwacht"}
    assert all(day.weekday() == 0 for day in days)
    assert len(days) == 12
    assert all(day.isoformat() != "2027-05-17" for day in days)
