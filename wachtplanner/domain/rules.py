"""Roster rules and their weights. Defaults follow reference/domain.md §7."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from wachtplanner.domain.base import FrozenModel

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
