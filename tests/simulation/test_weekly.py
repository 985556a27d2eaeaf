"""Continuity simulation: hand-computed weekly numbers, preferences, saturation, conservation."""

from datetime import date

import pytest

from benchmarks.generate import generate
from tests.helpers import scenario_of, tiny_doc
from wachtplanner.domain.continuity import RetirementWave
from wachtplanner.io.scenario_files import load_scenario
from wachtplanner.simulation.weekly import retirement_dates, simulate

LOSS_MONDAY = "2027-01-04"


def two_practices(**continuity):
    """P1: solo Dr. X (100 GMD) dies on Monday 4 Jan 2027. P2: Dr. Y, 1 FTE, 1450 GMD.

    Capacity 1500 per FTE and intake 20 a week: Y has room for 50, at 20 a week.
    """
    return tiny_doc(
        horizon={"start": "2027-01-01", "end": "2027-03-31"},
        practices=[
            {"id": "p1", "name": "Praktijk 1", "area": "noord"},
            {"id": "p2", "name": "Praktijk 2", "area": "noord"},
        ],
        doctors=[
            {"id": "x", "name": "Dr. X", "practice": "p1", "gmd": 100},
            {"id": "y", "name": "Dr. Y", "practice": "p2", "gmd": 1450},
        ],
        continuity={"gmd_capacity_per_fte": 1500, "intake_per_week_per_fte": 20, **continuity},
        events=[{"type": "doctor_loss", "doctor": "x", "date": LOSS_MONDAY}],
    )


def test_two_practices_exact_weekly_numbers():
    """Week 0: 20 re-homed, 80 left; week 1: 60; week 2: room 10 left, so 50; then 50 for good."""
    sim = simulate(scenario_of(two_practices()), weeks=5)
    assert [r.rehomed for r in sim.rows] == [20, 20, 10, 0, 0]
    assert [r.unattached for r in sim.rows] == [80, 60, 50, 50, 50]
    assert [r.attached for r in sim.rows] == [1470, 1490, 1500, 1500, 1500]
    assert sim.rows[0].start.isoformat() == LOSS_MONDAY
    assert sim.weeks_until_all_attached is None
    assert sim.gmd_per_fte_after == {"p2": 1500.0}


def test_acute_demand_and_emergency_point_saturation():
    """contacts 5.2 a year x acute share 1 = 0.1 acute consultation per unattached patient a week.
    The emergency point (1 session x 5 consultations) opens in week 2 (Mon 18 Jan):
    week 0: 80 -> 8.0 demand, all unmet; week 1: 60 -> 6.0 unmet; week 2: 50 -> 5.0, exactly the
    capacity, 0 unmet; week 3: 5.0 again, saturated."""
    doc = two_practices(contacts_per_patient_per_year=5.2, acute_share=1.0)
    doc["emergency_points"] = [
        {
            "id": "np",
            "area": "noord",
            "sessions_per_week": 1,
            "consults_per_session": 5,
            "from": "2027-01-18",
        }
    ]
    sim = simulate(scenario_of(doc), weeks=4)
    assert [r.acute_demand for r in sim.rows] == [8.0, 6.0, 5.0, 5.0]
    assert [r.served_emergency for r in sim.rows] == [0, 0, 5.0, 5.0]
    assert [r.unmet for r in sim.rows] == [8.0, 6.0, 0.0, 0.0]


def test_overflow_takes_what_the_emergency_point_cannot():
    """With no emergency point and overflow for 3 consultations a week: 8 -> 3 served, 5 unmet."""
    doc = two_practices(
        contacts_per_patient_per_year=5.2, acute_share=1.0, overflow_consults_per_week=3
    )
    sim = simulate(scenario_of(doc), weeks=1)
    assert sim.rows[0].served_overflow == 3
    assert sim.rows[0].unmet == 5.0


def test_closed_practice_takes_nobody():
    """A patient stop on P2 the day of the loss: nobody is re-homed, all 100 stay unattached."""
    doc = two_practices()
    doc["events"].append({"type": "patient_stop", "practice": "p2", "date": LOSS_MONDAY})
    sim = simulate(scenario_of(doc), weeks=3)
    assert [r.unattached for r in sim.rows] == [100, 100, 100]


def test_same_practice_then_area_then_circle():
    """Dr. X's patients go first to his partner Z (same practice), then to W (same area), and
    only then to V in the other area; each has an intake of 20 a week."""
    doc = tiny_doc(
        areas=[{"id": "noord", "name": "WDO Noord"}, {"id": "zuid", "name": "WDO Zuid"}],
        posts=[{"id": "wp", "name": "Wachtpost", "areas": ["noord", "zuid"]}],
        practices=[
            {"id": "p1", "name": "Praktijk 1", "area": "noord"},
            {"id": "p2", "name": "Praktijk 2", "area": "noord"},
            {"id": "p3", "name": "Praktijk 3", "area": "zuid"},
        ],
        doctors=[
            {"id": "x", "name": "Dr. X", "practice": "p1", "gmd": 50},
            {"id": "z", "name": "Dr. Z", "practice": "p1", "gmd": 0},
            {"id": "w", "name": "Dr. W", "practice": "p2", "gmd": 0},
            {"id": "v", "name": "Dr. V", "practice": "p3", "gmd": 0},
        ],
        continuity={"gmd_capacity_per_fte": 1500, "intake_per_week_per_fte": 20},
        events=[{"type": "doctor_loss", "doctor": "x", "date": LOSS_MONDAY}],
    )
    sim = simulate(scenario_of(doc), weeks=1)
    assert sim.rows[0].gmd_per_fte == {"p1": 20.0, "p2": 20.0, "p3": 10.0}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_patients_are_conserved(seed):
    """Generated circles with losses and patient stops: attached + unattached never changes."""
    doc = generate(40, 2, 2027, quarter=1, seed=seed)
    gps = [d for d in doc["doctors"] if d.get("role", "gp") == "gp"]
    doc["events"] = [
        {"type": "doctor_loss", "doctor": gps[0]["id"], "date": "2027-01-20"},
        {"type": "doctor_loss", "doctor": gps[5]["id"], "date": "2027-02-10"},
        {"type": "patient_stop", "practice": doc["practices"][1]["id"], "date": "2027-01-05"},
    ]
    total = sum(d["gmd"] for d in gps)
    sim = simulate(scenario_of(doc), weeks=20)
    assert all(r.attached + r.unattached == total for r in sim.rows)
    assert all(r.unattached >= 0 for r in sim.rows)


def test_retirement_wave_spreads_oldest_first():
    """Solo GPs at or above 60 leave one by one, oldest first, evenly over the years."""
    doc = tiny_doc(
        practices=[
            {"id": "p1", "name": "Solo 1", "area": "noord"},
            {"id": "p2", "name": "Solo 2", "area": "noord"},
            {"id": "p3", "name": "Groep", "area": "noord"},
        ],
        doctors=[
            {"id": "old", "name": "Dr. Old", "practice": "p1", "birth_date": "1950-01-01"},
            {"id": "older", "name": "Dr. Older", "practice": "p2", "birth_date": "1945-01-01"},
            {"id": "g1", "name": "Dr. G1", "practice": "p3", "birth_date": "1950-01-01"},
            {"id": "g2", "name": "Dr. G2", "practice": "p3", "birth_date": "1990-01-01"},
        ],
        events=[{"type": "retirement_wave", "min_age": 60, "solo_only": True, "within_years": 3}],
    )
    scenario = scenario_of(doc)
    wave = scenario.events[0]
    assert isinstance(wave, RetirementWave)
    leaving = retirement_dates(scenario, wave, scenario.horizon.start)
    assert [d for d, _ in leaving] == ["older", "old"]
    assert leaving[0][1] < leaving[1][1]


def test_weeks_until_everyone_attached():
    """With room for all 100 patients (capacity 1600), 20 a week: attached after 5 weeks."""
    doc = two_practices(gmd_capacity_per_fte=1600)
    sim = simulate(scenario_of(doc), weeks=8)
    assert [r.unattached for r in sim.rows[:6]] == [80, 60, 40, 20, 0, 0]
    assert sim.weeks_until_all_attached == 4


@pytest.mark.parametrize(
    "name",
    [
        "loss-2000-gmd.yaml",
        "loss-2000-gmd-noodpunt.yaml",
        "overflow-group-practice.yaml",
        "ageing-solo-5y.yaml",
    ],
)
def test_shipped_continuity_scenarios_conserve_patients(scenarios_dir, name):
    """The shipped stories never create or lose a patient, week by week."""
    sim = simulate(load_scenario(scenarios_dir / name))
    totals = {r.attached + r.unattached for r in sim.rows}
    assert len(totals) == 1
    assert sim.departures


def test_the_2000_gmd_story(scenarios_dir):
    """Dorp: 1800 of the 2000 patients find room at 64 a week at first, 200 never do. Every
    consultation of a patient without a GP is unmet unless a service takes it: 4.5 a year, so
    unattached x 4.5 / 52 a week; over the 53 weeks from 1 March 2027 the unattached add up to
    37 362 patient-weeks, so 37 362 x 4.5 / 52 = 3233.3 consultations unmet.

    The noodpunt (15 March - 31 December 2027, serves all: 5 sessions x 16 = 80 consultations a
    week) takes up to 80 of each open week's demand; what it leaves is unmet: 1064."""
    alone = simulate(load_scenario(scenarios_dir / "loss-2000-gmd.yaml"))
    with_point = simulate(load_scenario(scenarios_dir / "loss-2000-gmd-noodpunt.yaml"))
    assert alone.rows[0].rehomed == 64
    assert alone.rows[-1].unattached == 200
    assert sum(r.unattached for r in alone.rows) == 37_362
    assert alone.total_unmet == pytest.approx(37_362 * 4.5 / 52, abs=0.5)  # weekly rounding
    assert round(alone.total_unmet) == 3233
    open_weeks = [date(2027, 3, 15) <= r.start <= date(2027, 12, 31) for r in alone.rows]
    left = sum(
        max(0.0, r.contacts_demand - 80 * is_open)
        for r, is_open in zip(alone.rows, open_weeks, strict=True)
    )
    assert sum(open_weeks) == 42  # 15 March to the week of 27 December
    assert with_point.total_unmet == pytest.approx(left, abs=0.5)
    assert round(with_point.total_unmet) == 1064
