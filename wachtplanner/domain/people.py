"""Doctors, their exemptions, unavailability and fairness carry-over."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import Field, model_validator

from wachtplanner.domain.base import Day, FrozenModel, Id, Text

Role = Literal["gp", "trainee", "emergency", "replacement"]
ExemptionReason = Literal["health", "age", "family", "practice", "pregnancy"]
HolidayKey = Literal[
    "new_year",
    "easter",
    "easter_monday",
    "labour_day",
    "ascension",
    "whit_sunday",
    "whit_monday",
    "national_day",
    "assumption",
    "all_saints",
    "armistice",
    "christmas",
]
"""Belgian holidays by a stable name, for the holiday rotation across years."""


class DateRange(FrozenModel):
    """An inclusive range of local dates; a missing end means open-ended."""

    start: Day | None = Field(default=None, alias="from")
    end: Day | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Self:
        if self.start is not None and self.end is not None and self.end < self.start:
            msg = f"to {self.end.isoformat()} is before from {self.start.isoformat()}"
            raise ValueError(msg)
        return self

    def covers(self, day: date) -> bool:
        """Return whether ``day`` lies within the range."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


class Exemption(DateRange):
    """A granted exemption (vrijstelling): no duty of the listed shift types (all when empty).

    A pending request does not exempt: only granted exemptions belong here.
    """

    reason: ExemptionReason
    shift_types: tuple[Id, ...] = ()


class Unavailability(DateRange):
    """Leave or another absence: no duty that touches these dates."""

    start: Day = Field(alias="from")
    end: Day = Field(alias="to")
    reason: Text = ""


class CarryOver(FrozenModel):
    """Fairness balance from earlier rosters, in points.

    Positive means the doctor did more than their share and so owes less now.

    ``points`` is spread over the fairness tags in proportion to the doctor's targets; ``tags``
    gives a balance per tag explicitly; ``holidays`` names last year's holiday blocks, which the
    holiday rotation avoids giving again.
    """

    points: float = 0.0
    tags: dict[str, float] = Field(default_factory=dict)
    holidays: tuple[HolidayKey, ...] = ()
    """The holiday blocks the doctor did last year (``christmas``, ``new_year``, …)."""


class Doctor(FrozenModel):
    """A doctor of the circle.

    Parameters
    ----------
    practice
        The practice id; ``area`` defaults to the practice's area.
    fte
        Working fraction, 0 < fte <= 1.
    gmd
        Patients holding their global medical record (GMD) with this doctor.
    role
        ``gp``, ``trainee`` (HAIO, needs a ``supervisor``), ``emergency`` or ``replacement``.
    avoid
        Dates the doctor prefers not to work (soft).
    """

    id: Id
    name: Text
    practice: Id | None = None
    area: Id | None = None
    fte: float = Field(default=1.0, gt=0, le=1)
    gmd: int = Field(default=0, ge=0)
    birth_date: Day | None = None
    role: Role = "gp"
    supervisor: Id | None = None
    exemptions: tuple[Exemption, ...] = Field(default=(), max_length=200)
    unavailable: tuple[Unavailability, ...] = Field(default=(), max_length=1000)
    avoid: tuple[Day, ...] = Field(default=(), max_length=1000)
    prefer: tuple[Day, ...] = Field(default=(), max_length=1000)
    """Dates (weekends) the doctor would rather work; other weekend duties cost a little."""
    carry_over: CarryOver = CarryOver()
    stops_on: Day | None = None
    """No duty starting on or after this date (a ``doctor_loss`` event, or ``replan``)."""
    starts_on: Day | None = None
    """No duty starting before this date (a ``doctor_join`` event)."""
    pregnancy_due: Day | None = None
    """Exempt from all duty from 3 months before this date to 3 months after (domain.md §7.3)."""

    @property
    def all_exemptions(self) -> tuple[Exemption, ...]:
        """Return the granted exemptions, with the pregnancy preset's when a due date is set."""
        if self.pregnancy_due is None:
            return self.exemptions
        due = self.pregnancy_due
        preset = Exemption.model_validate(
            {"reason": "pregnancy", "from": _add_months(due, -3), "to": _add_months(due, 3)}
        )
        return (*self.exemptions, preset)

    def age_on(self, day: date) -> int | None:
        """Return the doctor's age in whole years on ``day``, or None without a birth date."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _add_months(day: date, months: int) -> date:
    """Return the same day ``months`` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31,
            30, 31, 31, 30, 31, 30, 31][month]  # fmt: skip
    return date(year, month + 1, min(day.day, last))
