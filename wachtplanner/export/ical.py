"""iCalendar feeds: one per doctor ("my duties") and one per area and post ("who is on duty").

Practice followed (reference/calendar-feeds.md §4.3-4.6): one VEVENT per duty, never an RRULE
series; ``UID`` derived from shift id and doctor id, so an unchanged duty keeps it across
re-solves; ``SEQUENCE`` raised when a duty's times changed since the previous roster;
``DTSTAMP`` = ``LAST-MODIFIED`` = the time the duty last changed; nothing in a doctor's feed
depends on anyone else's duties or on when the version was made, so a doctor whose duties did
not change keeps a byte-identical feed (and ETag) across versions; ``DTSTART``/``DTEND`` with
``TZID=Europe/Brussels`` and a VTIMEZONE in the RRULE form, checked against zoneinfo for every
year of the horizon; ``METHOD:PUBLISH``, ``NAME``, ``X-WR-CALNAME``, ``REFRESH-INTERVAL`` and
``X-PUBLISHED-TTL``. SUMMARY and DESCRIPTION are Dutch, as the GPs read them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vDuration,
    vRecur,
)

from wachtplanner import __version__
from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance

REFRESH = timedelta(hours=1)
UID_DOMAIN = "wachtplanner"


@dataclass(frozen=True)
class DutyVersion:
    """What a feed needs to know about one assignment's history."""

    uid: str
    sequence: int
    modified: datetime


def version_fields(
    versions: dict[tuple[str, str], DutyVersion],
) -> dict[tuple[str, str], dict[str, Any]]:
    """Return the per-assignment fields ``roster.json`` keeps so the next version can compare."""
    return {
        key: {"uid": v.uid, "sequence": v.sequence, "modified": v.modified.isoformat()}
        for key, v in versions.items()
    }


def duty_uid(shift_id: str, doctor_id: str) -> str:
    """Return the stable UID of a doctor's duty on a shift."""
    return f"{shift_id.replace('/', '-')}-{doctor_id}@{UID_DOMAIN}"


def duty_versions(
    instances: Sequence[ShiftInstance],
    roster: Roster,
    version_time: datetime,
    previous: dict[tuple[str, str], tuple[str, str, int, datetime]] | None = None,
) -> dict[tuple[str, str], DutyVersion]:
    """Return UID, SEQUENCE and last change of every assignment.

    ``previous`` maps (shift_id, doctor_id) to (start, end, sequence, modified) of the previous
    roster; a duty whose start or end differs gets sequence + 1 and the new version time.
    """
    by_id = {i.shift_id: i for i in instances}
    versions = {}
    for a in roster.assignments:
        key = (a.shift_id, a.doctor_id)
        shift = by_id[a.shift_id]
        sequence, modified = 0, version_time
        if previous and key in previous:
            start, end, old_sequence, old_modified = previous[key]
            if start == shift.start.isoformat() and end == shift.end.isoformat():
                sequence, modified = old_sequence, old_modified
            else:
                sequence = old_sequence + 1
        versions[key] = DutyVersion(duty_uid(*key), sequence, modified)
    return versions


def _eu_rules_hold(tz: ZoneInfo, years: range) -> bool:
    """Return whether the zone is +01:00/+02:00 with the EU switch dates in every year."""
    for year in years:
        march = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)
        october = max(date(year, 10, d) for d in range(25, 32) if date(year, 10, d).weekday() == 6)
        checks = [
            (datetime(year, 1, 15, 12, tzinfo=UTC), 1),
            (datetime(march.year, march.month, march.day, 0, 59, tzinfo=UTC), 1),
            (datetime(march.year, march.month, march.day, 1, 0, tzinfo=UTC), 2),
            (datetime(october.year, october.month, october.day, 0, 59, tzinfo=UTC), 2),
            (datetime(october.year, october.month, october.day, 1, 0, tzinfo=UTC), 1),
        ]
        for instant, hours in checks:
            if instant.astimezone(tz).utcoffset() != timedelta(hours=hours):
                return False
    return True


def vtimezone(tzid: str, first: date, last: date) -> Timezone:
    """Return a VTIMEZONE valid from ``first`` to ``last`` (and beyond, where the rules hold).

    Central European zones get the RRULE form clients handle best; any other zone gets the
    observances icalendar derives from zoneinfo for the span.
    """
    zone = ZoneInfo(tzid)
    if not _eu_rules_hold(zone, range(first.year - 1, last.year + 2)):
        return Timezone.from_tzid(
            tzid, first_date=first - timedelta(days=366), last_date=last + timedelta(days=366)
        )
    timezone = Timezone()
    timezone.add("TZID", tzid)
    daylight = TimezoneDaylight()
    daylight.add("DTSTART", datetime(1996, 3, 31, 2, 0))  # noqa: DTZ001 - local by RFC 5545
    daylight.add("RRULE", vRecur({"FREQ": "YEARLY", "BYMONTH": 3, "BYDAY": "-1SU"}))
    daylight.add("TZNAME", "CEST")
    daylight.add("TZOFFSETFROM", timedelta(hours=1))
    daylight.add("TZOFFSETTO", timedelta(hours=2))
    standard = TimezoneStandard()
    standard.add("DTSTART", datetime(1996, 10, 27, 3, 0))  # noqa: DTZ001 - local by RFC 5545
    standard.add("RRULE", vRecur({"FREQ": "YEARLY", "BYMONTH": 10, "BYDAY": "-1SU"}))
    standard.add("TZNAME", "CET")
    standard.add("TZOFFSETFROM", timedelta(hours=2))
    standard.add("TZOFFSETTO", timedelta(hours=1))
    timezone.add_component(daylight)
    timezone.add_component(standard)
    return timezone


def _calendar(scenario: Scenario, title: str) -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", f"-//wachtplanner//wachtplanner {__version__}//NL")
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("NAME", title)
    calendar.add("X-WR-CALNAME", title)
    calendar.add(
        "X-WR-CALDESC",
        "Alleen lezen. Wijzigingen kunnen pas na 24 u in Google verschijnen.",
    )
    calendar.add("X-WR-TIMEZONE", scenario.timezone)
    calendar.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    calendar.add_component(
        vtimezone(scenario.timezone, scenario.horizon.start, scenario.horizon.end)
    )
    return calendar


def _unit_names(scenario: Scenario) -> dict[str, str]:
    names = {a.id: a.name for a in scenario.areas}
    names.update({p.id: p.name for p in scenario.posts})
    names.update({p.id: p.name for p in scenario.practices})
    names.update({e.id: e.name or e.id for e in scenario.emergency_points})
    return names


def _handover(
    shift: ShiftInstance, ordered: list[ShiftInstance], holders: dict[str, list[str]], step: int
) -> str:
    """Return who holds the neighbouring duty of the same type and unit (or '—')."""
    position = ordered.index(shift) + step
    if 0 <= position < len(ordered):
        return ", ".join(holders[ordered[position].shift_id]) or "—"
    return "—"


def feeds(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    roster: Roster,
    versions: dict[tuple[str, str], DutyVersion],
) -> dict[str, bytes]:
    """Return ``{file name: ics bytes}``: ``<doctor_id>.ics`` and ``<area or post id>.ics``.

    A doctor's events hold only their own duty (role, length); the unit feeds, which change
    whenever anyone's duty does, also name the previous and next doctor on duty (handover).
    """
    by_id = {i.shift_id: i for i in instances}
    unit_names = _unit_names(scenario)
    names = {d.id: d.name for d in scenario.doctors}
    holders: dict[str, list[str]] = defaultdict(list)
    for a in roster.assignments:
        holders[a.shift_id].append(names[a.doctor_id])
    sequences: dict[tuple[str, str], list[ShiftInstance]] = defaultdict(list)
    for shift in sorted(instances, key=lambda i: i.start):
        sequences[shift.shift_type, shift.scope_id].append(shift)
    per_doctor: dict[str, list[Event]] = defaultdict(list)
    per_unit: dict[str, list[Event]] = defaultdict(list)
    for a in sorted(roster.assignments, key=lambda a: (by_id[a.shift_id].start, a.doctor_id)):
        shift = by_id[a.shift_id]
        version = versions[a.shift_id, a.doctor_id]
        unit = unit_names.get(shift.scope_id, shift.scope_id)
        doctor = scenario.doctors_by_id[a.doctor_id]
        line = sequences[shift.shift_type, shift.scope_id]
        own = [
            f"Rol: {'HAIO (onder supervisie)' if doctor.role == 'trainee' else 'wachtarts'}",
            f"Duur: {shift.hours:g} uur",
        ]
        handover = [
            f"Vorige wacht: {_handover(shift, line, holders, -1)}",
            f"Volgende wacht: {_handover(shift, line, holders, +1)}",
        ]
        for target, summary, description in (
            (per_doctor[a.doctor_id], f"{shift.label} – {unit}", "\n".join(own)),
            (per_unit[shift.scope_id], f"{shift.label}: {doctor.name}", "\n".join(own + handover)),
        ):
            event = Event()
            event.add(
                "UID", version.uid if target is per_doctor[a.doctor_id] else f"unit-{version.uid}"
            )
            event.add("SEQUENCE", version.sequence)
            event.add("DTSTAMP", version.modified.astimezone(UTC))
            event.add("LAST-MODIFIED", version.modified.astimezone(UTC))
            event.add("DTSTART", shift.start.astimezone(scenario.tz))
            event.add("DTEND", shift.end.astimezone(scenario.tz))
            event.add("SUMMARY", summary)
            event.add("LOCATION", unit)
            event.add("DESCRIPTION", description)
            event.add("STATUS", "CONFIRMED")
            event.add("TRANSP", "OPAQUE")
            event.add("CATEGORIES", ["WACHTDIENST", shift.shift_type])
            target.append(event)
    files: dict[str, bytes] = {}
    for doctor in scenario.doctors:
        calendar = _calendar(scenario, f"Wachtdienst – {doctor.name} ({scenario.name})")
        for event in per_doctor.get(doctor.id, []):
            calendar.add_component(event)
        files[f"{doctor.id}.ics"] = calendar.to_ical()
    for unit_id in sorted(per_unit):
        unit_name = unit_names.get(unit_id, unit_id)
        calendar = _calendar(scenario, f"Van wacht – {unit_name}")
        for event in per_unit[unit_id]:
            calendar.add_component(event)
        files[f"{unit_id}.ics"] = calendar.to_ical()
    return files
