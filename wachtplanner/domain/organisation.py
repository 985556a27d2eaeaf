"""The circle's structure: on-call areas (WDO), posts (wachtposten), practices, emergency points."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wachtplanner.domain.base import Day, FrozenModel, Id, Text

Accepting = Literal["open", "conditional", "closed"]


class Area(FrozenModel):
    """An on-call subdivision (wachtdienstonderdeel, WDO).

    Parameters
    ----------
    id, name
        Identifier and display name.
    population
        Inhabitants; used for GP-density statistics.
    area_km2
        Surface in km²; below 125 inhabitants/km² the GP-poor threshold is 120 per 100 000.
    """

    id: Id
    name: Text
    population: int | None = Field(default=None, ge=0)
    area_km2: float | None = Field(default=None, gt=0)


class Post(FrozenModel):
    """An on-call post (huisartsenwachtpost) serving one or more areas."""

    id: Id
    name: Text
    areas: tuple[Id, ...] = Field(min_length=1)
    address: Text | None = None


class Practice(FrozenModel):
    """A GP practice; ``accepting: closed`` is a patient stop (patiëntenstop)."""

    id: Id
    name: Text
    area: Id
    accepting: Accepting = "open"


class EmergencyPoint(FrozenModel):
    """An emergency point (noodpunt) for patients without a GP, staffed by emergency doctors."""

    id: Id
    name: Text | None = None
    area: Id
    sessions_per_week: float = Field(default=10, ge=0)
    consults_per_session: float = Field(default=16, ge=0)
    start: Day | None = Field(default=None, alias="from")
    until: Day | None = None
    serves: Literal["all", "acute"] = "all"
    """``all`` consultations of the unattached in its area (as Noodpunt 2060), or only acute."""
    areas: tuple[Id, ...] = ()
    """Areas whose unattached patients it serves besides its own ``area``."""
