"""Roster rules and their weights. Defaults follow reference/domain.md §7."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from wachtplanner.domain.base import FrozenModel, Id, LocalTime

FairnessBasis = Literal["fte", "gmd", "equal"]


class Rule(StrEnum):
    """Every roster rule by name, shared by builders, checkers, pair filters and the rotation."""

    COVERAGE = "coverage"
    SCOPE = "scope"
    ROLE = "role"
    UNAVAILABLE = "unavailable"
    EXEMPTION = "exemption"
    OVERLAP = "overlap"
    REST = "rest"
    SUPERVISION = "supervision"
    CONSECUTIVE_NIGHTS = "consecutive_nights"
    MONTHLY_CAP = "monthly_cap"
    WEEKEND_SPACING = "weekend_spacing"
    DUTIES_PER_7_DAYS = "duties_per_7_days"
    MIN_GAP = "min_gap"
    CLOSE_DUTIES = "close_duties"
    MIN_DUTIES = "min_duties"
    EVEN_LOAD = "even_load"
    HOLIDAY_ROTATION = "holiday_rotation"
    HOLIDAY_SHARE = "holiday_share"
    AVOID = "avoid"
    PREFER = "prefer"


def _count_from_number(value: Any, key: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {key: value}
    return value


class ConsecutiveNightsRule(FrozenModel):
    """At most ``count`` duties in a row on consecutive nights.

    A duty's nights are the local dates whose night (23:00-05:00) it covers; the next duty
    continues the row when its first night is the day after the previous duty's last night. A
    weekend or holiday block is one duty in such a row, however many nights it spans: with
    ``count: 2`` Thursday's weeknight and the weekend are allowed, Monday's weeknight after them
    is not. Soft (``hard: false``): each duty beyond ``count`` in a row costs ``weight``.
    """

    count: int = Field(default=2, ge=1, le=14)
    hard: bool = True
    weight: int = Field(default=50, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        return _count_from_number(value, "count")


class DutiesPer7DaysRule(FrozenModel):
    """At most ``count`` duties starting in any 7 consecutive days.

    Soft by default: every 7-day window of the horizon with more duty starts than ``count``
    costs ``weight`` per duty over.
    """

    count: int = Field(default=2, ge=1, le=7)
    hard: bool = False
    weight: int = Field(default=50, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        return _count_from_number(value, "count")


class MinGapRule(FrozenModel):
    """A soft minimum number of days between the starts of two duties of one doctor.

    ``days: auto`` scales with the doctor's load: ``scale`` x horizon days / the doctor's
    expected number of duties, rounded down, at least 2 and at most ``max_days``. The penalty is
    counted over windows of that many days: each window holding k > 1 duty starts costs
    ``weight`` x (k - 1), so two duties g days apart cost ``weight`` x (days - g).

    Duties close together cost more on top (term ``close_duties``): each window of
    ``close_days`` + 1 days holding k > 1 duties costs ``close_weight`` x (k - 1), a duty held on
    every day from its start to its last night (a weekend block Fri 19:00 - Mon 08:00 on Friday
    to Sunday), so two duties one day apart cost 2 x ``close_weight`` and two days apart
    1 x ``close_weight``, counted from the earlier one's last night to the later one's start. The
    penalty then grows faster the closer two duties are: a coordinator sees two duties 2 days
    apart, not four pairs a day short of the ideal gap. ``close_days: 0`` switches it off.
    """

    days: int | Literal["auto"] = "auto"
    scale: float = Field(default=0.5, gt=0, le=1)
    max_days: int = Field(default=28, ge=2, le=90)
    weight: int = Field(default=5, ge=0)
    close_days: int = Field(default=2, ge=0, le=6)
    close_weight: int = Field(default=50, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        return _count_from_number(value, "days")


class EvenLoadRule(FrozenModel):
    """Cumulative points stay near the pro-rata target at the end of every month or quarter.

    The pro-rata target after a period is the doctor's target in proportion to the points of
    the shifts in their pools up to then. Every whole point of |cumulative points - pro-rata
    target| at the end of a period (the last excepted: the fairness stages settle it) costs
    ``weight``.
    """

    period: Literal["month", "quarter"] = "month"
    weight: int = Field(default=1, ge=0)


class HolidayRotationRule(FrozenModel):
    """Soft: a duty on a holiday the doctor did last year costs ``weight``.

    Last year's holidays are the doctor's ``carry_over.holidays``; ``ledger`` writes them.
    """

    weight: int = Field(default=100, ge=0)


class HolidayShareRule(FrozenModel):
    """Soft: each duty touching a holiday beyond the doctor's fair number costs ``weight``.

    The fair number is the doctor's expected share of the seats on shifts that touch a holiday
    (their share of each such shift's pool, as for the fairness targets), rounded up: where 38
    such seats go to 104 GPs, a second one costs until everyone had one.
    """

    weight: int = Field(default=50, ge=0)


class WeekendSpacingRule(FrozenModel):
    """At least ``days`` between two weekends a doctor works.

    A weekend is known by its Friday (the nearest one to a block's start), so the day and night
    blocks of a split weekend, or a holiday merged into it, are one weekend. Soft by default:
    each pair of worked weekends closer than ``days`` costs ``weight``.
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


class MinDutiesRule(FrozenModel):
    """Every GP below ``below_age`` does at least ``count`` duties a year.

    Pro rata (a quarter asks none), and where the pool allows: soft, ``weight`` per duty
    missing, and never more than the shifts the GP could do at all.
    """

    count: int = Field(default=1, ge=0, le=52)
    below_age: int = Field(default=65, ge=0, le=120)
    weight: int = Field(default=1000, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        return _count_from_number(value, "count")

    def required(self, horizon_days: int) -> int:
        """Return the duties asked over a horizon of this many days."""
        return round(self.count * horizon_days / 365)


class LegalMinimum(FrozenModel):
    """KB 30 July 2013: the least number of GPs on call for a population.

    1 GP per ``day_per_inhabitants`` from 08:00 to 23:00 and 1 per ``night_per_inhabitants``
    from 23:00 to 08:00, outside weekday practice hours (Mon-Fri 08:00-18:00, not holidays).
    """

    day_per_inhabitants: int = Field(default=100_000, gt=0)
    night_per_inhabitants: int = Field(default=300_000, gt=0)


class AgeRule(FrozenModel):
    """From ``from_age`` on, a doctor's share of ``shift_types`` (all when empty) x ``factor``.

    ``factor: 0`` exempts them from those types (no duty at all), ``0.5`` halves their share.
    """

    from_age: int = Field(ge=0, le=120)
    shift_types: tuple[Id, ...] = ()
    factor: float = Field(ge=0, le=1)


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
        Duty share x 0.5 from this age (a local rule, e.g. NW-Brabant); null disables it. Not
        used when ``age`` rules are given: those then say everything about age.
    age
        Age rules per kind of duty (:class:`AgeRule`): halve only weekends from 60, exempt from
        weeknights from 65, and so on.
    avoid_weight
        Penalty for a duty that touches one of a doctor's ``avoid`` dates.
    prefer_weight
        Penalty for a weekend duty of a doctor with ``prefer`` dates that touches none of them.
    max_consecutive_nights, max_duties_per_7_days, min_days_between_duties, even_load,
    holiday_rotation, holiday_share
        Spread over time; each on by default, null disables it.
    """

    min_rest_hours: float = Field(default=11, ge=0)
    min_days_between_weekends: WeekendSpacingRule | None = WeekendSpacingRule()
    max_hours_per_month: MonthlyCapRule | None = MonthlyCapRule()
    halve_from_age: int | None = Field(default=60, ge=0)
    age: tuple[AgeRule, ...] = Field(default=(), max_length=50)
    min_duties_per_year: MinDutiesRule | None = MinDutiesRule()
    legal_minimum: LegalMinimum | None = LegalMinimum()
    fairness: FairnessPolicy = FairnessPolicy()
    avoid_weight: int = Field(default=20, ge=0)
    prefer_weight: int = Field(default=5, ge=0)
    fees: FeePolicy = FeePolicy()
    max_consecutive_nights: ConsecutiveNightsRule | None = ConsecutiveNightsRule()
    max_duties_per_7_days: DutiesPer7DaysRule | None = DutiesPer7DaysRule()
    min_days_between_duties: MinGapRule | None = MinGapRule()
    even_load: EvenLoadRule | None = EvenLoadRule()
    holiday_rotation: HolidayRotationRule | None = HolidayRotationRule()
    holiday_share: HolidayShareRule | None = HolidayShareRule()


def age_factor(rules: Rules, age: int | None, shift_type: str) -> float:
    """Return the factor age puts on a doctor's share of a shift type (1 when none applies).

    With ``rules.age``: of the rules for this type (or for all types) with ``from_age <= age``,
    the one with the highest ``from_age`` (the smallest factor among equals). Without them:
    0.5 from ``halve_from_age``.
    """
    if age is None:
        return 1.0
    if rules.age:
        matching = [
            r
            for r in rules.age
            if r.from_age <= age and (not r.shift_types or shift_type in r.shift_types)
        ]
        if not matching:
            return 1.0
        oldest = max(r.from_age for r in matching)
        return min(r.factor for r in matching if r.from_age == oldest)
    if rules.halve_from_age is not None and age >= rules.halve_from_age:
        return 0.5
    return 1.0
