"""Holiday calendar: the country's legal holidays from the `holidays` package, plus extras."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

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
    for day in spec.extra:
        table.setdefault(day, "Extra feestdag")
    for day in spec.exclude:
        table.pop(day, None)
    return table
