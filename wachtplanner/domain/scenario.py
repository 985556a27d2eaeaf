"""The scenario: the root aggregate of everything a circle describes, validated as a whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)

from wachtplanner.constants import DEFAULT_TIMEZONE
from wachtplanner.domain.base import Day, FrozenModel, Id, Text
from wachtplanner.domain.continuity import ContinuityParams, Event
from wachtplanner.domain.messages import child, issues_from_errors, item_label, unknown_ref
from wachtplanner.domain.organisation import Area, EmergencyPoint, Post, Practice
from wachtplanner.domain.people import Doctor
from wachtplanner.domain.rules import Rules
from wachtplanner.domain.shifts import Scope, ShiftType
from wachtplanner.exceptions import Issue, ScenarioError

UNIT_COLLECTIONS: dict[Scope, str] = {
    "area": "areas",
    "post": "posts",
    "practice": "practices",
    "emergency_point": "emergency_points",
}


HORIZON_YEARS = (2000, 2100)
"""The years a roster horizon may lie in (holiday calendars and time zones are known there)."""


class Horizon(FrozenModel):
    """The inclusive range of local dates on which duties start."""

    start: Day
    end: Day

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for key, day in (("start", self.start), ("end", self.end)):
            if not HORIZON_YEARS[0] <= day.year <= HORIZON_YEARS[1]:
                msg = (
                    f"{key} {day.isoformat()} is out of range; expected a date in the years "
                    f"{HORIZON_YEARS[0]} to {HORIZON_YEARS[1]}"
                )
                raise ValueError(msg)
        if self.end < self.start:
            msg = f"end {self.end.isoformat()} is before start {self.start.isoformat()}"
            raise ValueError(msg)
        return self


class HolidaySpec(FrozenModel):
    """Which days are holidays: the country's legal holidays, plus ``extra``, minus ``exclude``."""

    country: str = Field(default="BE", pattern=r"^[A-Z]{2}$")
    subdivision: Text | None = None
    extra: tuple[Day, ...] = ()
    exclude: tuple[Day, ...] = ()


class Scenario(FrozenModel):
    """A circle, its doctors, duty templates and rules over a horizon."""

    name: Text
    timezone: str = DEFAULT_TIMEZONE
    horizon: Horizon
    holidays: HolidaySpec = HolidaySpec()
    areas: tuple[Area, ...] = Field(min_length=1)
    posts: tuple[Post, ...] = ()
    practices: tuple[Practice, ...] = ()
    doctors: tuple[Doctor, ...] = Field(min_length=1, max_length=20_000)
    shift_types: tuple[ShiftType, ...] = Field(min_length=1)
    rules: Rules = Rules()
    emergency_points: tuple[EmergencyPoint, ...] = ()
    continuity: ContinuityParams = ContinuityParams()
    events: tuple[Event, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"'{value}' is not a time zone; expected an IANA name such as Europe/Brussels"
            raise ValueError(msg) from None
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _validate_whole(cls, data: Any, handler: ModelWrapValidatorHandler[Scenario]) -> Scenario:
        """Report field problems and cross-reference problems together, then raise once."""
        raw = _plain(data)
        issues = cross_reference_issues(raw) if isinstance(raw, Mapping) else []
        try:
            scenario = handler(data)
        except ValidationError as exc:
            field_issues = issues_from_errors(cls, raw, exc.errors())
            raise ScenarioError([*field_issues, *issues]) from None
        if issues:
            raise ScenarioError(issues)
        return scenario

    # Lookups, built once after validation.

    @cached_property
    def tz(self) -> ZoneInfo:
        """Return the scenario's time zone."""
        return ZoneInfo(self.timezone)

    @cached_property
    def doctors_by_id(self) -> dict[str, Doctor]:
        """Return doctors keyed by id."""
        return {d.id: d for d in self.doctors}

    @cached_property
    def shift_types_by_id(self) -> dict[str, ShiftType]:
        """Return shift types keyed by id."""
        return {s.id: s for s in self.shift_types}

    @cached_property
    def practices_by_id(self) -> dict[str, Practice]:
        """Return practices keyed by id."""
        return {p.id: p for p in self.practices}

    def area_of(self, doctor: Doctor) -> str:
        """Return the doctor's area: explicit, else the practice's."""
        if doctor.area is not None:
            return doctor.area
        assert doctor.practice is not None  # guaranteed by cross-reference validation
        return self.practices_by_id[doctor.practice].area

    def unit_ids(self, scope: Scope) -> tuple[str, ...]:
        """Return the ids of every unit of a scope kind."""
        if scope == "area":
            return tuple(u.id for u in self.areas)
        if scope == "post":
            return tuple(u.id for u in self.posts)
        if scope == "practice":
            return tuple(u.id for u in self.practices)
        return tuple(u.id for u in self.emergency_points)

    def doctor_in_unit(self, doctor: Doctor, scope: Scope, unit_id: str) -> bool:
        """Return whether a doctor belongs to the pool of a scope unit."""
        area = self.area_of(doctor)
        if scope == "area":
            return area == unit_id
        if scope == "post":
            post = next(p for p in self.posts if p.id == unit_id)
            return area in post.areas
        if scope == "practice":
            return doctor.practice == unit_id
        point = next(e for e in self.emergency_points if e.id == unit_id)
        return area == point.area


def _plain(data: Any) -> Any:
    """Return raw data with models turned into mappings, for the cross-reference pass."""
    if isinstance(data, BaseModel):
        return data.model_dump(by_alias=True)
    if isinstance(data, Mapping):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


def _items(data: Mapping[str, Any], key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    values = data.get(key)
    if not isinstance(values, list):
        return
    for index, item in enumerate(values):
        if isinstance(item, Mapping):
            yield f"{key}{item_label(item, index)}", item


def _ids(data: Mapping[str, Any], key: str) -> list[str]:
    return [str(item["id"]) for _, item in _items(data, key) if isinstance(item.get("id"), str)]


def _str_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def cross_reference_issues(data: Mapping[str, Any]) -> list[Issue]:
    """Return every broken cross-reference of raw scenario data (tolerates ill-typed fields)."""
    issues: list[Issue] = []
    for check in _CROSS_CHECKS:
        issues.extend(check(data))
    return issues


def _check_unique_ids(data: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    owner: dict[str, str] = {}
    for key in ("areas", "posts", "practices", "emergency_points", "doctors"):
        for location, item in _items(data, key):
            ident = item.get("id")
            if not isinstance(ident, str):
                continue
            if ident in owner:
                where = "twice" if owner[ident] == key else f"also in {owner[ident]}"
                issues.append(
                    Issue(
                        location,
                        f"id '{ident}' is used {where}; ids of areas, posts, practices, "
                        "emergency points and doctors must be unique because they name feed files.",
                    )
                )
            owner.setdefault(ident, key)
    seen: set[str] = set()
    for location, item in _items(data, "shift_types"):
        ident = item.get("id")
        if isinstance(ident, str) and ident in seen:
            issues.append(Issue(location, f"shift type id '{ident}' is used twice."))
        seen.add(str(ident))
    return issues


def _check_organisation(data: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    areas = _ids(data, "areas")
    for location, post in _items(data, "posts"):
        for index, area in enumerate(_str_list(post.get("areas"))):
            if area not in areas:
                issues.append(Issue(f"{location}.areas[{index}]", unknown_ref("area", area, areas)))
    for key in ("practices", "emergency_points"):
        for location, item in _items(data, key):
            ref = item.get("area")
            if isinstance(ref, str) and ref not in areas:
                issues.append(Issue(f"{location}.area", unknown_ref("area", ref, areas)))
    return issues


def _check_doctor(
    location: str,
    doctor: Mapping[str, Any],
    data: Mapping[str, Any],
    doctors: Mapping[str, Mapping[str, Any]],
) -> list[Issue]:
    issues: list[Issue] = []
    areas, practices, shift_types = (
        _ids(data, "areas"),
        _ids(data, "practices"),
        _ids(data, "shift_types"),
    )
    practice, area = doctor.get("practice"), doctor.get("area")
    if isinstance(practice, str) and practice not in practices:
        issues.append(Issue(f"{location}.practice", unknown_ref("practice", practice, practices)))
    if isinstance(area, str) and area not in areas:
        issues.append(Issue(f"{location}.area", unknown_ref("area", area, areas)))
    if practice is None and area is None:
        issues.append(Issue(location, "neither practice nor area is given; expected at least one."))
    role = doctor.get("role", "gp")
    supervisor = doctor.get("supervisor")
    if role == "trainee" and supervisor is None:
        issues.append(
            Issue(f"{location}.supervisor", "a trainee needs a supervisor; expected a GP's id.")
        )
    if role != "trainee" and supervisor is not None:
        issues.append(
            Issue(f"{location}.supervisor", f"only trainees have a supervisor; role is '{role}'.")
        )
    if isinstance(supervisor, str) and role == "trainee":
        if supervisor == doctor.get("id"):
            issues.append(Issue(f"{location}.supervisor", "a trainee cannot supervise itself."))
        elif supervisor not in doctors:
            issues.append(
                Issue(f"{location}.supervisor", unknown_ref("doctor", supervisor, list(doctors)))
            )
        elif doctors[supervisor].get("role", "gp") == "trainee":
            issues.append(
                Issue(
                    f"{location}.supervisor",
                    f"supervisor '{supervisor}' is a trainee; expected a GP.",
                )
            )
    exemptions = doctor.get("exemptions")
    for e_index, exemption in enumerate(exemptions if isinstance(exemptions, list) else []):
        if not isinstance(exemption, Mapping):
            continue
        for s_index, shift_type in enumerate(_str_list(exemption.get("shift_types"))):
            if shift_type not in shift_types:
                issues.append(
                    Issue(
                        f"{location}.exemptions[{e_index}].shift_types[{s_index}]",
                        unknown_ref("shift type", shift_type, shift_types),
                    )
                )
    return issues


def _fairness_tags(data: Mapping[str, Any]) -> list[str]:
    tags: list[str] = []
    for _, shift_type in _items(data, "shift_types"):
        own = _str_list(shift_type.get("tags")) or [str(shift_type.get("id"))]
        tags.extend(t for t in own if t not in tags)
    return tags


def _check_doctors(data: Mapping[str, Any]) -> list[Issue]:
    doctors = {str(item.get("id")): item for _, item in _items(data, "doctors")}
    tags = _fairness_tags(data)
    issues: list[Issue] = []
    for location, doctor in _items(data, "doctors"):
        issues.extend(_check_doctor(location, doctor, data, doctors))
        carry = doctor.get("carry_over")
        carry_tags = carry.get("tags") if isinstance(carry, Mapping) else None
        for tag in carry_tags if isinstance(carry_tags, Mapping) else {}:
            if tag not in tags:
                issues.append(
                    Issue(
                        f"{location}.carry_over.tags.{tag}", unknown_ref("fairness tag", tag, tags)
                    )
                )
    return issues


def _check_shift_types(data: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    for location, shift_type in _items(data, "shift_types"):
        scope = shift_type.get("scope")
        if scope not in UNIT_COLLECTIONS:
            continue
        collection = UNIT_COLLECTIONS[scope]
        units = _ids(data, collection)
        if not units:
            issues.append(
                Issue(
                    f"{location}.scope",
                    f"scope '{scope}' needs {collection}, but the scenario defines none.",
                )
            )
        for index, unit in enumerate(_str_list(shift_type.get("scope_ids"))):
            if unit not in units:
                issues.append(
                    Issue(
                        f"{location}.scope_ids[{index}]",
                        unknown_ref(scope.replace("_", " "), unit, units),
                    )
                )
    return issues


def _check_events(data: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    doctors, practices = _ids(data, "doctors"), _ids(data, "practices")
    events = data.get("events")
    for index, event in enumerate(events if isinstance(events, list) else []):
        location = f"events[{index}]"
        kind = child(event, "type")
        ref = child(event, "doctor")
        if kind == "doctor_loss" and isinstance(ref, str) and ref not in doctors:
            issues.append(Issue(f"{location}.doctor", unknown_ref("doctor", ref, doctors)))
        if kind == "doctor_join" and isinstance(ref, Mapping):
            new_id = ref.get("id")
            if new_id in doctors:
                issues.append(Issue(f"{location}.doctor.id", f"doctor '{new_id}' already exists."))
            practice = ref.get("practice")
            if isinstance(practice, str) and practice not in practices:
                issues.append(
                    Issue(
                        f"{location}.doctor.practice", unknown_ref("practice", practice, practices)
                    )
                )
        practice = child(event, "practice")
        known_kind = kind in {"patient_stop", "accepting_change"}
        if known_kind and isinstance(practice, str) and practice not in practices:
            issues.append(
                Issue(f"{location}.practice", unknown_ref("practice", practice, practices))
            )
    return issues


def _check_age_rules(data: Mapping[str, Any]) -> list[Issue]:
    shift_types = _ids(data, "shift_types")
    rules = child(data, "rules")
    issues: list[Issue] = []
    for r_index, rule in enumerate(_list(child(rules, "age"))):
        for s_index, shift_type in enumerate(_str_list(child(rule, "shift_types"))):
            if shift_type not in shift_types:
                issues.append(
                    Issue(
                        f"rules.age[{r_index}].shift_types[{s_index}]",
                        unknown_ref("shift type", shift_type, shift_types),
                    )
                )
    return issues


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


_CROSS_CHECKS: tuple[Callable[[Mapping[str, Any]], list[Issue]], ...] = (
    _check_unique_ids,
    _check_organisation,
    _check_doctors,
    _check_shift_types,
    _check_events,
    _check_age_rules,
)

__all__ = ["HolidaySpec", "Horizon", "Id", "Scenario"]
