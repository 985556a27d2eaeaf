"""Rule close_duties (soft): a doctor's duties not within ``close_days`` of each other.

Part of ``min_days_between_duties``: each window of close_days + 1 days holding k > 1 starts
costs close_weight x (k - 1), so two duties one day apart cost twice as much as two days apart.
A duty holds the days from its start to its last night: a weekend block Fri 19:00 - Mon 08:00
holds Friday to Sunday. The minimum gap's own weight is 0 here, so only this term counts.
"""

from tests.helpers import (
    WEEKEND,
    WEEKNIGHT,
    evaluate,
    penalties_both_ways,
    scenario_of,
    solve_checked,
    tiny_doc,
)

NIGHT = "weeknight/noord/2027-02-{:02d}"
BLOCK = "weekend/wp/2027-02-12"


def _fortnight(close_days: int = 2):
    """Weeknights Mon-Thu of 8-19 Feb 2027 (12 days: 3-day windows start on 8..17)."""
    rule = {"days": 2, "weight": 0, "close_days": close_days, "close_weight": 50}
    doc = tiny_doc(
        horizon={"start": "2027-02-08", "end": "2027-02-19"},
        rules={"min_rest_hours": 0, "min_days_between_duties": rule},
    )
    return scenario_of(doc)


def _pairs(by_day: dict[int, str]) -> list[tuple[str, str]]:
    return [(NIGHT.format(day), doctor) for day, doctor in by_day.items()]


def test_one_and_two_days_apart_by_hand():
    """d0 on Tue 16 and Wed 17 (1 day apart): the windows from 15 and from 16 hold both, 2 x 50.
    d1 on Mon 8 and Wed 10 (2 days apart): only the window from 8 holds both, 1 x 50.
    d2 (9, 15) and d3 (11, 18) are 6 and 7 days apart: nothing. Total 150."""
    pairs = _pairs({8: "d1", 9: "d2", 10: "d1", 11: "d3", 15: "d2", 16: "d0", 17: "d0", 18: "d3"})
    scenario = _fortnight()
    assert evaluate(scenario, pairs).hard_violations == ()
    assert penalties_both_ways(scenario, pairs) == {"close_duties": 150}


def test_three_in_three_days_by_hand():
    """d0 on Mon 15, Tue 16, Wed 17. Windows from 13 hold {15}, 14 {15, 16}, 15 {15, 16, 17},
    16 {16, 17}, 17 {17}: excess 0 + 1 + 2 + 1 + 0 = 4, 4 x 50 = 200. The others are 3 or
    more days apart (d1 8/11, d2 9/18, d3 10): nothing."""
    pairs = _pairs({8: "d1", 9: "d2", 10: "d3", 11: "d1", 15: "d0", 16: "d0", 17: "d0", 18: "d2"})
    scenario = _fortnight()
    assert penalties_both_ways(scenario, pairs) == {"close_duties": 200}


def test_a_window_at_the_horizon_start_is_not_counted_twice():
    """d0 on Mon 8 and Tue 9: the window from 7 would hold both, but it starts before the
    horizon; only the window from 8 counts: 1 x 50 (one day apart inside the horizon costs 100,
    see the first test)."""
    pairs = _pairs({8: "d0", 9: "d0", 10: "d1", 11: "d2", 15: "d3", 16: "d1", 17: "d2", 18: "d3"})
    assert penalties_both_ways(_fortnight(), pairs) == {"close_duties": 50}


def _with_weekend():
    """Weeknights Mon-Thu of 8-18 Feb 2027 and the weekend block Fri 12 19:00 - Mon 15 08:00
    (nights of 12, 13 and 14); 3-day windows start on 8..16. The monthly cap is off (the
    block's 61 hours would cost some)."""
    rule = {"days": 2, "weight": 0, "close_days": 2, "close_weight": 50}
    doc = tiny_doc(
        horizon={"start": "2027-02-08", "end": "2027-02-18"},
        shift_types=[dict(WEEKNIGHT), dict(WEEKEND)],
        rules={
            "min_rest_hours": 0,
            "min_days_between_duties": rule,
            "max_hours_per_month": None,
        },
    )
    return scenario_of(doc)


def test_a_weekend_block_counts_to_its_last_night_by_hand():
    """d0 has the weekend (holds 12-14) and Tuesday 16's night: their starts are 4 days apart,
    but Sunday's night and Tuesday's are 2. Only the window from 14 (14-16) holds both: 1 x 50.
    The others: d1 on 8, 11, 18; d2 on 9, 15; d3 on 10, 17 (3 or more days apart). Total 50."""
    by_day = {8: "d1", 9: "d2", 10: "d3", 11: "d1", 15: "d2", 16: "d0", 17: "d3", 18: "d1"}
    pairs = [*_pairs(by_day), (BLOCK, "d0")]
    scenario = _with_weekend()
    assert evaluate(scenario, pairs).hard_violations == ()
    assert penalties_both_ways(scenario, pairs) == {"close_duties": 50}


def test_the_nights_before_and_after_a_weekend_block_by_hand():
    """d0 has Wednesday 10's night, the weekend and Monday 15's night. Wednesday is 2 days
    before Friday, the block's start: the window from 10 (10-12) holds both, 1 x 50. Monday is
    1 day after Sunday, the block's last night: the windows from 13 (13-15) and 14 (14-16) hold
    both, 2 x 50. The others are 7 or more days apart (d1 on 8, 16; d2 on 9, 17; d3 on 11, 18).
    Total 150."""
    by_day = {8: "d1", 9: "d2", 10: "d0", 11: "d3", 15: "d0", 16: "d1", 17: "d2", 18: "d3"}
    pairs = [*_pairs(by_day), (BLOCK, "d0")]
    assert penalties_both_ways(_with_weekend(), pairs) == {"close_duties": 150}


def test_close_days_zero_switches_it_off():
    """The roster of the first test costs nothing with ``close_days: 0``."""
    pairs = _pairs({8: "d1", 9: "d2", 10: "d1", 11: "d3", 15: "d2", 16: "d0", 17: "d0", 18: "d3"})
    assert "close_duties" not in evaluate(_fortnight(close_days=0), pairs).penalties_by_rule


def test_solver_keeps_duties_apart():
    """4 doctors for 8 nights: each doctor's two nights can be 3 or more days apart (d0 on 8
    and 11, d1 on 9 and 15, ...), so the optimum has no close duties."""
    result = solve_checked(_fortnight())
    assert result.evaluation is not None
    assert "close_duties" not in result.evaluation.penalties_by_rule
