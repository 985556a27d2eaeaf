"""Rule min_duties (soft): every GP under the age limit does at least one duty a year."""

from tests.helpers import evaluate, penalties_both_ways, scenario_of, solve_checked, tiny_doc


def _year(num_doctors: int = 3):
    """Weeknights only on the first Monday of 2027 and 2 February (2 nights), 3 GPs, the
    rule on (a whole year asks 1 duty each); d2 is 70, above the age limit."""
    night = {
        "id": "weeknight",
        "scope": "area",
        "days": ["mon"],
        "start": "19:00",
        "end": "08:00",
        "periods": [
            {"from": "2027-01-04", "to": "2027-01-04"},
            {"from": "2027-02-01", "to": "2027-02-01"},
        ],
    }
    doc = tiny_doc(
        num_doctors,
        horizon={"start": "2027-01-01", "end": "2027-12-31"},
        shift_types=[night],
        rules={"min_duties_per_year": {"count": 1, "below_age": 65, "weight": 1000}},
    )
    doc["doctors"][2]["birth_date"] = "1957-01-01"
    return scenario_of(doc)


def test_a_gp_without_duty_costs_the_weight():
    """d0 does both nights: d1 (under 65) has none: 1 x 1000; d2 (70) is not asked."""
    pairs = [("weeknight/noord/2027-01-04", "d0"), ("weeknight/noord/2027-02-01", "d0")]
    assert evaluate(_year(), pairs).hard_violations == ()
    assert penalties_both_ways(_year(), pairs) == {"min_duties": 1000}


def test_one_duty_each_costs_nothing():
    """d0 and d1 one night each."""
    pairs = [("weeknight/noord/2027-01-04", "d0"), ("weeknight/noord/2027-02-01", "d1")]
    assert "min_duties" not in evaluate(_year(), pairs).penalties_by_rule


def test_solver_gives_each_gp_under_the_limit_a_duty():
    """The optimum spreads the two nights over d0 and d1 (d2, 70, may or may not)."""
    result = solve_checked(_year())
    holders = {a.doctor_id for a in result.roster.assignments}
    assert {"d0", "d1"} <= holders or result.terms["soft_penalty"] > 0
    assert result.evaluation is not None
    assert "min_duties" not in result.evaluation.penalties_by_rule
