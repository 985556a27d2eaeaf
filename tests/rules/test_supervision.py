"""Rule supervision: a trainee works only while the supervisor is reachable."""

from tests.helpers import broken, scenario_of, solver_allows, tiny_doc

MON = "weeknight/noord/2027-02-08"


def _trainee_scenario():
    doc = tiny_doc(rules={"min_rest_hours": 0})
    doc["doctors"].append(
        {"id": "haio", "name": "HAIO", "practice": "p1", "role": "trainee", "supervisor": "d0"}
    )
    doc["doctors"][0]["unavailable"] = [{"from": "2027-02-11", "to": "2027-02-12"}]
    doc["shift_types"].append(
        {"id": "postnight", "scope": "post", "days": ["mon"], "start": "19:00", "end": "08:00"}
    )
    return scenario_of(doc)


def test_trainee_while_supervisor_on_another_duty_is_forbidden():
    """Trainee on the area night while the supervisor does the post night."""
    scenario = _trainee_scenario()
    pairs = [(MON, "haio"), ("postnight/wp/2027-02-08", "d0")]
    assert "supervision" in broken(scenario, pairs)
    assert not solver_allows(scenario, pairs)


def test_trainee_while_supervisor_away_is_forbidden():
    """The supervisor is on leave Thursday, so the trainee cannot do Wednesday's night."""
    scenario = _trainee_scenario()
    pair = [("weeknight/noord/2027-02-10", "haio")]
    assert "supervision" in broken(scenario, pair)
    assert not solver_allows(scenario, pair)


def test_trainee_while_supervisor_free_is_allowed():
    """Trainee on Monday's night while the supervisor has no other duty then."""
    scenario = _trainee_scenario()
    pairs = [(MON, "haio")]
    assert "supervision" not in broken(scenario, pairs)
    assert solver_allows(scenario, pairs)
