"""Turn a coordinator's GP list (xlsx or csv) into the ``practices`` and ``doctors`` sections.

Headers are matched without regard to case, accents, spaces, dots or dashes, in Dutch or
English (:data:`COLUMNS`): ``naam``/``name``, ``praktijk``/``practice``, ``wachtgebied``/
``area``, ``fte``/``vte``, ``geboortedatum``/``birth date``, ``gmd``, ``verlof``/``leave``,
``vermijden``/``avoid``, and optionally ``id``, ``rol``/``role``, ``stagemeester``/
``supervisor``. A column that is none of these is reported as a warning, never dropped
silently.

Values as a Belgian spreadsheet writes them are read: ``0,8`` and ``1.850`` as numbers,
``01/02/1970`` (day first), ``1-2-1970`` and ``01.02.1970`` as dates, next to ISO ``1970-02-01``.
``verlof`` holds periods ``FROM..TO`` (or ``FROM - TO``) separated by ``;``; ``vermijden`` holds
dates separated by ``;``. Every bad cell is reported with its row number (as the spreadsheet
shows it) and column, all at once.
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
    "arts": "name",
    "doctor": "name",
    "practice": "practice",
    "praktijk": "practice",
    "area": "area",
    "wachtgebied": "area",
    "wachtdienstonderdeel": "area",
    "wdo": "area",
    "fte": "fte",
    "vte": "fte",
    "birthdate": "birth_date",
    "dateofbirth": "birth_date",
    "geboortedatum": "birth_date",
    "gmd": "gmd",
    "gmds": "gmd",
    "leave": "leave",
    "verlof": "leave",
    "afwezig": "leave",
    "avoid": "avoid",
    "vermijden": "avoid",
    "lieverniet": "avoid",
    "role": "role",
    "rol": "role",
    "supervisor": "supervisor",
    "stagemeester": "supervisor",
    "praktijkopleider": "supervisor",
}
"""Header (normalised: lower case, no accents, spaces, dots, dashes or underscores) → field."""
REQUIRED = ("name", "area")
_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}"


def header_key(header: str) -> str:
    """Return a header as :data:`COLUMNS` knows it ("Geboorte datum" → "geboortedatum")."""
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower().replace("'s", "s"))


def parse_date(value: str) -> str | None:
    """Return ISO ``YYYY-MM-DD`` for an ISO or day-first Belgian date, else None."""
    text = value.strip().split(" ")[0]  # Excel dates carry 00:00:00
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    local = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif local:
        day, month, year = (int(g) for g in local.groups())
    else:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_number(value: str) -> str:
    """Return a Belgian number as Python reads it: "0,8" → "0.8", "1.850" → "1850"."""
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        return text.replace(".", "")
    return text.replace(",", ".")


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
        match = re.fullmatch(rf"({_DATE})\s*(?:\.\.|–|\s-\s|-{{2}}>?|\s+tot\s+)\s*({_DATE})", part)
        first = parse_date(match[1]) if match else None
        last = parse_date(match[2]) if match else None
        if first is None or last is None:
            issues.append(
                Issue(
                    where,
                    f"'{part}' is not a period; expected FROM..TO, e.g. 2027-07-01..2027-07-21 "
                    "or 01/07/2027..21/07/2027.",
                )
            )
            continue
        periods.append({"from": first, "to": last})
    return periods


def _avoid(value: str, where: str, issues: list[Issue]) -> list[str]:
    days = []
    for part in (p.strip() for p in re.split(r"[;,]", value) if p.strip()):
        day = parse_date(part)
        if day is None:
            issues.append(
                Issue(where, f"'{part}' is not a date; expected 2027-12-24 or 24/12/2027.")
            )
            continue
        days.append(day)
    return days


def import_doctors(path: Path, warnings: list[str] | None = None) -> dict[str, Any]:
    """Return ``{"practices": [...], "doctors": [...]}`` ready to paste into a scenario.

    ``warnings`` receives one line per column that is not read (unknown headers).

    Raises
    ------
    ScenarioError
        With every bad row and column.
    """
    frame = _read(path)
    renamed = {c: COLUMNS.get(header_key(str(c))) for c in frame.columns}
    for column, field in renamed.items():
        if field is None and warnings is not None:
            warnings.append(
                f"{path}: column '{column}' is not known and was not read; known columns: "
                "naam/name, praktijk/practice, wachtgebied/area, fte/vte, geboortedatum/birth "
                "date, gmd, verlof/leave, vermijden/avoid, rol/role, stagemeester/supervisor, id."
            )
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
        for column in ("role", "supervisor"):
            if column in cells:
                doctor[column] = cells[column]
        for column in ("fte", "gmd"):
            if column in cells:
                doctor[column] = parse_number(cells[column])
        if "birth_date" in cells:
            doctor["birth_date"] = parse_date(cells["birth_date"]) or cells["birth_date"]
        if "leave" in cells:
            doctor["unavailable"] = _leave(cells["leave"], f"{where}, column leave", issues)
        if "avoid" in cells:
            doctor["avoid"] = _avoid(cells["avoid"], f"{where}, column avoid", issues)
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
    if checked.avoid:
        out["avoid"] = [day.isoformat() for day in checked.avoid]
    return out
