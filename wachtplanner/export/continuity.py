"""Continuity outputs (SPEC §6): ``timeline.csv``, ``summary.json`` and ``report.html``."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from wachtplanner.export.report import STYLE, svg_figure
from wachtplanner.simulation.weekly import Simulation

TIMELINE_COLUMNS = {
    "week": "week",
    "start": "start",
    "attached": "attached",
    "unattached": "unattached",
    "contacts_demand": "contacts_demand",
    "acute_demand": "acute_demand",
    "served_overflow": "served_by_overflow",
    "served_emergency": "served_by_emergency_points",
    "unmet": "unmet",
    "unmet_acute": "unmet_acute",
    "rehomed": "rehomed",
}
"""WeekRow attribute -> timeline column (SPEC §6 and §7 names)."""


def timeline_frame(simulation: Simulation, areas: Sequence[str] = ()) -> pd.DataFrame:
    """Return one row per week: the SPEC columns, then the per practice, GP and area ones.

    ``gmd_per_fte:<practice>``, ``contacts_per_week:<doctor>`` for every GP who absorbed
    patients, and ``gp_poor:<area>`` (1 when the area is below the GP-poor threshold that week).
    """
    absorbing = sorted({d for row in simulation.rows for d in row.contacts_per_week})
    rows = []
    for row in simulation.rows:
        record: dict[str, Any] = {
            column: getattr(row, attribute) for attribute, column in TIMELINE_COLUMNS.items()
        }
        record["start"] = row.start.isoformat()
        for practice, value in row.gmd_per_fte.items():
            record[f"gmd_per_fte:{practice}"] = value
        for doctor in absorbing:
            record[f"contacts_per_week:{doctor}"] = row.contacts_per_week.get(doctor, 0.0)
        for area in areas:
            record[f"gp_poor:{area}"] = int(area in row.gp_poor)
        rows.append(record)
    return pd.DataFrame(rows)


def summary(name: str, simulation: Simulation) -> dict[str, Any]:
    """Return the figures a board acts on."""
    return {
        "scenario": name,
        "weeks_simulated": len(simulation.rows),
        "first_week": simulation.rows[0].start.isoformat() if simulation.rows else None,
        "departures": [{"doctor": d, "date": day.isoformat()} for d, day in simulation.departures],
        "weeks_until_everyone_attached": simulation.weeks_until_all_attached,
        "peak_unattached_patients": simulation.peak_unattached,
        "unattached_at_end": simulation.rows[-1].unattached if simulation.rows else 0,
        "peak_unmet_per_week": simulation.peak_unmet,
        "total_unmet_contacts": round(simulation.total_unmet, 1),
        "total_unmet_acute": round(sum(r.unmet_acute for r in simulation.rows), 1),
        "total_contacts_demand": round(sum(r.contacts_demand for r in simulation.rows), 1),
        "gp_poor_weeks": simulation.gp_poor_weeks,
        "first_gp_poor_week": simulation.first_gp_poor_week(),
        "peak_contacts_per_week_absorbing_gp": max(
            (v for r in simulation.rows for v in r.contacts_per_week.values()), default=0.0
        ),
        "total_served_by_emergency_points": round(
            sum(r.served_emergency for r in simulation.rows), 1
        ),
        "total_served_by_overflow": round(sum(r.served_overflow for r in simulation.rows), 1),
        "gmd_per_fte_before": simulation.gmd_per_fte_before,
        "gmd_per_fte_after": simulation.gmd_per_fte_after,
        "gp_poor_areas_before": list(simulation.gp_poor_before),
        "gp_poor_areas_after": list(simulation.gp_poor_after),
    }


def continuity_files(
    name: str, simulation: Simulation, areas: Sequence[str] = ()
) -> dict[str, bytes]:
    """Return timeline.csv, summary.json and report.html of one simulation."""
    timeline = timeline_frame(simulation, areas)
    return {
        "timeline.csv": timeline.to_csv(index=False).encode("utf-8"),
        "summary.json": (json.dumps(summary(name, simulation), indent=2) + "\n").encode("utf-8"),
        "report.html": continuity_report([(name, simulation)]),
    }


def continuity_report(runs: Sequence[tuple[str, Simulation]]) -> bytes:
    """Return a self-contained page with the week-by-week charts of one or more alternatives."""
    charts = []
    for column, title, chart_id in (
        ("unattached", "Patiënten zonder huisarts per week", "unattached"),
        (
            "contacts_demand",
            "Zorgvraag van patiënten zonder huisarts (consultaties/week)",
            "demand",
        ),
        ("unmet", "Onbeantwoorde zorgvraag per week (consultaties)", "unmet"),
        ("served_by_emergency_points", "Opgevangen door noodpunten per week", "emergency"),
    ):
        figure, axis = plt.subplots(figsize=(9, 3.5))
        for name, simulation in runs:
            frame = timeline_frame(simulation)
            axis.plot(pd.to_datetime(frame["start"]), frame[column], label=name)
        axis.set_ylabel(column)
        axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
        figure.autofmt_xdate()
        figure.tight_layout()
        charts.append(svg_figure(figure, chart_id, title))
    figure, axis = plt.subplots(figsize=(9, 3.5))
    name, simulation = runs[0]
    frame = timeline_frame(simulation)
    for practice in [c for c in frame.columns if c.startswith("gmd_per_fte:")]:
        axis.plot(pd.to_datetime(frame["start"]), frame[practice], label=practice.split(":", 1)[1])
    axis.set_ylabel("GMD per FTE")
    axis.legend(fontsize=7, ncols=3)
    figure.autofmt_xdate()
    figure.tight_layout()
    charts.append(svg_figure(figure, "gmd-per-fte", f"GMD per FTE per praktijk – {name}"))
    absorbing = [c for c in frame.columns if c.startswith("contacts_per_week:")]
    if absorbing:
        figure, axis = plt.subplots(figsize=(9, 3.5))
        for column in absorbing:
            axis.plot(pd.to_datetime(frame["start"]), frame[column], label=column.split(":", 1)[1])
        axis.set_ylabel("consultaties/week")
        axis.legend(fontsize=7, ncols=3)
        figure.autofmt_xdate()
        figure.tight_layout()
        charts.append(
            svg_figure(
                figure, "absorbing-load", f"Last van de huisartsen die patiënten opnamen – {name}"
            )
        )
    table = pd.DataFrame([summary(n, s) for n, s in runs]).drop(
        columns=["gmd_per_fte_before", "gmd_per_fte_after", "departures", "first_gp_poor_week"]
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8"><title>Continuïteit</title>',
        f"<style>{STYLE}</style></head><body>",
        "<h1>Continuïteit van de huisartsenzorg</h1>",
        "<p>" + html.escape(" versus ".join(n for n, _ in runs)) + "</p>",
        table.T.to_html(header=False, border=0),
        *charts,
        "</body></html>",
    ]
    return "\n".join(parts).encode("utf-8")
