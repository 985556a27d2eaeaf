"""Statistics as files: CSV tables under ``stats/`` and one Excel workbook.

The workbook has readable Dutch/English headers and real dates, one sheet per table: the
roster, per-doctor statistics, the fairness summary, and per unit and month.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance
from wachtplanner.io.roster_files import XLSX_HEADERS, XLSX_ROSTER_SHEET, assignment_rows
from wachtplanner.stats import Statistics

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


def workbook(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    roster: Roster,
    stats: Statistics,
    *,
    generated_at: datetime,
) -> bytes:
    """Return an .xlsx with the roster, per-doctor statistics and fairness summary."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame = roster_frame(scenario, instances, roster).rename(columns=ROSTER_HEADERS)
        frame.to_excel(writer, sheet_name=ROSTER_SHEET, index=False)
        stats.doctors.to_excel(writer, sheet_name="Artsen", index=False)
        stats.fairness.to_excel(writer, sheet_name="Billijkheid", index=False)
        stats.units.to_excel(writer, sheet_name="Per eenheid en maand", index=False)
        pd.DataFrame(
            {
                "Scenario": [scenario.name],
                "Tijdzone": [scenario.timezone],
                "Gemaakt (UTC)": [generated_at.replace(tzinfo=None)],
            }
        ).to_excel(writer, sheet_name="Info", index=False)
        for sheet in writer.sheets.values():
            for column in sheet.columns:
                width = max(len(str(cell.value or "")) for cell in column[:200])
                sheet.column_dimensions[column[0].column_letter].width = min(40, width + 2)
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    if isinstance(cell.value, datetime):
                        cell.number_format = "yyyy-mm-dd hh:mm"
        writer.book.properties.created = generated_at.replace(tzinfo=None)
        writer.book.properties.modified = generated_at.replace(tzinfo=None)
    return buffer.getvalue()
