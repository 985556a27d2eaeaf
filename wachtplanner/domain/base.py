"""Base model and shared annotated types."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
)

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80)]
"""An identifier: letters, digits, '-', '_' or '.'; no spaces or slashes (ids name files)."""


_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F, 0x85, 0x2028, 0x2029))


def _one_line(value: str) -> str:
    """Refuse line breaks and control characters: names end up in feed lines and CSV cells."""
    bad = next((c for c in value if c in _CONTROL), None)
    if bad is not None:
        what = "a line break" if bad in "\r\n\x85\u2028\u2029" else "a control character"
        msg = f"{value!r} contains {what} ({bad!r}); expected one line of text"
        raise ValueError(msg)
    return value


Text = Annotated[str, StringConstraints(max_length=200), AfterValidator(_one_line)]
"""A name or label: one line of at most 200 characters, no control characters."""


DATE_RANGE = (date(1900, 1, 1), date(2199, 12, 31))
"""Dates a scenario may name: wide enough for birth dates and open-ended leave, narrow enough
that adding a year or a day never leaves the calendar."""


def _date_in_range(value: date) -> date:
    low, high = DATE_RANGE
    if not low <= value <= high:
        msg = (
            f"{value.isoformat()} is out of range; expected a date from {low.isoformat()} to "
            f"{high.isoformat()}"
        )
        raise ValueError(msg)
    return value


Day = Annotated[date, AfterValidator(_date_in_range)]
"""A calendar date ``YYYY-MM-DD`` within :data:`DATE_RANGE`."""


def _time_from_yaml(value: Any) -> Any:
    """Accept YAML 1.1 sexagesimal integers: an unquoted ``19:00`` arrives as 1140."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    return value


LocalTime = Annotated[
    time,
    BeforeValidator(_time_from_yaml),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
]
"""A wall-clock time ``HH:MM`` in the scenario's time zone."""


class FrozenModel(BaseModel):
    """Base of every domain model: immutable, unknown keys are errors."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )
