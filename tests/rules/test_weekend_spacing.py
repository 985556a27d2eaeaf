"""Rule weekend_spacing: weekend duties at least `days` apart; soft by default."""

from tests.helpers import (
    WEEKEND,
    broken,
    evaluate,
    penalties_both_ways,
    scenario_of,
    solver_allows,
    tiny_doc,
)

W1, W2, W4 = "weekend/wp/2027-02-05", "weekend/wp/2027-02-12", "weekend/wp/2027-02-26"


def _weekends(hard: bool):
    doc = tiny_doc(
        horizon={"start": "2027-02-01", "end": "2027-02-28"},
        shift_types=[dict(WEEKEND)],
        rules={"min_days_between_weekends": {"days": 21, "hard": hard, "weight": 7}},
    )
    return scenario_of(doc)


def test_hard_spacing_forbids_consecutive_weekends():
    """Weekends 7 days apart break a hard 21-day spacing."""
    scenario = _weekends(hard=True)
    pairs = [(W1, "d0"), (W2, "d0")]
    assert "weekend_spacing" in broken(scenario, pairs)
    assert not solver_allows(scenario, pairs)


def test_hard_spacing_allows_three_weeks():
    """Weekends 21 days apart are fine."""
    scenario = _weekends(hard=True)
    pairs = [(W1, "d0"), (W4, "d0")]
    assert "weekend_spacing" not in broken(scenario, pairs)
    assert solver_allows(scenario, pairs)


def test_soft_spacing_penalty_by_hand():
    """d0 on weekends 1, 2 and 4: pairs (1,2) 7 days and (2,4) 14 days are closer than 21,
    (1,4) is exactly 21: 2 pairs x weight 7 = 14."""
    scenario = _weekends(hard=False)
    roster = [(W1, "d0"), (W2, "d0"), ("weekend/wp/2027-02-19", "d1"), (W4, "d0")]
    assert evaluate(scenario, roster).hard_violations == ()
    assert penalties_both_ways(scenario, roster)["weekend_spacing"] == 14
