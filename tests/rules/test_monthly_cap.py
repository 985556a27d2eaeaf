"""Rule monthly_cap: duty hours per month, soft by default, hard when marked."""

from tests.helpers import (
    broken,
    evaluate,
    penalties_both_ways,
    scenario_of,
    solver_allows,
    tiny_doc,
)

NIGHTS = [f"weeknight/noord/2027-02-{d:02d}" for d in (8, 9, 10, 11)]


def _capped(hard: bool):
    cap = {"hours": 30, "hard": hard, "weight_per_hour": 3}
    return scenario_of(tiny_doc(rules={"min_rest_hours": 0, "max_hours_per_month": cap}))


def test_hard_cap_forbids_a_third_night():
    """Three 13 h nights are 39 h in February, over a hard 30 h cap."""
    scenario = _capped(hard=True)
    pairs = [(n, "d0") for n in NIGHTS[:3]]
    assert "monthly_cap" in broken(scenario, pairs)
    assert not solver_allows(scenario, pairs)


def test_hard_cap_allows_two_nights():
    """Two nights are 26 h, under the cap."""
    scenario = _capped(hard=True)
    pairs = [(n, "d0") for n in NIGHTS[:2]]
    assert "monthly_cap" not in broken(scenario, pairs)
    assert solver_allows(scenario, pairs)


def test_soft_cap_penalty_by_hand():
    """39 h against a soft 30 h cap: 9 started hours over x weight 3 = 27."""
    scenario = _capped(hard=False)
    pairs = [(n, "d0") for n in NIGHTS[:3]] + [(NIGHTS[3], "d1")]
    assert evaluate(scenario, pairs).hard_violations == ()
    assert penalties_both_ways(scenario, pairs) == {"monthly_cap": 27}
