"""Rule unavailable: no duty that touches a date of leave."""

from tests.helpers import broken, scenario_of, solver_allows, tiny_doc


def _on_leave_tuesday():
    doc = tiny_doc()
    doc["doctors"][0]["unavailable"] = [{"from": "2027-02-09", "to": "2027-02-09"}]
    return scenario_of(doc)


def test_night_into_a_leave_day_is_forbidden():
    """Monday's night ends Tuesday 08:00, so leave on Tuesday forbids it."""
    scenario = _on_leave_tuesday()
    pair = ("weeknight/noord/2027-02-08", "d0")
    assert "unavailable" in broken(scenario, [pair])
    assert not solver_allows(scenario, [pair])


def test_night_after_the_leave_is_allowed():
    """Wednesday's night touches neither Tuesday nor any other leave day."""
    scenario = _on_leave_tuesday()
    pair = ("weeknight/noord/2027-02-10", "d0")
    assert "unavailable" not in broken(scenario, [pair])
    assert solver_allows(scenario, [pair])
