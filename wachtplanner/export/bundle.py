"""Everything a checked roster is written as: one place for ``solve`` and ``replan``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wachtplanner.domain.scenario import Scenario
from wachtplanner.export.grid import grid_html
from wachtplanner.export.ical import duty_versions, feeds, version_fields
from wachtplanner.export.labels import Language
from wachtplanner.export.report import report_html
from wachtplanner.export.tables import stats_files, workbook
from wachtplanner.io.roster_files import (
    DutyHistory,
    fairness_csv,
    roster_csv,
    roster_document,
    to_json_bytes,
)
from wachtplanner.result import Result
from wachtplanner.stats import compute_statistics


def roster_bundle(
    scenario: Scenario,
    result: Result,
    *,
    generated_at: datetime,
    history: DutyHistory | None = None,
    extra: dict[str, Any] | None = None,
    language: Language = "nl",
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Return the output files of a solved roster and its ``roster.json`` document.

    Files: roster.csv/.json/.xlsx, fairness.csv, stats/*.csv, report.html, grid.html (the
    printable date x unit grid) and ical/*.ics; the workbook and pages in ``language``.
    ``history`` (the previously published roster's duties) keeps feed identities;
    ``extra`` adds top-level keys to roster.json.
    """
    evaluation = result.evaluation
    if evaluation is None:
        raise ValueError("only a roster the checker has evaluated can be written")
    shifts, roster = result.shifts, result.roster
    versions = duty_versions(shifts, roster, generated_at, history)
    document = roster_document(
        scenario,
        shifts,
        result,
        evaluation,
        generated_at=generated_at,
        versions=version_fields(versions),
    )
    document.update(extra or {})
    stats = compute_statistics(scenario, shifts, roster, evaluation)
    calendars = feeds(scenario, shifts, roster, versions)
    files = {
        "roster.csv": roster_csv(scenario, shifts, roster),
        "fairness.csv": fairness_csv(evaluation),
        "roster.json": to_json_bytes(document),
        **{f"ical/{name}": content for name, content in calendars.items()},
        **stats_files(stats),
        "roster.xlsx": workbook(
            scenario, shifts, roster, stats, generated_at=generated_at, language=language
        ),
        "report.html": report_html(scenario, stats, generated_at=generated_at, language=language),
        "grid.html": grid_html(
            scenario, shifts, roster, generated_at=generated_at, language=language
        ),
    }
    return files, document
