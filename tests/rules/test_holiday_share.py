"""Rule holiday_share (soft): duties touching a holiday beyond a doctor's fair number cost."""

from tests.helpers import (
    CHRISTMAS,
    HOLIDAY,
    evaluate,
    penalties_both_ways,
    scenario_of,
    solve_checked,
    tiny_doc,
)

NEW_YEAR = "holiday/wp/2027-12-31"


def _christmas_and_new_year(num_doctors: int, tags: list[str] | None = None):
    """The Christmas (24 Dec 19:00 - 26 Dec 08:00) and New Year (31 Dec 19:00 - 2 Jan 08:00)
    blocks, one GP each: two duties touching a holiday."""
    holiday = dict(HOLIDAY, tags=["holiday"] if tags is None else tags)
    doc = tiny_doc(
        num_doctors,
        horizon={"start": "2027-12-20", "end": "2028-01-02"},
        shift_types=[holiday],
        # Both blocks in December are 74 h: the monthly cap would cost too.
        rules={"holiday_share": {"weight": 50}, "max_hours_per_month": None},
    )
    return scenario_of(doc)


def test_both_blocks_to_one_of_two_doctors_cost_the_weight_once():
    """Each of 2 doctors is expected 2 x 1/2 = 1 holiday duty, fair number 1: d0 with both has
    one too many, 1 x 50."""
    both = [(CHRISTMAS, "d0"), (NEW_YEAR, "d0")]
    penalties = penalties_both_ways(_christmas_and_new_year(2), both)
    assert penalties == {"holiday_share": 50}


def test_a_fair_number_is_rounded_up():
    """Of 4 doctors each is expected 2 x 1/4 = 0.5, rounded up to 1: one block each costs
    nothing; both to d3 cost 50 (2 - 1 = 1 over)."""
    scenario = _christmas_and_new_year(4)
    split = evaluate(scenario, [(CHRISTMAS, "d0"), (NEW_YEAR, "d3")])
    assert "holiday_share" not in split.penalties_by_rule
    both = penalties_both_ways(scenario, [(CHRISTMAS, "d3"), (NEW_YEAR, "d3")])
    assert both == {"holiday_share": 50}


def test_switched_off_costs_nothing():
    doc = tiny_doc(
        2,
        horizon={"start": "2027-12-20", "end": "2028-01-02"},
        shift_types=[dict(HOLIDAY)],
        rules={"holiday_share": None},
    )
    evaluation = evaluate(scenario_of(doc), [(CHRISTMAS, "d0"), (NEW_YEAR, "d0")])
    assert "holiday_share" not in evaluation.penalties_by_rule


def test_solver_gives_each_doctor_one_when_nothing_else_decides():
    """Blocks without a fairness tag: only holiday_share tells the two rosters apart, so the
    solver gives one block to each doctor (soft penalty 0)."""
    result = solve_checked(_christmas_and_new_year(2, tags=[]))
    holders = sorted(a.doctor_id for a in result.roster.assignments)
    assert holders == ["d0", "d1"]
    assert result.evaluation is not None
    assert "holiday_share" not in result.evaluation.penalties_by_rule
