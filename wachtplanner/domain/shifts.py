"""Shift types: templates of duty that `expand` turns into concrete instances."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import Field, model_validator

from wachtplanner.domain.base import Day, FrozenModel, Id, LocalTime, Text
from wachtplanner.domain.people import Role

Scope = Literal["area", "post", "practice", "emergency_point"]
DayToken = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday", "holiday_eve"]

WEEKDAY_TOKENS: tuple[DayToken, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Period(FrozenModel):
    """An inclusive range of dates."""

    start: Day = Field(alias="from")
    end: Day = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            msg = f"to {self.end.isoformat()} is before from {self.start.isoformat()}"
            raise ValueError(msg)
        return self


class NeedOn(Period):
    """Another staffing level on a range of dates."""

    need: int = Field(ge=1)


class ShiftType(FrozenModel):
    """A kind of duty, repeated on the listed days in every unit of its scope.

    Parameters
    ----------
    scope
        One pool per unit: per area (weeknight), per post (weekend), per practice (overflow) or
        per emergency point.
    scope_ids
        Limit the shift type to these units of its scope (all units when empty).
    days
        Weekday names plus ``holiday`` (the holiday itself) and ``holiday_eve`` (the day before).
    start, end
        Local wall-clock times. ``end <= start`` ends the next day; ``span_days`` counts day
        boundaries for longer blocks (weekend Fri 19:00 -> Mon 08:00 is ``span_days: 3``).
    skip_holidays
        No instance on a holiday, nor (for overnight types) on a holiday eve, whose night runs
        into the holiday; the holiday type covers those.
    need
        Doctors per instance, exactly.
    points_per_hour
        Fairness points per real elapsed hour.
    tags
        Fairness tags (``night``, ``weekend``, ``holiday``, ``day`` …); the shift type's own id
        when empty. Instances of types tagged ``weekend`` are the weekends of the spacing rule.
    merge_with_weekend
        A holiday block that overlaps or touches a weekend block of the same unit extends that
        weekend instead of creating a second, overlapping block.
    periods
        When the type runs at all (by the local start date of an instance): a dagwacht only in
        the flu season, vaccination days on given dates. Always when empty.
    need_on
        Another ``need`` on given dates (twice the staff at Christmas); the last entry that
        covers a date wins.
    """

    id: Id
    label: Text | None = None
    scope: Scope
    scope_ids: tuple[Id, ...] = ()
    days: tuple[DayToken, ...] = Field(min_length=1)
    start: LocalTime
    end: LocalTime
    span_days: int = Field(default=1, ge=1, le=14)
    skip_holidays: bool = False
    need: int = Field(default=1, ge=1)
    roles: tuple[Role, ...] = Field(default=("gp", "trainee"), min_length=1)
    points_per_hour: float = Field(default=1.0, ge=0)
    tags: tuple[Id, ...] = ()
    merge_with_weekend: bool = False
    location: Text | None = None
    periods: tuple[Period, ...] = Field(default=(), max_length=366)
    need_on: tuple[NeedOn, ...] = Field(default=(), max_length=366)

    def runs_on(self, day: date) -> bool:
        """Return whether an instance may start on this local date (``periods``)."""
        return not self.periods or any(p.start <= day <= p.end for p in self.periods)

    def need_for(self, day: date) -> int:
        """Return the staff an instance starting on this date needs (``need_on``, else ``need``)."""
        need = self.need
        for entry in self.need_on:
            if entry.start <= day <= entry.end:
                need = entry.need
        return need

    @property
    def display_label(self) -> str:
        """Return the label, or the id when no label was given."""
        return self.label or self.id

    @property
    def fairness_tags(self) -> tuple[str, ...]:
        """Return the tags this type's points count towards."""
        return self.tags or (self.id,)

    @property
    def overnight(self) -> bool:
        """Return whether an instance ends on a later day than it starts."""
        return self.end <= self.start or self.span_days > 1
