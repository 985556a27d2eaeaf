"""Rule coverage: every instance has exactly `need` doctors."""

from tests.helpers import broken, scenario_of, solve_checked, tiny_doc

NIGHTS = [f"weeknight/noord/2027-02-{d:02d}" for d in (8, 9, 10, 11)]


def test_missing_or_double_cover_is_forbidden():
    """A night without a doctor, or one doctor twice on a night, breaks coverage."""
    scenario = scenario_of(tiny_doc())
    assert "coverage" in broken(scenario, [(NIGHTS[0], "d0")])
    doubled = [(n, f"d{i}") for i, n in enumerate(NIGHTS)] + [(NIGHTS[0], "d0")]
    assert "coverage" in broken(scenario, doubled)


def test_exact_cover_is_allowed_and_found_by_the_solver():
    """One doctor per night satisfies coverage; the solver covers every night exactly."""
    scenario = scenario_of(tiny_doc())
    assert "coverage" not in broken(scenario, [(n, f"d{i}") for i, n in enumerate(NIGHTS)])
    result = solve_checked(scenario)
    assert sorted(a.shift_id for a in result.roster.assignments) == NIGHTS
