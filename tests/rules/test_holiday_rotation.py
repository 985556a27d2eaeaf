"""Rule holiday_rotation (soft): a holiday done last year costs `weight` when given again."""

from tests.helpers import (
    CHRISTMAS,
    HOLIDAY,
    evaluate,
    penalties_both_ways,
    scenario_of,
    solve_checked,
    tiny_doc,
)


def _christmas():
    doc = tiny_doc(
        2,
        horizon={"start": "2027-12-20", "end": "2027-12-27"},
        shift_types=[dict(HOLIDAY)],
        rules={"holiday_rotation": {"weight": 100}},
    )
    doc["doctors"][0]["carry_over"] = {"holidays": ["christmas"]}
    return scenario_of(doc)


def test_christmas_again_costs_the_weight():
    """d0 did Christmas last year; the Christmas block (24 Dec 19:00 - 26 Dec 08:00) again: 100."""
    penalties = penalties_both_ways(_christmas(), [(CHRISTMAS, "d0")])
    assert penalties == {"holiday_rotation": 100}


def test_someone_else_costs_nothing():
    """d1 did not do Christmas last year."""
    assert "holiday_rotation" not in evaluate(_christmas(), [(CHRISTMAS, "d1")]).penalties_by_rule


def test_solver_rotates_christmas():
    """The solver gives Christmas to d1 (fairness is equal either way: one block, two doctors)."""
    result = solve_checked(_christmas())
    assert [(a.shift_id, a.doctor_id) for a in result.roster.assignments] == [(CHRISTMAS, "d1")]


def test_ledger_writes_this_years_holidays_for_next_year():
    """d1 does Christmas (24 Dec 19:00 - 26 Dec 08:00 touches 25 Dec): next year's carry-over of
    d1 names it, and a scenario with that carry-over validates."""
    from wachtplanner.evaluation.objective import evaluate_roster
    from wachtplanner.expand import expand_shifts
    from wachtplanner.stats.ledger import next_carry_over

    scenario = _christmas()
    result = solve_checked(scenario)
    shifts = expand_shifts(scenario)
    ledger = next_carry_over(
        shifts, result.roster, evaluate_roster(scenario, shifts, result.roster)
    )
    assert ledger["d1"]["holidays"] == ["christmas"]
    assert "holidays" not in ledger["d0"]
    doc = tiny_doc(2, shift_types=[dict(HOLIDAY)])
    doc["doctors"][1]["carry_over"] = ledger["d1"]
    assert scenario_of(doc).doctors[1].carry_over.holidays == ("christmas",)
