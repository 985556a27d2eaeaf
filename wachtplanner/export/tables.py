"""Statistics as files: CSV tables under ``stats/`` and one Excel workbook.

The CSV tables are for programs; the workbook is for people: labelled in Dutch or English,
names next to ids, frozen headers and filters.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance
from wachtplanner.export.grid import grid_frame
from wachtplanner.export.labels import Language, columns, text
from wachtplanner.io.roster_files import (
    XLSX_HEADERS,
    XLSX_HEADERS_EN,
    XLSX_ROSTER_SHEET,
    assignment_rows,
)
from wachtplanner.stats import Statistics
from wachtplanner.stats.tables import DOCTOR_COLUMNS

ROSTER_SHEET = XLSX_ROSTER_SHEET
ROSTER_HEADERS = XLSX_HEADERS


def stats_files(stats: Statistics) -> dict[str, bytes]:
    """Return ``{relative name: bytes}`` for ``stats/``."""
    return {
        "stats/doctors.csv": stats.doctors.to_csv(index=False).encode("utf-8"),
        "stats/units.csv": stats.units.to_csv(index=False).encode("utf-8"),
        "stats/fairness.csv": stats.fairness.to_csv(index=False).encode("utf-8"),
        "stats/duties_per_month.csv": stats.duties_per_month.to_csv().encode("utf-8"),
    }


def stats_json(stats: Statistics) -> dict[str, Any]:
    """Return the statistics as plain data."""
    return {
        "doctors": json.loads(stats.doctors.to_json(orient="records")),
        "units": json.loads(stats.units.to_json(orient="records")),
        "fairness": json.loads(stats.fairness.to_json(orient="records")),
        "fees_total_eur": round(float(stats.doctors["fee_eur"].sum()), 2),
    }


def roster_frame(
    scenario: Scenario, instances: Sequence[ShiftInstance], roster: Roster
) -> pd.DataFrame:
    """Return the roster as a table with local, timezone-free dates (Excel has no zones)."""
    labels = {i.shift_id: i.label for i in instances}
    frame = pd.DataFrame(assignment_rows(scenario, instances, roster), columns=list(ROSTER_HEADERS))
    frame["label"] = [labels[s] for s in frame["shift_id"]] if len(frame) else []
    for column in ("start", "end"):
        frame[column] = [
            datetime.fromisoformat(v).astimezone(scenario.tz).replace(tzinfo=None)
            for v in frame[column]
        ]
    return frame.reindex(columns=list(ROSTER_HEADERS))


def _doctor_sheet(stats: Statistics, language: Language) -> pd.DataFrame:
    """Per doctor, named, grouped by area and sorted by name; labelled columns."""
    frame = stats.doctors.sort_values(["area", "name"], kind="stable")
    order = ["area", "name", "doctor_id"] + [
        c for c in DOCTOR_COLUMNS if c not in ("name", "area", "doctor_id")
    ]
    return frame[order].rename(columns=columns(order, language))


def _format_sheet(sheet: Any) -> None:
    """Frozen header row, filters on every column, widths to fit, real date formats."""
    sheet.freeze_panes = "A2"
    if sheet.max_row > 1 and sheet.max_column > 0:
        sheet.auto_filter.ref = sheet.dimensions
    for cells in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in cells[:300])
        sheet.column_dimensions[cells[0].column_letter].width = min(45, max(8, width + 2))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"


def workbook(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    roster: Roster,
    stats: Statistics,
    *,
    generated_at: datetime,
    language: Language = "nl",
) -> bytes:
    """Return an .xlsx a coordinator can read at 500 GPs, in one language.

    Sheets: the roster (one row per duty, read back by ``check``), the roster by date (a date x
    unit grid of names, printable), the doctors (named, grouped by area), fairness per kind of
    duty, and per unit and month. Every sheet has a frozen header row and filters.
    """
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame = roster_frame(scenario, instances, roster)
        roster_headers = XLSX_HEADERS if language == "nl" else XLSX_HEADERS_EN
        frame.rename(columns=roster_headers).to_excel(
            writer, sheet_name=text("sheet_roster", language), index=False
        )
        grid_frame(scenario, instances, roster, language).to_excel(
            writer, sheet_name=text("sheet_grid", language), index=False
        )
        _doctor_sheet(stats, language).to_excel(
            writer, sheet_name=text("sheet_doctors", language), index=False
        )
        fairness = stats.fairness.rename(columns=columns(list(stats.fairness.columns), language))
        fairness.to_excel(writer, sheet_name=text("sheet_fairness", language), index=False)
        units = stats.units.rename(columns=columns(list(stats.units.columns), language))
        units.to_excel(writer, sheet_name=text("sheet_units", language), index=False)
        pd.DataFrame(
            {
                text("scenario", language): [scenario.name],
                text("timezone", language): [scenario.timezone],
                text("made", language): [generated_at.replace(tzinfo=None)],
            }
        ).to_excel(writer, sheet_name=text("sheet_info", language), index=False)
        for sheet in writer.sheets.values():
            _format_sheet(sheet)
        writer.book.properties.created = generated_at.replace(tzinfo=None)
        writer.book.properties.modified = generated_at.replace(tzinfo=None)
    return buffer.getvalue()
