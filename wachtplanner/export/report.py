"""``report.html``: one self-contained page (inline SVG, no scripts, nothing fetched).

Readable at 500 GPs: a summary first (fairness per kind of duty and the coordinator's figures:
bunching, streaks, hours per month, total balance, holidays), then one collapsible section per
area with its doctors by name (points minus target, duties per month as a small heat map, and
the table sorted by deviation), then the days between duties and the coverage per unit and
month. Charts never hold more than one area's doctors. Dutch by default, English on request.
"""

from __future__ import annotations

import html
import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display: the report is written, never shown
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wachtplanner.domain.scenario import Scenario
from wachtplanner.export.labels import Language, columns, text
from wachtplanner.stats import Statistics

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; color: #222; max-width: 1200px;
       padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
td:first-child, th:first-child, td.text { text-align: left; }
th { background: #f3f3f3; }
details { margin: 0.6em 0; border: 1px solid #ddd; padding: 0.3em 0.8em; }
summary { cursor: pointer; font-weight: 600; }
"""
LABEL_LIMIT = 70
"""Charts label each doctor up to this many bars; beyond, the table beside it names them."""


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


def _table(frame: pd.DataFrame, language: Language) -> str:
    labelled = frame.rename(columns=columns(list(frame.columns), language))
    return labelled.to_html(index=False, border=0, na_rep="—", float_format=lambda v: f"{v:g}")


def _deviation_chart(doctors: pd.DataFrame, chart_id: str, language: Language) -> str:
    ordered = doctors.sort_values("deviation")
    figure, axis = plt.subplots(figsize=(11, 3.2))
    positions = np.arange(len(ordered))
    colours = ["#e45756" if v < 0 else "#4c78a8" for v in ordered["deviation"]]
    axis.bar(positions, ordered["deviation"], color=colours)
    axis.axhline(0, color="#333", linewidth=0.8)
    if len(ordered) <= LABEL_LIMIT:
        axis.set_xticks(positions, ordered["name"], rotation=90, fontsize=6)
    else:
        axis.set_xticks([])
    axis.set_ylabel(text("points_axis", language))
    figure.tight_layout()
    return svg_figure(figure, chart_id, text("deviation_chart", language))


def _heat_map(table: pd.DataFrame, names: dict[str, str], chart_id: str, lang: Language) -> str:
    if table.empty or table.shape[1] == 0:
        return f"<p>{text('no_duties', lang)}</p>"
    figure, axis = plt.subplots(figsize=(11, max(2.5, 0.16 * len(table) + 1)))
    image = axis.imshow(table.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    axis.set_xticks(range(len(table.columns)), list(table.columns), rotation=45, fontsize=7)
    labels = [names.get(d, d) for d in table.index] if len(table) <= LABEL_LIMIT else []
    axis.set_yticks(range(len(labels)), labels, fontsize=6)
    figure.colorbar(image, ax=axis, label=text("duties_axis", lang))
    figure.tight_layout()
    return svg_figure(figure, chart_id, text("heat_map", lang))


def _gaps(stats: Statistics, language: Language) -> str:
    figure, axis = plt.subplots(figsize=(7, 3.5))
    gaps = list(stats.gaps_days) or [0.0]
    axis.hist(gaps, bins=min(40, max(5, len(gaps) // 10)), color="#f58518")
    axis.set_xlabel(text("gaps_axis", language))
    axis.set_ylabel(text("count", language))
    figure.tight_layout()
    return svg_figure(figure, "days-between-duties", text("gaps", language))


def _coverage(stats: Statistics, language: Language) -> str:
    units = stats.units.pivot_table(
        index="month", columns="scope_id", values="coverage", aggfunc="mean"
    ).sort_index()
    figure, axis = plt.subplots(figsize=(9, 3.5))
    units.plot(kind="bar", ax=axis)
    axis.set_ylim(0, 1.05)
    axis.set_ylabel(text("coverage_axis", language))
    axis.legend(fontsize=7, ncols=4)
    figure.tight_layout()
    return svg_figure(figure, "coverage", text("coverage_chart", language))


def _summary(stats: Statistics, language: Language) -> str:
    quality = stats.quality
    rows = [
        ("most_duties_in_7_days", f"{quality.most_duties_in_7_days}"),
        ("longest_streak_days", f"{quality.longest_streak_days}"),
        ("most_hours_in_a_month", f"{quality.most_hours_in_a_month:g}"),
        ("share_close_pairs", f"{quality.share_close_pairs:.1%}"),
        ("largest_total_deviation", f"{quality.largest_total_deviation:g}"),
        ("summed_total_deviation", f"{quality.summed_total_deviation:g}"),
        ("summed_deviation", f"{quality.summed_deviation:g}"),
        ("holiday_blocks", f"{quality.holiday_blocks_min}–{quality.holiday_blocks_max}"),
    ]
    body = "".join(
        f'<tr><td class="text">{html.escape(text(key, language))}</td><td>{value}</td></tr>'
        for key, value in rows
    )
    return (
        f"<table><thead><tr><th>{text('figure', language)}</th><th>{text('value', language)}"
        f"</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _per_area(scenario: Scenario, stats: Statistics, language: Language) -> list[str]:
    names = dict(zip(stats.doctors["doctor_id"], stats.doctors["name"], strict=True))
    area_names = {a.id: a.name for a in scenario.areas}
    parts = []
    for index, (area, doctors) in enumerate(stats.doctors.groupby("area", sort=True)):
        name = area_names.get(str(area), str(area))
        title = f"{name} – {len(doctors)} {text('doctors_word', language)}"
        table = doctors.sort_values("deviation")[
            ["name", "doctor_id", "fte", "target_points", "points", "deviation", "hours",
             "nights", "weekends", "holidays", "min_days_between_duties", "fee_eur"]
        ]  # fmt: skip
        months = stats.duties_per_month.reindex(doctors["doctor_id"]).dropna(how="all")
        parts += [
            f"<details{' open' if index == 0 else ''}><summary>{html.escape(title)}</summary>",
            _deviation_chart(doctors, f"deviation-{index}", language),
            _heat_map(months, names, f"heat-map-{index}", language),
            _table(table, language),
            "</details>",
        ]
    return parts


def report_html(
    scenario: Scenario,
    stats: Statistics,
    *,
    generated_at: datetime,
    language: Language = "nl",
) -> bytes:
    """Return the report page; deterministic for the same inputs and ``generated_at``."""
    fees = float(stats.doctors["fee_eur"].sum())
    title = f"{text('title', language)} – {scenario.name}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{language}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{scenario.horizon.start} {text('to', language)} {scenario.horizon.end}; "
        f"{len(scenario.doctors)} {text('doctors_word', language)}; {text('made_at', language)} "
        f"{generated_at:%Y-%m-%d %H:%M} UTC. {text('fees_total', language)}: "
        f"€ {fees:,.2f}.</p>",
        f"<h2>{text('summary', language)}</h2>",
        _summary(stats, language),
        f"<h2>{text('fairness', language)}</h2>",
        _table(stats.fairness, language),
        f"<h2>{text('per_area', language)}</h2>",
        *_per_area(scenario, stats, language),
        f"<h2>{text('workload', language)}</h2>",
        _gaps(stats, language),
        f"<h2>{text('coverage', language)}</h2>",
        _coverage(stats, language),
        "</body></html>",
    ]
    return "\n".join(parts).encode("utf-8")
