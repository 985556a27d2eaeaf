"""Rule rest: min_rest_hours between the end of one duty and the start of the next."""

from tests.helpers import broken, scenario_of, solver_allows, tiny_doc

MON, TUE = "weeknight/noord/2027-02-08", "weeknight/noord/2027-02-09"


def _day_duty_after_night():
    doc = tiny_doc()
    doc["shift_types"].append(
        {"id": "dagwacht", "scope": "area", "days": ["tue"], "start": "08:00", "end": "18:00"}
    )
    return scenario_of(doc)


def test_day_duty_right_after_a_night_is_forbidden():
    """Night Mon 19:00-Tue 08:00 then dagwacht Tue 08:00 leaves 0 h rest, needs 11 h."""
    scenario = _day_duty_after_night()
    pairs = [(MON, "d0"), ("dagwacht/noord/2027-02-09", "d0")]
    assert "rest" in broken(scenario, pairs)
    assert not solver_allows(scenario, pairs)


def test_next_night_after_eleven_hours_is_allowed():
    """Night Mon ends Tue 08:00; night Tue starts 19:00: exactly 11 h of rest."""
    scenario = _day_duty_after_night()
    pairs = [(MON, "d0"), (TUE, "d0")]
    assert "rest" not in broken(scenario, pairs)
    assert solver_allows(scenario, pairs)
