"""Rule prefer (soft): a doctor with preferred weekends pays a little for any other weekend."""

from tests.helpers import WEEKEND, penalties_both_ways, scenario_of, solve_checked, tiny_doc

W1, W2 = "weekend/wp/2027-02-05", "weekend/wp/2027-02-12"


def _weekends():
    doc = tiny_doc(
        2,
        horizon={"start": "2027-02-01", "end": "2027-02-14"},
        shift_types=[dict(WEEKEND)],
        rules={"prefer_weight": 5, "min_days_between_weekends": None, "max_hours_per_month": None},
    )
    doc["doctors"][0]["prefer"] = ["2027-02-13"]
    return scenario_of(doc)


def test_a_weekend_not_preferred_costs_the_weight():
    """d0 prefers the weekend of 12 February; taking the 5th instead costs 5 (d1 has no wishes)."""
    assert penalties_both_ways(_weekends(), [(W1, "d0"), (W2, "d1")]) == {"prefer": 5}


def test_the_solver_gives_the_preferred_weekend():
    """With one weekend each, d0 gets the 12th."""
    result = solve_checked(_weekends())
    assert (W2, "d0") in result.roster.pairs()
