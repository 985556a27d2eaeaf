"""``wachtplanner export``: a roster as calendar feeds, an Excel workbook or the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from wachtplanner.cli.options import (
    language_option,
    output_dir_option,
    previous_option,
    scenario_argument,
)
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.export.grid import grid_html
from wachtplanner.export.ical import duty_versions, feeds
from wachtplanner.export.labels import Language
from wachtplanner.export.report import report_html
from wachtplanner.export.tables import workbook
from wachtplanner.io.atomic import replace_folder
from wachtplanner.io.roster_files import duty_history, load_roster
from wachtplanner.io.scenario_files import load_scenario_shifts
from wachtplanner.stats import compute_statistics


@click.command("export")
@scenario_argument
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "formats",
    type=click.Choice(["ical", "xlsx", "html", "grid"]),
    multiple=True,
    default=("ical",),
    show_default=True,
    help="Repeatable.",
)
@output_dir_option("Folder for ical/, roster.xlsx, report.html and grid.html.")
@previous_option
@language_option
def command(
    scenario: Path,
    roster: Path,
    formats: tuple[str, ...],
    out_dir: Path,
    previous: Path | None,
    language: Language,
) -> None:
    """Write ROSTER as ical/ feeds, roster.xlsx, report.html and/or grid.html into OUTPUT.

    The version time is the roster.json's generated_at (or the roster file's modification
    time), so exporting an unchanged roster again gives byte-identical files.
    """
    loaded, shifts = load_scenario_shifts(scenario)
    chosen = load_roster(roster, loaded, shifts)
    own_history, own_time = duty_history(roster) if roster.suffix.lower() == ".json" else ({}, None)
    version_time = own_time or datetime.fromtimestamp(roster.stat().st_mtime, tz=UTC).replace(
        microsecond=0
    )
    history = duty_history(previous)[0] if previous is not None else own_history
    files: dict[str, bytes] = {}
    if "ical" in formats:
        versions = duty_versions(shifts, chosen, version_time, history)
        for name, content in feeds(loaded, shifts, chosen, versions).items():
            files[f"ical/{name}"] = content
    if "xlsx" in formats or "html" in formats:
        stats = compute_statistics(loaded, shifts, chosen, evaluate_roster(loaded, shifts, chosen))
        if "xlsx" in formats:
            files["roster.xlsx"] = workbook(
                loaded, shifts, chosen, stats, generated_at=version_time, language=language
            )
        if "html" in formats:
            files["report.html"] = report_html(
                loaded, stats, generated_at=version_time, language=language
            )
    if "grid" in formats:
        files["grid.html"] = grid_html(
            loaded, shifts, chosen, generated_at=version_time, language=language
        )
    replace_folder(out_dir, files, command="export")
    click.echo(f"Wrote {len(files)} file(s) to {out_dir}/.")
