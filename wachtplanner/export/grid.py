"""The roster as a coordinator prints it: one row per date, one column per unit and duty.

Each cell names who is on duty (names, not ids), so the post's notice board and the xlsx sheet
read the same. Columns are ordered area by area, then the post, each by duty start time.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import pandas as pd

from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance
from wachtplanner.export.labels import WEEKDAYS, Language, column, text

GRID_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
table { border-collapse: collapse; font-size: 0.8em; width: 100%; }
td, th { border: 1px solid #bbb; padding: 2px 4px; text-align: left; vertical-align: top; }
th { background: #eee; } tr.weekend td { background: #f6f3ea; }
section { page-break-after: always; }
@media print { body { margin: 0; } section { page-break-after: always; } }
"""


def _unit_names(scenario: Scenario) -> dict[str, str]:
    names = {a.id: a.name for a in scenario.areas}
    names |= {p.id: p.name for p in scenario.posts}
    names |= {p.id: p.name for p in scenario.practices}
    names |= {e.id: e.name or e.id for e in scenario.emergency_points}
    return names


def grid_frame(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    roster: Roster,
    language: Language = "nl",
) -> pd.DataFrame:
    """Return the date x (unit, duty) grid of names: every date of the horizon is a row."""
    names = {d.id: d.name for d in scenario.doctors}
    units = _unit_names(scenario)
    unit_ids = [a.id for a in scenario.areas] + [p.id for p in scenario.posts]
    order = {unit_id: n for n, unit_id in enumerate(unit_ids)}
    by_shift: dict[str, list[str]] = defaultdict(list)
    for assignment in roster.assignments:
        by_shift[assignment.shift_id].append(names.get(assignment.doctor_id, assignment.doctor_id))
    cells: dict[tuple[date, str], list[str]] = defaultdict(list)
    keys: dict[str, tuple[int, str, int]] = {}
    for shift in instances:
        key = f"{units.get(shift.scope_id, shift.scope_id)} – {shift.label}"
        local = shift.start.astimezone(scenario.tz)
        keys.setdefault(key, (order.get(shift.scope_id, 99), key, local.hour * 60 + local.minute))
        doctors = ", ".join(sorted(by_shift.get(shift.shift_id, []))) or "—"
        span = f"{local:%H:%M}" if shift.hours < 24 else f"{local:%d/%m %H:%M}"
        cells[shift.start_date, key].append(f"{doctors} ({span})")
    ordered = sorted(keys, key=lambda k: (keys[k][0], keys[k][2], k))
    rows = []
    day = scenario.horizon.start
    while day <= scenario.horizon.end:
        row = {
            column("date", language): day,
            column("weekday", language): WEEKDAYS[language][day.weekday()],
        }
        for key in ordered:
            row[key] = "; ".join(cells.get((day, key), []))
        rows.append(row)
        day += timedelta(days=1)
    first = [column("date", language), column("weekday", language)]
    return pd.DataFrame(rows, columns=first + ordered)


def grid_html(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    roster: Roster,
    *,
    generated_at: datetime,
    language: Language = "nl",
) -> bytes:
    """Return ``grid.html``: the printable grid, one month per page, no scripts."""
    frame = grid_frame(scenario, instances, roster, language)
    date_column = column("date", language)
    title = f"{text('grid_title', language)} – {scenario.name}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{language}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{GRID_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{scenario.horizon.start} – {scenario.horizon.end}; {text('made_at', language)} "
        f"{generated_at:%Y-%m-%d %H:%M} UTC. {text('print_hint', language)}</p>",
    ]
    months = frame.groupby(frame[date_column].map(lambda d: (d.year, d.month)), sort=True)
    headers = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    for (year, month), part in months:
        parts.append(
            f"<section><h2>{year}-{month:02d}</h2><table><thead><tr>{headers}</tr></thead><tbody>"
        )
        for record in part.to_dict("records"):
            weekend = record[date_column].weekday() >= 5
            cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in record.values())
            opening = '<tr class="weekend">' if weekend else "<tr>"
            parts.append(f"{opening}{cells}</tr>")
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")
