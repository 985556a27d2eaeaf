"""Rule min_gap (soft): duties of one doctor at least their minimum gap apart.

Counted over windows of that many days: a window holding k > 1 starts costs weight x (k - 1), so
two duties g days apart cost weight x (days - g).
"""

from tests.helpers import evaluate, penalties_both_ways, scenario_of, solve_checked, tiny_doc

NIGHT = "weeknight/noord/2027-02-{:02d}"


def _fortnight(days: int | str = 5, num_doctors: int = 4):
    doc = tiny_doc(
        num_doctors,
        horizon={"start": "2027-02-08", "end": "2027-02-19"},
        rules={"min_rest_hours": 0, "min_days_between_duties": {"days": days, "weight": 5}},
    )
    return scenario_of(doc)


def test_two_duties_two_days_apart_by_hand():
    """Gap 5 days: d0 on Mon 8 and Wed 10 (2 days apart). Windows of 5 days start on 8..15;
    those holding both starts begin on 8, 9 and 10 (3 = 5 - 2 windows): 3 x 5 = 15. Everyone
    else has one duty per 5 days or further apart."""
    scenario = _fortnight()
    pairs = [
        (NIGHT.format(8), "d0"),
        (NIGHT.format(9), "d1"),
        (NIGHT.format(10), "d0"),
        (NIGHT.format(11), "d2"),
        (NIGHT.format(15), "d3"),
        (NIGHT.format(16), "d1"),
        (NIGHT.format(17), "d2"),
        (NIGHT.format(18), "d3"),
    ]
    assert evaluate(scenario, pairs).hard_violations == ()
    assert penalties_both_ways(scenario, pairs)["min_gap"] == 15


def test_far_enough_apart_costs_nothing():
    """Every doctor's two duties are 7 days apart (Mon-Mon, Tue-Tue, ...): no window of 5 days
    holds two."""
    scenario = _fortnight()
    pairs = [(NIGHT.format(d), f"d{i}") for i, d in enumerate((8, 9, 10, 11))]
    pairs += [(NIGHT.format(d), f"d{i}") for i, d in enumerate((15, 16, 17, 18))]
    assert "min_gap" not in evaluate(scenario, pairs).penalties_by_rule


def test_auto_gap_scales_with_load():
    """auto: 0.5 x 12 horizon days / 2 expected duties each (8 nights, 4 equal doctors) = 3."""
    scenario = _fortnight(days="auto")
    from wachtplanner.evaluation.fairness import expected_load
    from wachtplanner.expand import expand_shifts

    load = expected_load(scenario, expand_shifts(scenario))
    assert load.min_gap_days == {f"d{i}": 3 for i in range(4)}


def test_solver_spreads_the_duties():
    """With 4 doctors for 8 nights and a 7-day gap, the optimum puts each doctor's two nights a
    week apart: no penalty."""
    result = solve_checked(_fortnight(days=7))
    assert result.evaluation is not None
    assert "min_gap" not in result.evaluation.penalties_by_rule
