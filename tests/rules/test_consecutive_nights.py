"""Rule consecutive_nights: at most `count` duties in a row on consecutive nights (hard default).

A weekend block (Fri, Sat, Sun nights) is one duty in such a row.
"""

from tests.helpers import (
    WEEKEND,
    WEEKNIGHT,
    broken,
    evaluate,
    penalties_both_ways,
    scenario_of,
    solver_allows,
    tiny_doc,
)

MON, TUE, WED, THU = (f"weeknight/noord/2027-02-{d:02d}" for d in (8, 9, 10, 11))
FRI_WEEKEND, NEXT_MON = "weekend/wp/2027-02-12", "weeknight/noord/2027-02-15"


def _nights(hard: bool = True, count: int = 2):
    doc = tiny_doc(
        horizon={"start": "2027-02-08", "end": "2027-02-15"},
        shift_types=[dict(WEEKNIGHT), dict(WEEKEND)],
        rules={"max_consecutive_nights": {"count": count, "hard": hard, "weight": 50}},
    )
    return scenario_of(doc)


def test_three_weeknights_in_a_row_are_forbidden():
    """Mon, Tue and Wed nights: three duties in a row, two allowed."""
    scenario = _nights()
    pairs = [(MON, "d0"), (TUE, "d0"), (WED, "d0")]
    assert "consecutive_nights" in broken(scenario, pairs)
    assert not solver_allows(scenario, pairs)


def test_two_in_a_row_then_a_night_off_is_allowed():
    """Mon, Tue, (Wed off), Thu: rows of 2 and 1."""
    scenario = _nights()
    pairs = [(MON, "d0"), (TUE, "d0"), (THU, "d0")]
    assert "consecutive_nights" not in broken(scenario, pairs)
    assert solver_allows(scenario, pairs)


def test_weekend_block_counts_as_one_duty_in_the_row():
    """Thu night, then the weekend (its first night is Friday, the day after Thursday's): a row
    of 2, allowed. Monday's night follows Sunday's, the weekend's last: a row of 3, forbidden."""
    scenario = _nights()
    assert "consecutive_nights" not in broken(scenario, [(THU, "d0"), (FRI_WEEKEND, "d0")])
    assert solver_allows(scenario, [(THU, "d0"), (FRI_WEEKEND, "d0")])
    row = [(THU, "d0"), (FRI_WEEKEND, "d0"), (NEXT_MON, "d0")]
    assert "consecutive_nights" in broken(scenario, row)
    assert not solver_allows(scenario, row)


def test_soft_penalty_by_hand():
    """Soft, count 1: Mon-Tue-Wed is a row of 3 duties, 2 beyond the count: 2 x 50 = 100. Thu
    goes to d1 and the weekend to d2, so nothing else is in a row."""
    scenario = _nights(hard=False, count=1)
    pairs = [(MON, "d0"), (TUE, "d0"), (WED, "d0"), (THU, "d1"), (FRI_WEEKEND, "d2")]
    pairs.append((NEXT_MON, "d3"))
    assert evaluate(scenario, pairs).hard_violations == ()
    assert penalties_both_ways(scenario, pairs)["consecutive_nights"] == 100
