"""Roster files: ``roster.csv`` (SPEC §3 columns), ``roster.json`` and ``fairness.csv``.

A roster is read back from either format for ``check`` and later commands.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.objective import Evaluation
from wachtplanner.exceptions import Issue, RosterError
from wachtplanner.expand import ShiftInstance
from wachtplanner.io.text_files import describe_binary, read_text_file
from wachtplanner.result import Result, scenario_hash

ROSTER_COLUMNS = (
    "shift_id",
    "shift_type",
    "scope_id",
    "start",
    "end",
    "hours",
    "doctor_id",
    "doctor_name",
    "points",
)
FAIRNESS_COLUMNS = (
    "doctor_id",
    "tag",
    "share",
    "carry_over",
    "target",
    "points",
    "deviation",
    "band",
    "excess",
)


def assignment_rows(
    scenario: Scenario, instances: Sequence[ShiftInstance], roster: Roster
) -> list[dict[str, Any]]:
    """Return one dict per assignment with the SPEC §3 columns."""
    by_id = {i.shift_id: i for i in instances}
    rows = []
    for assignment in roster.assignments:
        shift = by_id[assignment.shift_id]
        rows.append(
            {
                "shift_id": shift.shift_id,
                "shift_type": shift.shift_type,
                "scope_id": shift.scope_id,
                "start": shift.start.isoformat(),
                "end": shift.end.isoformat(),
                "hours": round(shift.hours, 2),
                "doctor_id": assignment.doctor_id,
                "doctor_name": scenario.doctors_by_id[assignment.doctor_id].name,
                "points": round(shift.points, 2),
            }
        )
    return rows


def _csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def roster_csv(scenario: Scenario, instances: Sequence[ShiftInstance], roster: Roster) -> bytes:
    """Return ``roster.csv`` content."""
    return _csv(ROSTER_COLUMNS, assignment_rows(scenario, instances, roster))


def fairness_csv(evaluation: Evaluation) -> bytes:
    """Return ``fairness.csv``: every doctor's points per tag against their target."""
    rows = [
        {
            "doctor_id": r.doctor_id,
            "tag": r.tag,
            "share": round(r.share, 6),
            "carry_over": r.carry_over,
            "target": r.target,
            "points": r.points,
            "deviation": round(r.deviation, 2),
            "band": r.band,
            "excess": r.excess,
        }
        for r in evaluation.fairness
    ]
    return _csv(FAIRNESS_COLUMNS, rows)


def roster_document(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    result: Result,
    evaluation: Evaluation,
    *,
    generated_at: datetime,
    versions: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return the ``roster.json`` document: assignments, status, objective, bound, gap, timings.

    ``versions`` adds each assignment's feed identity (``uid``, ``sequence``, ``modified``).
    """
    return {
        "scenario": scenario.name,
        "scenario_hash": result.scenario_hash,
        "generated_at": generated_at.isoformat(),
        "status": str(result.status),
        "objective": result.objective,
        "bound": result.bound,
        "gap": round(result.gap, 6),
        "objective_terms": result.terms,
        "stages": [
            {
                "name": s.name,
                "status": str(s.status),
                "objective": s.objective,
                "bound": s.bound,
                "gap": round(s.gap, 6),
                "wall_time_s": round(s.wall_time_s, 3),
            }
            for s in result.stages
        ],
        "wall_time_s": round(result.wall_time_s, 3),
        "build_time_s": round(result.build_time_s, 3),
        "time_to_first_s": None
        if result.time_to_first_s is None
        else round(result.time_to_first_s, 3),
        "num_variables": result.num_variables,
        "fairness_summary": {
            "rows": len(evaluation.fairness),
            "outside_band": len(evaluation.rows_outside_band),
            "largest_abs_deviation": max(
                (abs(r.deviation) for r in evaluation.fairness), default=0.0
            ),
        },
        "soft_penalties": evaluation.penalties_by_rule,
        "assignments": [
            {**row, **(versions or {}).get((row["shift_id"], row["doctor_id"]), {})}
            for row in assignment_rows(scenario, instances, result.roster)
        ],
    }


DutyHistory = dict[tuple[str, str], tuple[str, str, int, datetime]]
"""(shift_id, doctor_id) -> (start, end, sequence, last modified) of a published roster."""


def duty_history(path: Path) -> tuple[DutyHistory, datetime | None]:
    """Read each duty's times, sequence and last change from a ``roster.json``.

    Returns the history and the roster's own version time (``generated_at``).
    """
    if path.suffix.lower() != ".json":
        raise RosterError([Issue(str(path), "a previous roster must be a roster.json.")])
    document = read_roster_json(path)
    version = document.get("generated_at") if isinstance(document, dict) else None
    version_time = datetime.fromisoformat(version) if isinstance(version, str) else None
    history: DutyHistory = {}
    for where, row in _read_rows(path):
        try:
            modified = row.get("modified") or version
            history[str(row["shift_id"]), str(row["doctor_id"])] = (
                str(row["start"]),
                str(row["end"]),
                int(row.get("sequence", 0)),
                datetime.fromisoformat(str(modified)),
            )
        except (KeyError, TypeError, ValueError):
            raise RosterError(
                [Issue(f"{path}: {where}", "expected shift_id, doctor_id, start and end.")]
            ) from None
    return history, version_time


def to_json_bytes(document: dict[str, Any]) -> bytes:
    """Return a JSON document as UTF-8 with a trailing newline."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


XLSX_ROSTER_SHEET = "Rooster"
XLSX_HEADERS = {
    "shift_id": "Shift id",
    "shift_type": "Type",
    "label": "Wacht",
    "scope_id": "Eenheid",
    "start": "Begin",
    "end": "Einde",
    "hours": "Uren",
    "doctor_id": "Arts id",
    "doctor_name": "Arts",
    "points": "Punten",
}
"""Roster columns and their headers in the workbook's roster sheet."""
XLSX_HEADERS_EN = {
    "shift_id": "Shift id",
    "shift_type": "Type",
    "label": "Duty",
    "scope_id": "Unit",
    "start": "Start",
    "end": "End",
    "hours": "Hours",
    "doctor_id": "Doctor id",
    "doctor_name": "Doctor",
    "points": "Points",
}
"""The same in the English workbook (``--lang en``)."""
XLSX_ROSTER_SHEETS = (XLSX_ROSTER_SHEET, "Roster")


MAX_ROSTER_BYTES = 64 * 1024 * 1024
"""Largest roster file read: a 500-GP year's roster.json is about 3 MB."""
_MAX_JSON_DEPTH = 16
_MAX_LISTED_ISSUES = 20


def _read_xlsx_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise RosterError([Issue(str(path), f"cannot be read ({exc.strerror}).")]) from None
    if size > MAX_ROSTER_BYTES:
        raise RosterError(
            [Issue(str(path), f"is {size / 2**20:.1f} MB; expected a roster of at most 64 MB.")]
        )
    if not head.startswith(b"PK\x03\x04"):
        what = describe_binary(head) or "text"
        raise RosterError(
            [Issue(str(path), f"is {what}, not an Excel workbook; expected a .xlsx roster.")]
        )
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, nrows=None)
    except Exception as exc:  # zip and XML errors of a damaged file vary
        reason = type(exc).__name__
        raise RosterError(
            [
                Issue(
                    str(path),
                    f"is not a readable Excel workbook (damaged, truncated or another kind of "
                    f"zip file: {reason}); expected a .xlsx roster saved by Excel, LibreOffice "
                    "or wachtplanner.",
                )
            ]
        ) from None
    sheet = next((name for name in XLSX_ROSTER_SHEETS if name in sheets), None)
    if sheet is None:
        raise RosterError(
            [
                Issue(
                    str(path),
                    f"no sheet '{XLSX_ROSTER_SHEET}' (or 'Roster'); expected a wachtplanner "
                    "workbook.",
                )
            ]
        )
    frame = sheets[sheet]
    doctor_header = next(
        (
            h
            for h in (XLSX_HEADERS["doctor_id"], XLSX_HEADERS_EN["doctor_id"])
            if h in frame.columns
        ),
        XLSX_HEADERS["doctor_id"],
    )
    wanted = {XLSX_HEADERS["shift_id"]: "shift_id", doctor_header: "doctor_id"}
    missing = [header for header in wanted if header not in frame.columns]
    if missing:
        raise RosterError(
            [Issue(f"{path}: sheet {sheet}", f"missing column(s) {', '.join(missing)}.")]
        )
    frame = frame.rename(columns=wanted)
    return [
        (f"sheet {sheet} row {n}", {k: row[k] for k in ("shift_id", "doctor_id")})
        for n, row in enumerate(frame.to_dict("records"), start=2)
    ]


def _json_depth(document: Any) -> int:
    deepest, stack = 0, [(document, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def read_roster_json(path: Path) -> Any:
    """Return a roster.json document, or raise a located RosterError."""
    text = read_text_file(path, MAX_ROSTER_BYTES, RosterError, what="a roster")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RosterError(
            [Issue(f"{path}:{exc.lineno}:{exc.colno}", f"not valid JSON: {exc.msg}.")]
        ) from None
    except RecursionError:
        document = None
    if document is None or _json_depth(document) > _MAX_JSON_DEPTH:
        raise RosterError(
            [
                Issue(
                    str(path),
                    f"refused: nested deeper than {_MAX_JSON_DEPTH} levels; a roster.json needs 3.",
                )
            ]
        )
    return document


def _csv_rows(path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    header = text.lstrip("\ufeff").partition("\n")[0]
    # Excel writes ';' in a Belgian locale and tabs as "Unicode text"; take the separator that
    # splits the header into the required columns.
    delimiter = max((",", ";", "\t"), key=lambda d: (header.count(d) > 0, header.count(d)))
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    try:
        fieldnames = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise RosterError([Issue(f"{path}: row 1", f"not readable as CSV: {exc}.")]) from None
    reader.fieldnames = fieldnames
    missing = [c for c in ("shift_id", "doctor_id") if c not in fieldnames]
    if missing:
        shown = ",".join(fieldnames[:6])[:120]
        raise RosterError(
            [
                Issue(
                    str(path),
                    f"missing column(s) {', '.join(missing)} in the header '{shown}'; expected "
                    f"{','.join(ROSTER_COLUMNS)}.",
                )
            ]
        )
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        for row in reader:
            rows.append((f"row {reader.line_num}", dict(row)))
    except csv.Error as exc:
        raise RosterError(
            [
                Issue(
                    f"{path}: row {reader.line_num + 1}",
                    f"not readable as CSV ({exc}); expected short values such as a shift id.",
                )
            ]
        ) from None
    return rows


def _read_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if path.suffix.lower() in (".xlsx", ".xlsm") and path.exists():
        return _read_xlsx_rows(path)
    if path.suffix.lower() == ".json":
        document = read_roster_json(path)
        items = document.get("assignments") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise RosterError([Issue(str(path), "expected a key 'assignments' with a list.")])
        return [
            (f"assignments[{n}]", item if isinstance(item, dict) else {})
            for n, item in enumerate(items)
        ]
    text = read_text_file(
        path, MAX_ROSTER_BYTES, RosterError, what="a roster", legacy_encoding=True
    )
    return _csv_rows(path, text)


def load_roster(path: Path, scenario: Scenario, instances: Sequence[ShiftInstance]) -> Roster:
    """Read a roster (CSV with at least ``shift_id,doctor_id``, or roster.json) for a scenario.

    Raises
    ------
    RosterError
        With every row whose shift or doctor is not in the scenario.
    """
    shift_ids = {i.shift_id for i in instances}
    issues: list[Issue] = []
    assignments: list[Assignment] = []
    for where, row in _read_rows(path):
        shift_id, doctor_id = str(row.get("shift_id") or ""), str(row.get("doctor_id") or "")
        if shift_id not in shift_ids:
            issues.append(
                Issue(f"{path}: {where}", f"shift_id '{shift_id}' is not a shift of this scenario.")
            )
        if doctor_id not in scenario.doctors_by_id:
            issues.append(
                Issue(
                    f"{path}: {where}", f"doctor_id '{doctor_id}' is not a doctor of this scenario."
                )
            )
        assignments.append(Assignment(shift_id=shift_id, doctor_id=doctor_id))
    if issues:
        raise RosterError(_summarised(path, scenario, issues, len(assignments)))
    return Roster(assignments=tuple(assignments))


def _roster_hash(path: Path) -> str | None:
    if path.suffix.lower() != ".json":
        return None
    document = read_roster_json(path)
    value = document.get("scenario_hash") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def _summarised(path: Path, scenario: Scenario, issues: list[Issue], rows: int) -> list[Issue]:
    """Lead with the likely cause (another scenario's roster) and list at most 20 details."""
    lead: list[Issue] = []
    made_for, expected = _roster_hash(path), scenario_hash(scenario)
    bad_rows = len({i.location for i in issues})
    if made_for is not None and made_for != expected:
        lead.append(
            Issue(
                str(path),
                f"was made for another scenario (scenario_hash {made_for[:12]}, this scenario "
                f"{expected[:12]}); {bad_rows} of {rows} rows do not match it.",
            )
        )
    shown = issues[:_MAX_LISTED_ISSUES]
    if len(issues) > len(shown):
        shown.append(
            Issue(str(path), f"… and {len(issues) - len(shown)} more problems like these.")
        )
    return [*lead, *shown]
