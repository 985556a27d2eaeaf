"""``report.html``: one self-contained page (inline SVG charts, no scripts, no network).

Charts: points versus target per doctor, duties per doctor per month (heat map), the
distribution of days between duties, and coverage per area/post and month; then the fairness
summary and the per-doctor table.
"""

from __future__ import annotations

import html
import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display: the report is written, never shown
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from wachtplanner.domain.scenario import Scenario
from wachtplanner.stats import Statistics

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f3f3f3; }
"""


def svg_figure(figure: Figure, chart_id: str, title: str) -> str:
    """Return a matplotlib figure as an inline ``<figure>`` with its SVG (and close it)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    if "<metadata>" in svg:  # RDF credits; namespace URIs only, dropped to keep the page lean
        svg = svg[: svg.index("<metadata>")] + svg[svg.index("</metadata>") + 11 :]
    return (
        f'<figure class="chart" id="{chart_id}"><figcaption>{html.escape(title)}</figcaption>'
        f"{svg}</figure>"
    )


def _points_vs_target(stats: Statistics) -> str:
    doctors = stats.doctors.sort_values("target_points")
    figure, axis = plt.subplots(figsize=(11, 4))
    positions = np.arange(len(doctors))
    axis.bar(positions, doctors["points"], color="#4c78a8", label="punten")
    axis.plot(positions, doctors["target_points"], "k_", markersize=10, label="doel")
    axis.set_xticks(positions, doctors["doctor_id"], rotation=90, fontsize=6)
    axis.set_ylabel("punten")
    axis.legend()
    figure.tight_layout()
    return svg_figure(figure, "points-vs-target", "Punten versus doel per arts")


def _heat_map(stats: Statistics) -> str:
    table = stats.duties_per_month
    if table.empty:
        return '<p class="empty">Geen diensten in dit rooster.</p>'
    figure, axis = plt.subplots(figsize=(11, max(3, 0.12 * len(table) + 1)))
    image = axis.imshow(table.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    axis.set_xticks(range(len(table.columns)), list(table.columns), rotation=45, fontsize=7)
    axis.set_yticks(range(len(table.index)), list(table.index), fontsize=5)
    figure.colorbar(image, ax=axis, label="diensten")
    figure.tight_layout()
    return svg_figure(figure, "duties-heat-map", "Diensten per arts per maand")


def _gaps(stats: Statistics) -> str:
    figure, axis = plt.subplots(figsize=(7, 3.5))
    gaps = list(stats.gaps_days) or [0.0]
    axis.hist(gaps, bins=min(40, max(5, len(gaps) // 10)), color="#f58518")
    axis.set_xlabel("dagen tussen twee diensten (einde → begin)")
    axis.set_ylabel("aantal")
    figure.tight_layout()
    return svg_figure(figure, "days-between-duties", "Verdeling van de dagen tussen diensten")


def _coverage(stats: Statistics) -> str:
    units = stats.units.pivot_table(
        index="month", columns="scope_id", values="coverage", aggfunc="mean"
    )
    figure, axis = plt.subplots(figsize=(9, 3.5))
    units.plot(kind="bar", ax=axis)
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("bezette plaatsen / nodig")
    axis.legend(fontsize=7, ncols=4)
    figure.tight_layout()
    return svg_figure(figure, "coverage", "Bezetting per wachtgebied/post en maand")


def report_html(scenario: Scenario, stats: Statistics, *, generated_at: datetime) -> bytes:
    """Return the report page; deterministic for the same inputs and ``generated_at``."""
    fees = float(stats.doctors["fee_eur"].sum())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        f"<title>Wachtrooster – {html.escape(scenario.name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Wachtrooster – {html.escape(scenario.name)}</h1>",
        f"<p>{scenario.horizon.start} tot {scenario.horizon.end}; {len(scenario.doctors)} artsen; "
        f"gemaakt {generated_at:%Y-%m-%d %H:%M} UTC. Beschikbaarheidshonoraria samen: "
        f"€ {fees:,.2f}.</p>",
        "<h2>Billijkheid</h2>",
        _points_vs_target(stats),
        stats.fairness.to_html(index=False, border=0),
        "<h2>Werklast</h2>",
        _heat_map(stats),
        _gaps(stats),
        "<h2>Bezetting</h2>",
        _coverage(stats),
        "<h2>Per arts</h2>",
        stats.doctors.to_html(index=False, border=0, na_rep="—"),
        "</body></html>",
    ]
    return "\n".join(parts).encode("utf-8")
