"""Rule avoid (soft): a duty touching an avoid date costs avoid_weight."""

from tests.helpers import penalties_both_ways, scenario_of, solve_checked, tiny_doc


def _avoids_wednesday(num_doctors: int = 4):
    doc = tiny_doc(num_doctors, rules={"min_rest_hours": 0, "avoid_weight": 20})
    doc["doctors"][0]["avoid"] = ["2027-02-10"]
    return scenario_of(doc)


def test_duty_on_avoid_date_costs_the_weight():
    """Tuesday's night ends Wednesday 08:00 and Wednesday's starts that evening: 2 x 20 = 40."""
    scenario = _avoids_wednesday()
    pairs = [
        ("weeknight/noord/2027-02-08", "d1"),
        ("weeknight/noord/2027-02-09", "d0"),
        ("weeknight/noord/2027-02-10", "d0"),
        ("weeknight/noord/2027-02-11", "d1"),
    ]
    assert penalties_both_ways(scenario, pairs) == {"avoid": 40}


def test_solver_keeps_the_wish_when_it_can():
    """With colleagues free, the optimal roster has no avoid penalty."""
    result = solve_checked(_avoids_wednesday())
    assert result.terms["soft_penalty"] == 0
    d0_nights = {a.shift_id for a in result.roster.assignments if a.doctor_id == "d0"}
    assert not d0_nights & {"weeknight/noord/2027-02-09", "weeknight/noord/2027-02-10"}
