"""Turn a coordinator's GP list (xlsx or csv) into the ``practices`` and ``doctors`` sections.

Columns (headers are matched case-insensitively, Dutch or English): ``name``/``naam``,
``practice``/``praktijk``, ``area``/``wachtgebied``, ``fte``, ``birth_date``/``geboortedatum``,
``gmd``, ``leave``/``verlof`` and optionally ``id``, ``role``/``rol``, ``supervisor``.
``leave`` holds periods ``YYYY-MM-DD..YYYY-MM-DD`` separated by ``;``. Every bad cell is
reported with its row number (as the spreadsheet shows it) and column, all at once.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from wachtplanner.domain.people import Doctor
from wachtplanner.exceptions import Issue, ScenarioError

COLUMNS = {
    "id": "id",
    "name": "name",
    "naam": "name",
    "practice": "practice",
    "praktijk": "practice",
    "area": "area",
    "wachtgebied": "area",
    "fte": "fte",
    "birth_date": "birth_date",
    "geboortedatum": "birth_date",
    "gmd": "gmd",
    "leave": "leave",
    "verlof": "leave",
    "role": "role",
    "rol": "role",
    "supervisor": "supervisor",
}
REQUIRED = ("name", "area")


def slug(text: str) -> str:
    """Return a lower-case ASCII id for a name ("Dr. Ann Peeters" → "ann-peeters")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    plain = re.sub(r"^(dr|dokter)\.?\s+", "", plain.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise ScenarioError([Issue(str(path), "file not found.")])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str)
    if path.suffix.lower() == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        separator = (
            ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
        )
        return pd.read_csv(path, dtype=str, sep=separator, encoding="utf-8-sig")
    raise ScenarioError(
        [Issue(str(path), f"unknown file type '{path.suffix}'; expected .xlsx or .csv.")]
    )


def _leave(value: str, where: str, issues: list[Issue]) -> list[dict[str, str]]:
    periods = []
    for part in (p.strip() for p in value.split(";") if p.strip()):
        match = re.fullmatch(
            r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|–|-{1,2}>?)\s*(\d{4}-\d{2}-\d{2})", part
        )
        if not match:
            issues.append(
                Issue(where, f"'{part}' is not a period; expected YYYY-MM-DD..YYYY-MM-DD.")
            )
            continue
        periods.append({"from": match[1], "to": match[2]})
    return periods


def import_doctors(path: Path) -> dict[str, Any]:
    """Return ``{"practices": [...], "doctors": [...]}`` ready to paste into a scenario.

    Raises
    ------
    ScenarioError
        With every bad row and column.
    """
    frame = _read(path)
    renamed = {c: COLUMNS.get(str(c).strip().lower()) for c in frame.columns}
    issues = [
        Issue(f"{path}: header", f"missing column '{column}'.")
        for column in REQUIRED
        if column not in renamed.values()
    ]
    if issues:
        raise ScenarioError(issues)
    frame = frame.rename(columns={k: v for k, v in renamed.items() if v})
    frame = frame[[c for c in frame.columns if c in COLUMNS.values()]]
    practices: dict[str, dict[str, str]] = {}
    doctors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, row in enumerate(frame.to_dict("records"), start=2):
        cells = {k: str(v).strip() for k, v in row.items() if isinstance(v, str) and v.strip()}
        where = f"{path}: row {number}"
        for column in REQUIRED:
            if column not in cells:
                issues.append(Issue(f"{where}, column {column}", "is empty."))
        if any(column not in cells for column in REQUIRED):
            continue
        doctor: dict[str, Any] = {
            "id": cells.get("id") or slug(cells["name"]),
            "name": cells["name"],
            "area": cells["area"],
        }
        if "practice" in cells:
            practice_id = slug(cells["practice"])
            practices.setdefault(
                practice_id, {"id": practice_id, "name": cells["practice"], "area": cells["area"]}
            )
            doctor["practice"] = practice_id
        for column in ("fte", "gmd", "birth_date", "role", "supervisor"):
            if column in cells:
                doctor[column] = cells[column]
        if "birth_date" in cells:
            doctor["birth_date"] = cells["birth_date"].split(" ")[0]  # Excel dates carry 00:00:00
        if "leave" in cells:
            doctor["unavailable"] = _leave(cells["leave"], f"{where}, column leave", issues)
        if doctor["id"] in seen:
            issues.append(Issue(f"{where}, column id", f"'{doctor['id']}' appears twice."))
        seen.add(doctor["id"])
        try:
            checked = Doctor.model_validate(doctor)
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else "?"
                column = "leave" if column == "unavailable" else column
                issues.append(
                    Issue(
                        f"{where}, column {column}",
                        f"{error.get('input')!r}: {error['msg'].lower()}.",
                    )
                )
            continue
        doctors.append(_plain(checked, doctor))
    if issues:
        raise ScenarioError(issues)
    return {"practices": list(practices.values()), "doctors": doctors}


def _plain(checked: Doctor, raw: dict[str, Any]) -> dict[str, Any]:
    """Return the doctor with typed values, in the scenario file's key order."""
    out: dict[str, Any] = {"id": checked.id, "name": checked.name}
    if checked.practice:
        out["practice"] = checked.practice
    out["area"] = checked.area
    if "fte" in raw:
        out["fte"] = checked.fte
    if "gmd" in raw:
        out["gmd"] = checked.gmd
    if isinstance(checked.birth_date, date):
        out["birth_date"] = checked.birth_date.isoformat()
    if checked.role != "gp":
        out["role"] = checked.role
    if checked.supervisor:
        out["supervisor"] = checked.supervisor
    if checked.unavailable:
        out["unavailable"] = [
            {"from": u.start.isoformat(), "to": u.end.isoformat()} for u in checked.unavailable
        ]
    return out
