"""Belgian rules exactly: legal holidays, fee periods, lost supervisors, periods and staffing by
date, age rules, pregnancy, joins, the legal minimum, trainees' 120 hours."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import WEEKEND, WEEKNIGHT, broken, scenario_of, solver_allows, tiny_doc
from wachtplanner.calendar import holiday_dates
from wachtplanner.domain.events import apply_roster_events
from wachtplanner.domain.rules import FeePolicy
from wachtplanner.domain.scenario import HolidaySpec
from wachtplanner.evaluation.fairness import compute_targets
from wachtplanner.expand import expand_shifts
from wachtplanner.stats.legal import legal_shortfalls
from wachtplanner.stats.tables import qualifying_hours
from wachtplanner.stats.trainees import trainee_hours, trainee_warnings

BRUSSELS = ZoneInfo("Europe/Brussels")
LEGAL = {
    2026: [
        "2026-01-01", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25",
        "2026-07-21", "2026-08-15", "2026-11-01", "2026-11-11", "2026-12-25",
    ],
    2027: [
        "2027-01-01", "2027-03-29", "2027-05-01", "2027-05-06", "2027-05-17",
        "2027-07-21", "2027-08-15", "2027-11-01", "2027-11-11", "2027-12-25",
    ],
    2028: [
        "2028-01-01", "2028-04-17", "2028-05-01", "2028-05-25", "2028-06-05",
        "2028-07-21", "2028-08-15", "2028-11-01", "2028-11-11", "2028-12-25",
    ],
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(LEGAL))
def test_the_ten_legal_holidays(year):
    """Belgium's 10 legal holidays (domain.md §1.2): no Easter Sunday, no Whit Sunday."""
    days = holiday_dates(HolidaySpec(), year, year)
    assert sorted(d.isoformat() for d in days) == LEGAL[year]


def test_extra_and_exclude_still_apply():
    """11 July added for Flanders, Armistice removed."""
    spec = HolidaySpec(extra=(date(2027, 7, 11),), exclude=(date(2027, 11, 11),))
    days = holiday_dates(spec, 2027, 2027)
    assert date(2027, 7, 11) in days
    assert date(2027, 11, 11) not in days
    assert len(days) == 10


def _block(start: str, end: str, holidays: tuple[str, ...] = (), weekend: bool = False):
    shift = expand_shifts(scenario_of(tiny_doc()))[0]
    return dataclasses.replace(
        shift,
        start=datetime.fromisoformat(start).replace(tzinfo=BRUSSELS),
        end=datetime.fromisoformat(end).replace(tzinfo=BRUSSELS),
        holidays=tuple(date.fromisoformat(d) for d in holidays),
        weekend=weekend,
    )


def test_fee_hours_by_period():
    """RIZIV periods (domain.md §3), each moment in one: weekend Fri 19:00-Mon 08:00 (max 48 h),
    a weekday holiday 00:00-24:00 (max 24 h), weekday evenings and nights 19:00-08:00.

    - Ascension 2027 (Thu 6 May) as a stand-alone block Wed 19:00 - Fri 08:00 (37 h): the eve's
      5 evening hours and the night after's 8 count as weekday night, the holiday 24: 37 h.
    - Easter 2027 merged, Fri 26 Mar 19:00 - Tue 30 Mar 08:00 (84 real h, DST): the weekend
      part Fri 19:00 - Mon 08:00 is 60 h, capped at 48; Easter Monday 08:00-24:00 is 16 h of
      holiday; Tuesday 00:00-08:00 is 8 h of night: 72 h.
    - 1 May 2027 is a Saturday: its weekend (61 h) earns 48 h, no more (one period, not two).
    """
    fees = FeePolicy()
    ascension = _block("2027-05-05T19:00", "2027-05-07T08:00", ("2027-05-06",))
    assert qualifying_hours(ascension, fees) == 37
    easter = _block("2027-03-26T19:00", "2027-03-30T08:00", ("2027-03-29",), weekend=True)
    assert easter.hours == 84
    assert qualifying_hours(easter, fees) == 72
    labour_day = _block("2027-04-30T19:00", "2027-05-03T08:00", ("2027-05-01",), weekend=True)
    assert qualifying_hours(labour_day, fees) == 48


def _trainee_doc():
    doc = tiny_doc(4, rules={"min_rest_hours": 0})
    doc["doctors"].append(
        {"id": "t0", "name": "HAIO", "practice": "p1", "role": "trainee", "supervisor": "d3"}
    )
    return doc


def test_a_trainee_whose_supervisor_is_lost_does_no_duty():
    """Supervisor d3 is lost on Tue 9 Feb: the trainee may work Monday, not from Tuesday on; the
    checker names it, the solver and the rotation never give it."""
    doc = _trainee_doc()
    doc["events"] = [{"type": "doctor_loss", "doctor": "d3", "date": "2027-02-09"}]
    scenario = apply_roster_events(scenario_of(doc))
    tuesday = "weeknight/noord/2027-02-09"
    assert "supervision" in broken(scenario, [(tuesday, "t0")])
    assert not solver_allows(scenario, [(tuesday, "t0")])
    assert solver_allows(scenario, [("weeknight/noord/2027-02-08", "t0")])


def test_periods_and_need_on():
    """A Monday dagwacht only from 15 Feb to 1 Mar 2027 (3 Mondays) with 2 GPs on 22 Feb."""
    dagwacht = {
        "id": "dagwacht",
        "scope": "area",
        "days": ["mon"],
        "start": "08:00",
        "end": "18:00",
        "periods": [{"from": "2027-02-15", "to": "2027-03-01"}],
        "need_on": [{"from": "2027-02-22", "to": "2027-02-22", "need": 2}],
    }
    doc = tiny_doc(horizon={"start": "2027-02-01", "end": "2027-03-31"}, shift_types=[dagwacht])
    shifts = expand_shifts(scenario_of(doc))
    assert [(s.start_date.isoformat(), s.need) for s in shifts] == [
        ("2027-02-15", 1),
        ("2027-02-22", 2),
        ("2027-03-01", 1),
    ]


def test_age_rules_per_kind_of_duty():
    """From 60 weekends count half, from 65 no weeknights (factor 0 exempts): d0 is 66.
    Weeknights: d0 exempt (solver and checker), targets split over the other three.
    Weekend: weights 0.5, 1, 1, 1."""
    doc = tiny_doc(
        4,
        horizon={"start": "2027-02-08", "end": "2027-02-14"},
        shift_types=[dict(WEEKNIGHT), dict(WEEKEND)],
        rules={
            "age": [
                {"from_age": 60, "shift_types": ["weekend"], "factor": 0.5},
                {"from_age": 65, "shift_types": ["weeknight"], "factor": 0},
            ]
        },
    )
    doc["doctors"][0]["birth_date"] = "1960-06-01"
    scenario = scenario_of(doc)
    assert "exemption" in broken(scenario, [("weeknight/noord/2027-02-08", "d0")])
    assert not solver_allows(scenario, [("weeknight/noord/2027-02-08", "d0")])
    targets = compute_targets(scenario, expand_shifts(scenario))
    assert ("d0", "night") not in {k for k, t in targets.items() if t.target_centi > 0}
    weekend = {d: targets[d, "weekend"].share for d in ("d0", "d1")}
    assert weekend["d0"] == pytest.approx(0.5 / 3.5)
    assert weekend["d1"] == pytest.approx(1 / 3.5)


def test_pregnancy_preset():
    """Due 10 June 2027: exempt from all duty 10 March to 10 September."""
    doc = tiny_doc(4, horizon={"start": "2027-03-01", "end": "2027-03-31"})
    doc["doctors"][1]["pregnancy_due"] = "2027-06-10"
    scenario = scenario_of(doc)
    preset = scenario.doctors[1].all_exemptions[-1]
    assert (preset.start, preset.end) == (date(2027, 3, 10), date(2027, 9, 10))
    assert "exemption" in broken(scenario, [("weeknight/noord/2027-03-15", "d1")])
    assert "exemption" not in broken(scenario, [("weeknight/noord/2027-03-08", "d1")])


def test_a_joining_doctor_has_no_duty_before_the_join():
    """doctor_join on Wed 10 Feb: the new GP may take Wednesday's night, not Tuesday's."""
    doc = tiny_doc(4)
    doc["events"] = [
        {
            "type": "doctor_join",
            "doctor": {"id": "new", "name": "Dr. New", "practice": "p1"},
            "date": "2027-02-10",
        }
    ]
    scenario = apply_roster_events(scenario_of(doc))
    assert "unavailable" in broken(scenario, [("weeknight/noord/2027-02-09", "new")])
    assert solver_allows(scenario, [("weeknight/noord/2027-02-10", "new")])
    assert apply_roster_events(scenario) == scenario


def test_legal_minimum_by_hand():
    """An area of 150 000 needs 2 GPs on call 08:00-23:00 and 1 at night, outside weekday practice
    hours. Only a 1-GP weeknight 19:00-08:00 on Mon 8 Feb: Monday 18:00-19:00 has 0 of 2,
    19:00-23:00 1 of 2, 23:00-08:00 is covered (1 of 1)."""
    doc = tiny_doc(4, horizon={"start": "2027-02-08", "end": "2027-02-08"})
    doc["areas"][0]["population"] = 150_000
    doc["posts"] = []
    scenario = scenario_of(doc)
    gaps = legal_shortfalls(scenario, expand_shifts(scenario))
    local = [(g.start.astimezone(BRUSSELS), g.end.astimezone(BRUSSELS), g) for g in gaps]
    monday = [
        (start.strftime("%H:%M"), end.strftime("%H:%M"), g.on_call, g.required)
        for start, end, g in local
        if start.date() == date(2027, 2, 8)
    ]
    assert ("18:00", "19:00", 0, 2) in monday
    assert ("19:00", "23:00", 1, 2) in monday
    assert all(start != "23:00" for start, *_ in monday)


def test_trainee_hours_and_warning():
    """One trainee among 5 equal doctors in a week of 4 nights (13 h): expected 4 x 13 / 5 =
    10.4 h against 120 x 4 / 365 = 1.3 h needed: no warning. Exempt from weeknights: 0 h, a
    warning naming the 1.3 h."""
    doc = _trainee_doc()
    doc["shift_types"][0]["roles"] = ["gp", "trainee"]
    scenario = scenario_of(doc)
    shifts = expand_shifts(scenario)
    (hours,) = trainee_hours(scenario, shifts)
    assert (hours.expected_hours, hours.needed_hours) == (10.4, 1.3)
    assert trainee_warnings(scenario, shifts) == []
    doc["doctors"][-1]["exemptions"] = [{"reason": "health"}]
    exempt = scenario_of(doc)
    (warning,) = trainee_warnings(exempt, expand_shifts(exempt))
    assert "t0" in warning
    assert "1.3 h" in warning


@pytest.mark.slow
def test_the_shipped_post_solves_valid(scenarios_dir):
    """The ~120-GP, ~100 000-inhabitant post with split weekend blocks: its first 17 days (New
    Year on Friday 1 January merged into the first weekend, then two split weekends; January
    took 17 s of this suite's 3 minutes, and `benchmarks/` runs the quarter) solve to a roster
    the checker accepts (solve_checked asserts it and compares CP-SAT's own values), every
    doctor within band."""
    import yaml

    from tests.helpers import scenario_of, solve_checked

    doc = yaml.safe_load((scenarios_dir / "post-120-2027.yaml").read_text(encoding="utf-8"))
    doc["horizon"] = {"start": "2027-01-01", "end": "2027-01-17"}
    scenario = scenario_of(doc)
    assert sum(a.population or 0 for a in scenario.areas) == pytest.approx(100_000, rel=0.01)
    result = solve_checked(scenario)
    assert result.evaluation is not None
    assert result.evaluation.hard_violations == ()
    assert result.terms["max_excess_centi"] == 0
