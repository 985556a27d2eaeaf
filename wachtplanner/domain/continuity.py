"""Continuity parameters and events for `simulate` and `replan`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from wachtplanner.domain.base import Day, FrozenModel, Id
from wachtplanner.domain.organisation import Accepting
from wachtplanner.domain.people import Doctor


class ContinuityParams(FrozenModel):
    """Capacity and demand figures of the continuity simulation (reference/domain.md §7.8)."""

    gmd_capacity_per_fte: float = Field(default=1800, gt=0)
    intake_per_week_per_fte: float = Field(default=20, ge=0)
    contacts_per_patient_per_year: float = Field(default=4.5, ge=0)
    acute_share: float = Field(default=0.3, ge=0, le=1)
    overflow_consults_per_week: float = Field(default=0, ge=0)
    """Acute consultations a week that overflow duty (a rotating overflow doctor) can absorb."""
    stop_intake_months_before_retirement: int = Field(default=6, ge=0, le=60)
    """A retiring GP takes no new patients this many months before leaving."""
    initial_unattached: dict[Id, int] = Field(default_factory=dict)
    """Per area, citizens without a GP at the start (case 2: who cannot find one)."""
    newcomers_per_week: dict[Id, float] = Field(default_factory=dict)
    """Per area, new residents a week looking for a GP."""
    gp_poor_age_limit: int = Field(default=65, ge=0, le=120)
    """Impulseo counts GPs under this age for the GP-poor threshold."""


class DoctorLoss(FrozenModel):
    """A doctor stops suddenly (death, illness): no duty from ``date``."""

    type: Literal["doctor_loss"]
    doctor: Id
    date: Day


class PatientStop(FrozenModel):
    """A practice closes to new patients from ``date``."""

    type: Literal["patient_stop"]
    practice: Id
    date: Day


class AcceptingChange(FrozenModel):
    """A practice's intake status changes on ``date``."""

    type: Literal["accepting_change"]
    practice: Id
    date: Day
    accepting: Accepting


class DoctorJoin(FrozenModel):
    """A new doctor joins the circle on ``date``."""

    type: Literal["doctor_join"]
    doctor: Doctor
    date: Day


class FteChange(FrozenModel):
    """A doctor works less (or more) from ``date``: burnout, winding down, returning."""

    type: Literal["fte_change"]
    doctor: Id
    date: Day
    fte: float = Field(gt=0, le=1)


class RetirementWave(FrozenModel):
    """Doctors at or above ``min_age`` stop over a number of years.

    Only solo practices when ``solo_only``; spread over ``within_years`` from ``start`` (the
    horizon start when omitted).
    """

    type: Literal["retirement_wave"]
    min_age: int = Field(ge=0)
    solo_only: bool = False
    within_years: int = Field(default=5, ge=1)
    start: Day | None = Field(default=None, alias="from")


Event = Annotated[
    DoctorLoss | PatientStop | AcceptingChange | DoctorJoin | FteChange | RetirementWave,
    Field(discriminator="type"),
]
