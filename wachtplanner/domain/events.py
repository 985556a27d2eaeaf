"""The roster view of a scenario's events: who stops and who joins, on which date.

``solve``, ``check``, ``stats``, ``publish`` and every other roster command read a scenario
through :func:`apply_roster_events`, exactly as ``replan`` and ``simulate`` read the events: a
``doctor_loss`` gives the doctor no duty from its date on (``stops_on``), a ``doctor_join``
adds the doctor with no duty before its date (``starts_on``) and is then dropped from the
events. Applying it twice gives the same scenario.
"""

from __future__ import annotations

from typing import Any

from wachtplanner.domain.continuity import DoctorJoin, DoctorLoss
from wachtplanner.domain.scenario import Scenario


def apply_roster_events(scenario: Scenario) -> Scenario:
    """Return the scenario with its doctor_loss and doctor_join events applied to the doctors."""
    losses = [e for e in scenario.events if isinstance(e, DoctorLoss)]
    joins = [e for e in scenario.events if isinstance(e, DoctorJoin)]
    if not losses and not joins:
        return scenario
    document: dict[str, Any] = scenario.model_dump(by_alias=True, mode="json", exclude_unset=True)
    doctors: list[dict[str, Any]] = document["doctors"]
    by_id = {d["id"]: d for d in doctors}
    for loss in losses:
        doctor = by_id.get(loss.doctor)
        if doctor is not None:
            current = doctor.get("stops_on")
            date = loss.date.isoformat()
            doctor["stops_on"] = min(current, date) if current else date
    for join in joins:
        joined = join.doctor.model_dump(by_alias=True, mode="json", exclude_unset=True)
        joined["starts_on"] = join.date.isoformat()
        doctors.append(joined)
        by_id[join.doctor.id] = joined
    # A joined doctor is now one of the doctors; the event would name them twice.
    document["events"] = [e for e in document.get("events", []) if e.get("type") != "doctor_join"]
    return Scenario.model_validate(document)
