"""The next period's scenario: the circle's scenario plus what the GPs entered in the app.

Each live wish is added to its doctor: ``unavailable`` ranges (with the GP's reason) to
``unavailable``, ``avoid`` dates to ``avoid`` and ``prefer`` dates to ``prefer``. The horizon
becomes the next period's when one is given. The result is validated like any scenario file,
so a wish that does not fit (a doctor who left, a date outside the allowed years) is reported
with its place, never written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import yaml

from wachtplanner.domain.scenario import Scenario
from wachtplanner.exceptions import Issue, ScenarioError
from wachtplanner.store.app_data import Wish


def collected_document(
    scenario: Scenario,
    entered: Sequence[Wish],
    *,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """Return the next period's scenario document (validated) with the wishes folded in."""
    document: dict[str, Any] = scenario.model_dump(by_alias=True, mode="json", exclude_unset=True)
    if start is not None and end is not None:
        document["horizon"] = {"start": start.isoformat(), "end": end.isoformat()}
    doctors = {d["id"]: d for d in document["doctors"]}
    issues: list[Issue] = []
    for wish in entered:
        doctor = doctors.get(wish.doctor_id)
        if doctor is None:
            issues.append(
                Issue(f"wish {wish.id}", f"doctor '{wish.doctor_id}' is not in the scenario.")
            )
            continue
        if wish.kind == "unavailable":
            entry = {"from": wish.start.isoformat(), "to": wish.end.isoformat()}
            if wish.reason:
                entry["reason"] = wish.reason
            doctor.setdefault("unavailable", []).append(entry)
        else:
            key = "avoid" if wish.kind == "avoid" else "prefer"
            days = doctor.setdefault(key, [])
            day = wish.start
            while day <= wish.end:
                if day.isoformat() not in days:
                    days.append(day.isoformat())
                day += timedelta(days=1)
    if issues:
        raise ScenarioError(issues)
    Scenario.model_validate(document)
    return document


def collected_yaml(document: dict[str, Any], source: str) -> str:
    """Return the document as YAML with a header naming where it came from."""
    header = (
        f"# The next period's scenario: {source} plus the leave and wishes the GPs entered.\n"
        "# Written by `wachtplanner collect`; solve it, review, publish.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
