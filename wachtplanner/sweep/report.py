"""``report.html`` of a sweep: the decision table first, then each outcome against each key.

The decision table answers a board's question directly: for each combination of the varied
keys, how many weeks until every patient has a GP again (green when within the target, e.g. 26
weeks), and the consultations left unmet. Then a chart per outcome and varied key (one line per
combination of the other keys, up to ten), and every run's row. Self-contained: inline SVG, no
scripts, nothing fetched.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: the report is written, never shown
import matplotlib.pyplot as plt

from wachtplanner.export.report import svg_figure
from wachtplanner.sweep.grid import Axis
from wachtplanner.sweep.tasks import OUTCOMES, SOLVE_OUTCOMES

MAX_LINES = 10
MAX_TABLES = 12
TEXTS = {
    "nl": {
        "title": "Scenario-analyse",
        "runs": "runs",
        "failed": "mislukt",
        "decision": "Wanneer heeft iedereen weer een huisarts?",
        "decision_hint": "Weken tot iedereen een huisarts heeft (groen: binnen {weeks} weken), "
        "en de onbeantwoorde zorgvraag (consultaties).",
        "never": "nooit",
        "charts": "Elke uitkomst tegen elke gevarieerde sleutel",
        "all_runs": "Alle runs",
        "other_keys": "bij",
    },
    "en": {
        "title": "Scenario sweep",
        "runs": "runs",
        "failed": "failed",
        "decision": "When does everyone have a GP again?",
        "decision_hint": "Weeks until everyone has a GP (green: within {weeks} weeks), and the "
        "consultations left unmet.",
        "never": "never",
        "charts": "Each outcome against each varied key",
        "all_runs": "All runs",
        "other_keys": "with",
    },
}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; color: #222; max-width: 1100px;
       padding: 0 1em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td.ok { background: #d9f2d9; } td.late { background: #fbe3e3; }
figure svg { max-width: 100%; height: auto; }
"""


def _label(value: Any) -> str:
    return "—" if value is None else str(value)


def _decision_tables(
    rows: Sequence[dict[str, Any]], keys: list[str], within_weeks: int, texts: dict[str, str]
) -> list[str]:
    if not keys:
        return []
    row_key, col_key = keys[0], keys[1] if len(keys) > 1 else None
    rest = keys[2:]
    parts = []
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(_label(row[k]) for k in rest), []).append(row)
    for number, (fixed, members) in enumerate(groups.items()):
        if number >= MAX_TABLES:
            break
        row_values = list(dict.fromkeys(_label(r[row_key]) for r in members))
        col_values = list(dict.fromkeys(_label(r[col_key]) for r in members)) if col_key else [""]
        cells = {(_label(r[row_key]), _label(r[col_key]) if col_key else ""): r for r in members}
        caption = ", ".join(f"{k} = {v}" for k, v in zip(rest, fixed, strict=True))
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in col_values)
        corner = html.escape(row_key + (f" \\ {col_key}" if col_key else ""))
        lines = [f"<table><caption>{html.escape(caption)}</caption>"
                 f"<tr><th>{corner}</th>{head}</tr>"]  # fmt: skip
        for value in row_values:
            tds = []
            for column in col_values:
                cell = cells.get((value, column))
                if cell is None:
                    tds.append("<td></td>")
                    continue
                if cell.get("error"):
                    tds.append(f'<td class="late">{texts["failed"]}</td>')
                    continue
                weeks = cell.get("weeks_until_all_attached")
                ok = weeks is not None and weeks <= within_weeks
                shown = texts["never"] if weeks is None else f"{weeks}"
                unmet = cell.get("unmet_contacts")
                tds.append(
                    f'<td class="{"ok" if ok else "late"}">{shown} '
                    f"<small>({_label(unmet)})</small></td>"
                )
            lines.append(f"<tr><th>{html.escape(value)}</th>{''.join(tds)}</tr>")
        lines.append("</table>")
        parts.append("".join(lines))
    return parts


def _charts(rows: Sequence[dict[str, Any]], keys: list[str], outcomes: list[str]) -> list[str]:
    parts = []
    ok_rows = [r for r in rows if not r.get("error")]
    for outcome, key in itertools.product(outcomes, keys):
        values = [r.get(outcome) for r in ok_rows]
        if not any(isinstance(v, int | float) for v in values):
            continue
        others = [k for k in keys if k != key]
        lines: dict[tuple[str, ...], list[tuple[str, float]]] = {}
        for row in ok_rows:
            value = row.get(outcome)
            if not isinstance(value, int | float):
                continue
            label = tuple(f"{k}={_label(row[k])}" for k in others)
            lines.setdefault(label, []).append((_label(row[key]), float(value)))
        order = list(dict.fromkeys(_label(r[key]) for r in rows))
        figure, axis = plt.subplots(figsize=(7, 3.2))
        for label, points in list(lines.items())[:MAX_LINES]:
            points.sort(key=lambda p: order.index(p[0]))
            axis.plot(
                [order.index(p[0]) for p in points],
                [p[1] for p in points],
                marker="o",
                label=", ".join(label) or outcome,
            )
        axis.set_xticks(range(len(order)), order)
        axis.set_xlabel(key)
        axis.set_ylabel(outcome)
        axis.grid(alpha=0.3)
        if others:
            axis.legend(fontsize=6)
        figure.tight_layout()
        parts.append(svg_figure(figure, f"{outcome}-by-{key}", f"{outcome} — {key}"))
    return parts


def sweep_report(
    rows: Sequence[dict[str, Any]],
    axes: Sequence[Axis],
    *,
    solve: bool,
    within_weeks: int = 26,
    language: str = "nl",
) -> bytes:
    """Return the sweep's page; deterministic for the same rows."""
    texts = TEXTS["en" if language == "en" else "nl"]
    keys = [k for axis in axes for k in axis.keys]
    outcomes = [*OUTCOMES, *(o for o in SOLVE_OUTCOMES if solve and o != "status")]
    failed = sum(1 for r in rows if r.get("error"))
    header = "".join(f"<th>{html.escape(c)}</th>" for c in [*keys, *outcomes, "error"])
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_label(r.get(c)))}</td>" for c in [*keys, *outcomes])
        + f"<td>{html.escape(str(r.get('error') or ''))}</td></tr>"
        for r in rows
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{language}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{texts['title']}</title><style>{STYLE}</style></head><body>",
        f"<h1>{texts['title']}</h1>",
        f"<p>{len(rows)} {texts['runs']}, {failed} {texts['failed']}.</p>",
        f"<h2>{texts['decision']}</h2>",
        f"<p>{texts['decision_hint'].format(weeks=within_weeks)}</p>",
        *_decision_tables(rows, keys, within_weeks, texts),
        f"<h2>{texts['charts']}</h2>",
        *_charts(rows, keys, outcomes),
        f"<h2>{texts['all_runs']}</h2>",
        f"<table><tr>{header}</tr>{body}</table>",
        "</body></html>",
    ]
    return "\n".join(parts).encode("utf-8")
