"""Rule overlap: nobody holds two duties at the same time."""

from tests.helpers import broken, scenario_of, solver_allows, tiny_doc


def _area_and_post_nights():
    doc = tiny_doc(rules={"min_rest_hours": 0})
    doc["shift_types"].append(
        {"id": "postnight", "scope": "post", "days": ["mon"], "start": "23:00", "end": "07:00"}
    )
    return scenario_of(doc)


def test_overlapping_duties_are_forbidden():
    """Monday's weeknight (19-08) and Monday's post night (23-07) overlap."""
    scenario = _area_and_post_nights()
    pairs = [("weeknight/noord/2027-02-08", "d0"), ("postnight/wp/2027-02-08", "d0")]
    assert "overlap" in broken(scenario, pairs)
    assert not solver_allows(scenario, pairs)


def test_back_to_back_duties_are_allowed_without_rest_rule():
    """Monday's and Tuesday's weeknights do not overlap; with no rest rule both are fine."""
    scenario = _area_and_post_nights()
    pairs = [("weeknight/noord/2027-02-08", "d0"), ("weeknight/noord/2027-02-09", "d0")]
    assert not broken(scenario, pairs) & {"overlap", "rest"}
    assert solver_allows(scenario, pairs)
