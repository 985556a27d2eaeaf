"""Holiday calendar: the country's legal holidays from the `holidays` package, plus extras.

Belgium has 10 legal holidays (domain.md §1.2). The `holidays` package also lists Easter Sunday
and Whit Sunday, which are Sundays anyway: they are dropped for BE, so holiday points and fee
hours start on the eve of the legal holiday (Easter Monday, Whit Monday), not a day earlier.
``holidays.extra`` adds days (11 July for Flanders, a bridge day), ``holidays.exclude`` removes
them.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import get_args

import holidays
from dateutil.easter import easter

from wachtplanner.domain.people import HolidayKey
from wachtplanner.domain.scenario import HolidaySpec
from wachtplanner.exceptions import Issue, ScenarioError


@lru_cache(maxsize=32)
def _country_holidays(
    country: str, subdivision: str | None, years: tuple[int, ...]
) -> dict[date, str]:
    languages = holidays.list_localized_countries().get(country, [])
    language = "nl" if "nl" in languages else None
    table = holidays.country_holidays(country, subdiv=subdivision, years=years, language=language)
    return {day: str(name) for day, name in table.items()}


def holiday_dates(spec: HolidaySpec, first_year: int, last_year: int) -> dict[date, str]:
    """Return holiday dates with their names for the inclusive range of years.

    Raises
    ------
    ScenarioError
        If the country or subdivision is not known to the `holidays` package.
    """
    supported = holidays.list_supported_countries()
    if spec.country not in supported:
        raise ScenarioError(
            [Issue("holidays.country", f"'{spec.country}' is not a supported country code.")]
        )
    if spec.subdivision is not None and spec.subdivision not in supported[spec.country]:
        raise ScenarioError(
            [
                Issue(
                    "holidays.subdivision",
                    f"'{spec.subdivision}' is not a subdivision of {spec.country}; expected one "
                    f"of {', '.join(supported[spec.country]) or '(none)'}.",
                )
            ]
        )
    years = tuple(range(first_year, last_year + 1))
    table = dict(_country_holidays(spec.country, spec.subdivision, years))
    if spec.country == "BE":
        for day in [d for d in table if holiday_key(d) in _NOT_LEGAL_IN_BE]:
            del table[day]
    for day in spec.extra:
        table.setdefault(day, "Extra feestdag")
    for day in spec.exclude:
        table.pop(day, None)
    return table


_NOT_LEGAL_IN_BE = ("easter", "whit_sunday")
"""Sundays the `holidays` package lists for BE that are not among the 10 legal holidays."""

_FIXED_KEYS: dict[tuple[int, int], HolidayKey] = {
    (1, 1): "new_year",
    (5, 1): "labour_day",
    (7, 21): "national_day",
    (8, 15): "assumption",
    (11, 1): "all_saints",
    (11, 11): "armistice",
    (12, 25): "christmas",
}
_EASTER_OFFSETS: dict[int, HolidayKey] = {
    0: "easter",
    1: "easter_monday",
    39: "ascension",
    49: "whit_sunday",
    50: "whit_monday",
}
HOLIDAY_KEYS: tuple[HolidayKey, ...] = get_args(HolidayKey)


def holiday_key(day: date) -> HolidayKey | None:
    """Return the stable name of a Belgian holiday (``christmas``, ``easter_monday``, …)."""
    fixed = _FIXED_KEYS.get((day.month, day.day))
    if fixed is not None:
        return fixed
    return _EASTER_OFFSETS.get((day - easter(day.year)).days) if day.year > 1582 else None


def easter_sunday(year: int) -> date:
    """Return Easter Sunday of a year (Gregorian)."""
    return easter(year)


def holiday_on(year: int, key: HolidayKey) -> date:
    """Return the date a named holiday falls on in a year."""
    for (month, day), name in _FIXED_KEYS.items():
        if name == key:
            return date(year, month, day)
    offset = next(o for o, name in _EASTER_OFFSETS.items() if name == key)
    return easter(year) + timedelta(days=offset)


def weekend_of(day: date) -> date:
    """Return the Friday of the weekend a duty starting on ``day`` belongs to (nearest Friday).

    A Thursday holiday eve and a Monday holiday belong to the adjacent weekend, as do the day
    and night blocks of a split weekend, so weekend spacing counts weekends, not blocks.
    """
    offset = (day.weekday() - 4 + 3) % 7 - 3
    return day - timedelta(days=offset)
