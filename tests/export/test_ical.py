"""Feeds parse back to the roster's assignments and real hours, DST weekends included, and keep
their identity across versions."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events

from benchmarks.generate import generate
from tests.helpers import scenario_of
from wachtplanner.expand import expand_shifts
from wachtplanner.export.ical import duty_versions, feeds
from wachtplanner.solver.greedy import greedy_roster
from wachtplanner.solver.instance import compile_instance

DEMO = Path(__file__).parents[2] / "scenarios" / "demo.yaml"
VERSION = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def demo(demo_solved):
    """The demo scenario and its checked roster."""
    return demo_solved


def _feeds(scenario, result, versions=None, when=VERSION):
    versions = versions or duty_versions(result.shifts, result.roster, when)
    return feeds(scenario, result.shifts, result.roster, versions)


def test_doctor_feeds_round_trip_assignments_and_real_hours(demo):
    """Every assignment appears once in its doctor's feed with the real elapsed hours; the Easter
    block over the spring DST change is 84 h, not 85 h."""
    scenario, result = demo
    files = _feeds(scenario, result)
    by_id = {s.shift_id: s for s in result.shifts}
    seen = set()
    for doctor in scenario.doctors:
        calendar = icalendar.Calendar.from_ical(files[f"{doctor.id}.ics"])
        events = recurring_ical_events.of(calendar).between(
            datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC)
        )
        for event in events:
            uid = str(event["UID"])
            shift = next(
                s for s in result.shifts if uid.startswith(s.shift_id.replace("/", "-") + "-")
            )
            assert event["DTSTART"].dt == shift.start
            # Real elapsed time: subtracting two datetimes of the same zone in Python gives the
            # wall-clock difference (85 h over the Easter DST change), so compare in UTC.
            duration = event["DTEND"].dt.astimezone(UTC) - event["DTSTART"].dt.astimezone(UTC)
            assert duration.total_seconds() / 3600 == shift.hours
            seen.add((shift.shift_id, doctor.id))
    assert seen == {(a.shift_id, a.doctor_id) for a in result.roster.assignments}
    easter = by_id["weekend/wachtpost/2027-03-26"]
    assert easter.hours == 84


def test_unchanged_roster_gives_byte_identical_feeds(demo):
    """Exporting the same roster twice with the same version time gives the same bytes."""
    scenario, result = demo
    assert _feeds(scenario, result) == _feeds(scenario, result)


def test_changed_duty_raises_sequence_and_unchanged_keeps_identity(demo):
    """Against a previous roster: an unchanged duty keeps UID, SEQUENCE and DTSTAMP; a duty whose
    times changed gets SEQUENCE + 1 and the new version time."""
    scenario, result = demo
    first, second = result.roster.assignments[:2]
    shift = {s.shift_id: s for s in result.shifts}[first.shift_id]
    previous = {
        (a.shift_id, a.doctor_id): (
            {s.shift_id: s for s in result.shifts}[a.shift_id].start.isoformat(),
            {s.shift_id: s for s in result.shifts}[a.shift_id].end.isoformat(),
            2,
            VERSION,
        )
        for a in (first, second)
    }
    moved = (shift.start - timedelta(hours=1)).isoformat()
    previous[first.shift_id, first.doctor_id] = (moved, shift.end.isoformat(), 2, VERSION)
    later = VERSION + timedelta(days=3)
    versions = duty_versions(result.shifts, result.roster, later, previous)
    assert versions[first.shift_id, first.doctor_id].sequence == 3
    assert versions[first.shift_id, first.doctor_id].modified == later
    assert versions[second.shift_id, second.doctor_id].sequence == 2
    assert versions[second.shift_id, second.doctor_id].modified == VERSION
    calendar = icalendar.Calendar.from_ical(
        _feeds(scenario, result, versions, later)[f"{second.doctor_id}.ics"]
    )
    event = next(
        e
        for e in calendar.walk("VEVENT")
        if str(e["UID"]) == versions[second.shift_id, second.doctor_id].uid
    )
    assert event["DTSTAMP"].dt == VERSION
    assert int(event["SEQUENCE"]) == 2


def test_unit_feeds_list_who_is_on_duty(demo):
    """The post's feed has one event per weekend seat, named after the doctor."""
    scenario, result = demo
    calendar = icalendar.Calendar.from_ical(_feeds(scenario, result)["wachtpost.ics"])
    events = list(calendar.walk("VEVENT"))
    post_seats = [
        a
        for a in result.roster.assignments
        if {s.shift_id: s for s in result.shifts}[a.shift_id].scope_id == "wachtpost"
    ]
    assert len(events) == len(post_seats)
    assert all(str(e["SUMMARY"]).split(": ", 1)[1].startswith("Dr.") for e in events)
    assert calendar["METHOD"] == "PUBLISH"
    assert (
        str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
        or calendar["X-PUBLISHED-TTL"].to_ical() == b"PT1H"
    )


def test_autumn_dst_weekend_reads_back_with_real_hours():
    """A Q4 circle's weekend over the October change, with All Saints (Mon 1 Nov) merged:
    Fri 29 Oct 19:00 -> Tue 2 Nov 08:00 is 85 h on the wall clock and 86 real hours."""
    scenario = scenario_of(generate(12, 1, 2027, quarter=4, seed=5))
    instance = compile_instance(scenario, expand_shifts(scenario))
    rotation = greedy_roster(instance)
    roster = instance.roster_of(rotation.chosen)
    versions = duty_versions(instance.shifts, roster, VERSION)
    files = feeds(scenario, instance.shifts, roster, versions)
    weekend = next(s for s in instance.shifts if s.shift_id == "weekend/wachtpost/2027-10-29")
    holder = next(a.doctor_id for a in roster.assignments if a.shift_id == weekend.shift_id)
    calendar = icalendar.Calendar.from_ical(files[f"{holder}.ics"])
    event = next(
        e
        for e in calendar.walk("VEVENT")
        if str(e["UID"]).startswith("weekend-wachtpost-2027-10-29")
    )
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert (start.hour, end.hour, end.day) == (19, 8, 2)
    real_hours = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600
    assert real_hours == weekend.hours == 86
