"""Base model and shared annotated types."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80)]
"""An identifier: letters, digits, '-', '_' or '.'; no spaces or slashes (ids name files)."""


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

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
