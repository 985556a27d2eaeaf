"""Rule even_load (soft): cumulative points near the pro-rata target at every period's end."""

from tests.helpers import evaluate, penalties_both_ways, scenario_of, tiny_doc

NIGHT = "weeknight/noord/2027-{}"


def _two_months():
    """Weeknights (13 points each, 19:00-08:00) of the first week of January and of February,
    2 equal doctors, monthly periods."""
    doc = tiny_doc(
        2,
        horizon={"start": "2027-01-04", "end": "2027-02-04"},
        rules={"min_rest_hours": 0, "even_load": {"period": "month", "weight": 1}},
    )
    doc["shift_types"][0]["days"] = ["mon", "tue", "wed", "thu"]
    return scenario_of(doc)


def test_front_loaded_doctor_pays_per_point_by_hand():
    """January has 16 nights (Jan 4..28, Mon-Thu) and February 4 (Feb 1..4): 20 nights of 13
    points, 260 in all, 130 each. Each doctor's pro-rata target at the end of January is
    130 x 16/20 = 104 points. d0 takes 12 January nights (156 points) and no February one; d1
    takes 4 + 4. After January: d0 |156 - 104| = 52 points, d1 |52 - 104| = 52: 104 in all
    (February, the last period, is left to the fairness stages)."""
    scenario = _two_months()
    january = [f"01-{d:02d}" for d in (4, 5, 6, 7, 11, 12, 13, 14, 18, 19, 20, 21, 25, 26, 27, 28)]
    february = [f"02-{d:02d}" for d in (1, 2, 3, 4)]
    pairs = [(NIGHT.format(day), "d0") for day in january[:12]]
    pairs += [(NIGHT.format(day), "d1") for day in january[12:] + february]
    assert penalties_both_ways(scenario, pairs)["even_load"] == 104


def test_pro_rata_roster_costs_nothing():
    """8 January nights and 2 February nights each: exactly 104 points after January."""
    scenario = _two_months()
    january = [f"01-{d:02d}" for d in (4, 5, 6, 7, 11, 12, 13, 14, 18, 19, 20, 21, 25, 26, 27, 28)]
    february = [f"02-{d:02d}" for d in (1, 2, 3, 4)]
    pairs = [(NIGHT.format(day), f"d{n % 2}") for n, day in enumerate(january + february)]
    assert "even_load" not in evaluate(scenario, pairs).penalties_by_rule
