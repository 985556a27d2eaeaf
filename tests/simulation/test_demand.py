"""Continuity that counts everything: all demand, the emergency point's area, the absorbing GPs'
load, retiring GPs' intake stop, FTE changes, newcomers, GP-poor weeks. Hand-worked numbers."""

from tests.helpers import scenario_of, tiny_doc
from tests.simulation.test_weekly import LOSS_MONDAY, two_practices
from wachtplanner.simulation.weekly import simulate


def test_all_contacts_of_the_unattached_count():
    """contacts 5.2 a year = 0.1 a week per patient, acute share 0.3. Week 0: 80 unattached ->
    8.0 consultations, 2.4 acute. The point (5 a week, serves all) takes the 2.4 acute first,
    then 2.6 others: 5.0 served, 3.0 unmet, 0 of them acute."""
    doc = two_practices(contacts_per_patient_per_year=5.2, acute_share=0.3)
    doc["emergency_points"] = [
        {"id": "np", "area": "noord", "sessions_per_week": 1, "consults_per_session": 5}
    ]
    row = simulate(scenario_of(doc), weeks=1).rows[0]
    assert (row.contacts_demand, row.acute_demand) == (8.0, 2.4)
    assert row.served_emergency == 5.0
    assert (row.unmet, row.unmet_acute) == (3.0, 0.0)


def test_an_acute_only_point_and_overflow():
    """The same point serving acute only: 2.4 served; overflow (1 a week) finds no acute left;
    unmet 5.6, all non-acute."""
    doc = two_practices(
        contacts_per_patient_per_year=5.2, acute_share=0.3, overflow_consults_per_week=1
    )
    doc["emergency_points"] = [
        {"id": "np", "area": "noord", "sessions_per_week": 1, "consults_per_session": 5,
         "serves": "acute"}
    ]  # fmt: skip
    row = simulate(scenario_of(doc), weeks=1).rows[0]
    assert (row.served_emergency, row.served_overflow) == (2.4, 0.0)
    assert (row.unmet, row.unmet_acute) == (5.6, 0.0)


def test_a_point_serves_its_own_area_only():
    """The point is in 'zuid'; the unattached live in 'noord': nothing served."""
    doc = two_practices(contacts_per_patient_per_year=5.2, acute_share=1.0)
    doc["areas"].append({"id": "zuid", "name": "WDO Zuid"})
    doc["emergency_points"] = [
        {"id": "np", "area": "zuid", "sessions_per_week": 1, "consults_per_session": 5}
    ]
    row = simulate(scenario_of(doc), weeks=1).rows[0]
    assert row.served_emergency == 0
    assert row.unmet == 8.0


def test_the_absorbing_gp_carries_more():
    """Dr. Y (1450 GMD) takes 20 of X's patients in week 0: 1470 x 5.2 / 52 = 147.0 contacts a
    week, 149.0 after week 1 (1490)."""
    doc = two_practices(contacts_per_patient_per_year=5.2)
    sim = simulate(scenario_of(doc), weeks=2)
    assert [r.contacts_per_week for r in sim.rows] == [{"y": 147.0}, {"y": 149.0}]


def test_newcomers_and_initial_unattached():
    """No loss; 30 citizens without a GP at the start and 10 newcomers a week in 'noord'; Y has
    room for 50 at 20 a week: week 0: 40 arrive in all, 20 placed -> 20; week 1: +10, 20 placed
    -> 10; week 2: +10, 10 placed (room 10 left) -> 10; patients: 1450 + 30 + 10 n."""
    doc = two_practices(initial_unattached={"noord": 30}, newcomers_per_week={"noord": 10})
    doc["events"] = []
    doc["doctors"] = [doc["doctors"][1]]
    doc["practices"] = [doc["practices"][1]]
    sim = simulate(scenario_of(doc), weeks=3)
    assert [r.unattached for r in sim.rows] == [20, 10, 10]
    assert [r.attached + r.unattached for r in sim.rows] == [1490, 1500, 1510]


def test_retiring_gp_stops_intake_before_leaving():
    """Two solo GPs; Old (70) is the only one leaving in a 1-year wave from 4 Jan 2027, so on
    day round(365 x 1/2) = 182: 5 July 2027; Dead's list of 40 needs a new GP in week 0, and
    only Old has room. Stopping intake 7 months before (from 5 Dec 2026): nobody is re-homed.
    Without the stop (0 months), Old takes 20 a week (the intake) and all 40 are placed."""
    doc = tiny_doc(
        horizon={"start": "2027-01-04", "end": "2027-12-31"},
        practices=[
            {"id": "p1", "name": "Solo Old", "area": "noord"},
            {"id": "p2", "name": "Solo Dead", "area": "noord"},
        ],
        doctors=[
            {
                "id": "old",
                "name": "Dr. Old",
                "practice": "p1",
                "gmd": 0,
                "birth_date": "1957-01-01",
            },
            {
                "id": "dead",
                "name": "Dr. Dead",
                "practice": "p2",
                "gmd": 40,
                "birth_date": "1980-01-01",
            },
        ],
        continuity={"intake_per_week_per_fte": 20, "stop_intake_months_before_retirement": 7},
        events=[
            {"type": "doctor_loss", "doctor": "dead", "date": "2027-01-04"},
            {"type": "retirement_wave", "min_age": 65, "within_years": 1},
        ],
    )
    sim = simulate(scenario_of(doc), weeks=4)
    assert sum(r.rehomed for r in sim.rows) == 0
    assert sim.rows[-1].unattached == 40
    doc["continuity"]["stop_intake_months_before_retirement"] = 0
    sim = simulate(scenario_of(doc), weeks=4)
    assert sum(r.rehomed for r in sim.rows) == 40
    assert sim.rows[-1].unattached == 0


def test_fte_change_halves_the_intake():
    """Y goes to 0.5 FTE on the day of the loss: intake 10 a week, room min(750 - 1450, ...) = 0:
    nobody is re-homed (the list is already above half a capacity)."""
    doc = two_practices()
    doc["events"].append({"type": "fte_change", "doctor": "y", "date": LOSS_MONDAY, "fte": 0.5})
    sim = simulate(scenario_of(doc), weeks=2)
    assert [r.rehomed for r in sim.rows] == [0, 0]


def test_gp_poor_weeks_per_area():
    """'noord' has 2 000 inhabitants and 2 GPs under 65 (100 per 100 000: not GP-poor); when X
    dies, 1 GP is 50 per 100 000: GP-poor from week 0 on."""
    doc = two_practices()
    doc["areas"][0]["population"] = 2000
    sim = simulate(scenario_of(doc), weeks=3)
    assert sim.gp_poor_before == ()
    assert [r.gp_poor for r in sim.rows] == [("noord",), ("noord",), ("noord",)]
    assert sim.first_gp_poor_week() == {"noord": 0}
    assert sim.gp_poor_weeks == 3
