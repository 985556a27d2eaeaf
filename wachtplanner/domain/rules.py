"""Roster rules and their weights. Defaults follow reference/domain.md §7."""

from __future__ import annotations

from datetime import time
from typing import Any, Literal

from pydantic import Field, model_validator

from wachtplanner.domain.base import FrozenModel, LocalTime

FairnessBasis = Literal["fte", "gmd", "equal"]


class WeekendSpacingRule(FrozenModel):
    """At least ``days`` between the starts of two weekend duties of one doctor.

    Soft by default: each pair of weekend duties closer than ``days`` costs ``weight``.
    """

    days: int = Field(default=21, ge=0)
    hard: bool = False
    weight: int = Field(default=10, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        return {"days": value} if isinstance(value, int) and not isinstance(value, bool) else value


class MonthlyCapRule(FrozenModel):
    """At most ``hours`` of duty per calendar month (counted in the month a duty starts).

    Soft by default: each started hour above the cap costs ``weight_per_hour``.
    """

    hours: float = Field(default=48, gt=0)
    hard: bool = False
    weight_per_hour: int = Field(default=2, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"hours": value}
        return value


class FairnessPolicy(FrozenModel):
    """How duty is shared: ``basis`` fte | gmd | equal; ``per_tag`` balances each tag separately."""

    basis: FairnessBasis = "fte"
    per_tag: bool = True


class FeePolicy(FrozenModel):
    """RIZIV availability fees (beschikbaarheidshonoraria), reference/domain.md §3.

    Parameters
    ----------
    rates_eur_per_hour
        Rate per year; a year without its own entry uses the latest earlier one. The defaults are
        the published amounts; the current (2024+) amount was not found and is to be set here.
    weekend_max_hours
        Qualifying hours per weekend block.
    holiday_max_hours
        Qualifying hours per legal holiday.
    night_window
        Weekday evening/night window that qualifies (local time).
    """

    rates_eur_per_hour: dict[int, float] = Field(
        default_factory=lambda: {2010: 5.66, 2014: 6.15, 2018: 6.20}
    )
    weekend_max_hours: float = Field(default=48, ge=0)
    holiday_max_hours: float = Field(default=24, ge=0)
    night_window: tuple[LocalTime, LocalTime] = (time(19, 0), time(8, 0))

    def rate_for(self, year: int) -> float:
        """Return the rate that applies in a year (0 before the first known one)."""
        known = [y for y in self.rates_eur_per_hour if y <= year]
        return self.rates_eur_per_hour[max(known)] if known else 0.0


class Rules(FrozenModel):
    """The circle's roster rules.

    Parameters
    ----------
    min_rest_hours
        Hard: hours between the end of one duty and the start of the next.
    min_days_between_weekends
        Weekend spacing; a number, or ``{days, hard, weight}``.
    max_hours_per_month
        Monthly cap; a number, ``{hours, hard, weight_per_hour}``, or null for none.
    halve_from_age
        Duty share x 0.5 from this age (a local rule, e.g. NW-Brabant); null disables it.
    avoid_weight
        Penalty for a duty that touches one of a doctor's ``avoid`` dates.
    """

    min_rest_hours: float = Field(default=11, ge=0)
    min_days_between_weekends: WeekendSpacingRule | None = WeekendSpacingRule()
    max_hours_per_month: MonthlyCapRule | None = MonthlyCapRule()
    halve_from_age: int | None = Field(default=60, ge=0)
    fairness: FairnessPolicy = FairnessPolicy()
    avoid_weight: int = Field(default=20, ge=0)
    fees: FeePolicy = FeePolicy()
