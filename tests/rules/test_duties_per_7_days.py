"""Rule duties_per_7_days: at most `count` duty starts in any 7 days (soft by default)."""

from tests.helpers import (
    broken,
    evaluate,
    penalties_both_ways,
    scenario_of,
    solver_allows,
    tiny_doc,
)

NIGHT = "weeknight/noord/2027-02-{:02d}"


def _fortnight(hard: bool):
    doc = tiny_doc(
        horizon={"start": "2027-02-08", "end": "2027-02-19"},
        rules={
            "min_rest_hours": 0,
            "max_duties_per_7_days": {"count": 2, "hard": hard, "weight": 50},
        },
    )
    return scenario_of(doc)


def test_hard_three_starts_in_a_week_are_forbidden():
    """Mon 8, Wed 10 and Thu 11 start within 7 days."""
    scenario = _fortnight(hard=True)
    pairs = [(NIGHT.format(8), "d0"), (NIGHT.format(10), "d0"), (NIGHT.format(11), "d0")]
    assert "duties_per_7_days" in broken(scenario, pairs)
    assert not solver_allows(scenario, pairs)


def test_hard_two_per_week_is_allowed():
    """Mon 8 and Thu 11, then Mon 15 and Thu 18: no 7 days hold three starts (8..14 holds 2,
    11..17 holds 11 and 15)."""
    scenario = _fortnight(hard=True)
    pairs = [(NIGHT.format(d), "d0") for d in (8, 11, 15, 18)]
    assert "duties_per_7_days" not in broken(scenario, pairs)
    assert solver_allows(scenario, pairs)


def test_soft_penalty_by_hand():
    """d0 on Mon 8, Tue 9, Wed 10 (and nothing later). The horizon is 12 days, so the windows
    start on days 8..13. Window 8-14 holds 3 starts (1 over); window 9-15 holds 2; 10-16 holds 1.
    The others have at most 2 starts anywhere. Penalty 1 x 50 = 50."""
    scenario = _fortnight(hard=False)
    pairs = [(NIGHT.format(d), "d0") for d in (8, 9, 10)]
    pairs += [(NIGHT.format(11), "d1"), (NIGHT.format(15), "d1"), (NIGHT.format(16), "d2")]
    pairs += [(NIGHT.format(17), "d3"), (NIGHT.format(18), "d3")]
    assert evaluate(scenario, pairs).hard_violations == ()
    assert penalties_both_ways(scenario, pairs)["duties_per_7_days"] == 50
