"""A CLI that never misleads, and outputs a coordinator can read at 250-500 GPs."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import click
import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from tests.helpers import scenario_of, tiny_doc
from tests.store.test_store import NIGHTS
from wachtplanner.cli import main
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.expand import expand_shifts
from wachtplanner.export.grid import grid_frame, grid_html
from wachtplanner.export.labels import Language
from wachtplanner.export.report import LABEL_LIMIT, report_html
from wachtplanner.export.tables import workbook
from wachtplanner.io.doctor_import import import_doctors
from wachtplanner.stats import compute_statistics

WHEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def test_every_help_text_is_plain_text():
    """No command's --help shows reStructuredText backticks; every command is listed at the
    top; issue's help does not describe rotate."""
    runner = CliRunner()
    top = runner.invoke(main, ["--help"]).output
    for path, _ in _all_commands(main):
        if len(path) == 1:
            assert f"  {path[0]} " in top or f"  {path[0]}\n" in top, path
        text = runner.invoke(main, [*path, "--help"]).output
        assert "``" not in text, path
        assert "`" not in text, path
    issue = runner.invoke(main, ["token", "issue", "--help"]).output
    rotate = runner.invoke(main, ["token", "rotate", "--help"]).output
    assert "revoke" not in issue.lower()
    assert "revoke" in rotate.lower()


def test_token_urls_keep_the_given_scheme(tmp_path):
    """--base-url http://localhost:8000 prints an http:// URL (it printed https:// before)."""
    doc = tiny_doc(4, rules={"min_rest_hours": 11})
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(doc))
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "shift_id,doctor_id\n"
        + "".join(f"weeknight/noord/{day},d{n % 2}\n" for n, day in enumerate(NIGHTS))
    )
    runner = CliRunner()
    db = str(tmp_path / "s.db")
    assert runner.invoke(main, ["publish", str(scenario), str(roster), "--db", db]).exit_code == 0
    out = runner.invoke(
        main,
        ["token", "issue", str(scenario), "d0", "--base-url", "http://localhost:8000", "--db", db],
    ).output.splitlines()
    assert out[0].startswith("webcal://localhost:8000/feeds/")
    assert out[1].startswith("http://localhost:8000/feeds/")


def test_singular_and_plural_in_validate(data_dir):
    """'1 area, 1 post', not '1 areas, 1 posts'."""
    output = CliRunner().invoke(main, ["validate", str(data_dir / "valid_small.yaml")]).output
    assert "1 area, 1 post," in output


def test_import_reads_a_belgian_spreadsheet(data_dir):
    """Dutch headers with spaces and apostrophes, ';' separators, 0,8 and 1.500, day-first dates,
    leave periods and avoid dates; the unknown column 'Telefoon' is warned about, not dropped
    silently."""
    warnings: list[str] = []
    sections = import_doctors(data_dir / "import" / "doctors_belgian.csv", warnings)
    ann, elise = sections["doctors"]
    assert (ann["fte"], ann["gmd"], ann["birth_date"]) == (0.8, 1500, "1971-04-02")
    assert ann["unavailable"] == [
        {"from": "2027-07-01", "to": "2027-07-21"},
        {"from": "2027-12-20", "to": "2027-12-31"},
    ]
    assert ann["avoid"] == ["2027-12-24", "2027-12-31"]
    assert elise["birth_date"] == "1980-01-01"
    assert len(warnings) == 1
    assert "'Telefoon' is not known" in warnings[0]


def test_import_english_headers_with_spaces(tmp_path):
    """'Birth date' (as the README writes it) is read, not silently lost."""
    path = tmp_path / "gps.csv"
    path.write_text('Name,Area,Birth date,FTE\nDr. Jan Maes,noord,1960-05-01,"1,0"\n')
    doctor = import_doctors(path)["doctors"][0]
    assert doctor["birth_date"] == "1960-05-01"
    assert doctor["fte"] == 1.0


@pytest.fixture
def year_of_nights():
    """Four doctors on weeknights from October to January: months run across a year end."""
    doc = tiny_doc(4, horizon={"start": "2026-10-01", "end": "2027-01-31"})
    scenario = scenario_of(doc)
    shifts = expand_shifts(scenario)
    from wachtplanner.domain.roster import Assignment, Roster

    roster = Roster(
        assignments=tuple(
            Assignment(shift_id=s.shift_id, doctor_id=f"d{n % 4}") for n, s in enumerate(shifts)
        )
    )
    evaluation = evaluate_roster(scenario, shifts, roster)
    return scenario, shifts, roster, compute_statistics(scenario, shifts, roster, evaluation)


def test_months_are_in_calendar_order(year_of_nights):
    """duties_per_month lists 2026-10, 11, 12, 2027-01 in that order (it followed frequency)."""
    _, _, _, stats = year_of_nights
    assert list(stats.duties_per_month.columns) == ["2026-10", "2026-11", "2026-12", "2027-01"]


def test_workbook_is_readable_in_dutch_and_english(year_of_nights):
    """Dutch sheets and headers (names next to ids), frozen header row and filters on every
    sheet, and a date x unit grid with one row per day; the English workbook likewise."""
    scenario, shifts, roster, stats = year_of_nights
    cases: list[tuple[Language, list[str], str]] = [
        ("nl", ["Rooster", "Rooster per datum", "Artsen", "Billijkheid"], "Naam"),
        ("en", ["Roster", "Roster by date", "Doctors", "Fairness"], "Name"),
    ]
    for language, sheets, name_header in cases:
        book = openpyxl.load_workbook(
            io.BytesIO(
                workbook(scenario, shifts, roster, stats, generated_at=WHEN, language=language)
            )
        )
        assert set(sheets) <= set(book.sheetnames)
        for sheet in book.worksheets:
            assert sheet.freeze_panes == "A2", sheet.title
        doctors = book[sheets[2]]
        headers = [c.value for c in doctors[1]]
        assert name_header in headers
        assert "target_points" not in headers
        assert doctors.auto_filter.ref
        grid = book[sheets[1]]
        assert grid.max_row == 1 + (scenario.horizon.end - scenario.horizon.start).days + 1


def test_grid_names_who_is_on_duty_per_day(year_of_nights):
    """The grid's cell for Monday 5 Oct 2026 names the doctor (not the id), with the start."""
    scenario, shifts, roster, _ = year_of_nights
    frame = grid_frame(scenario, shifts, roster)
    monday = frame[frame["Datum"].astype(str) == "2026-10-05"].iloc[0]
    assert "Dr. " in monday["WDO Noord – Weekwacht"]
    assert "(19:00)" in monday["WDO Noord – Weekwacht"]
    page = grid_html(scenario, shifts, roster, generated_at=WHEN).decode()
    assert page.count("<section>") == 4  # one printable page per month


@pytest.mark.slow
def test_report_groups_by_area_and_never_labels_hundreds_of_bars():
    """500 GPs in 8 areas: one collapsible section per area, each chart at most one area's
    doctors (labels only up to LABEL_LIMIT), named; months in calendar order."""
    from benchmarks.generate import generate

    scenario = scenario_of(generate(500, 8, 2027, quarter=1, seed=500))
    shifts = expand_shifts(scenario)
    from wachtplanner.solver.greedy import greedy_roster
    from wachtplanner.solver.instance import compile_instance

    instance = compile_instance(scenario, shifts)
    roster = instance.roster_of(greedy_roster(instance).chosen)
    stats = compute_statistics(scenario, shifts, roster, evaluate_roster(scenario, shifts, roster))
    page = report_html(scenario, stats, generated_at=WHEN).decode()
    assert page.count("<details") == 8
    per_area = stats.doctors.groupby("area").size()
    assert per_area.max() > LABEL_LIMIT  # kempen has 71: its charts carry no names
    figures = re.findall(r"<figure.*?</figure>", page, flags=re.S)
    labels = [figure.count("<!-- Dr. ") for figure in figures]  # matplotlib's text comments
    assert max(labels) <= LABEL_LIMIT
    assert sum(1 for count in labels if count > 0) >= 7  # the other areas' charts name them
    assert "Dr. " in page
    heat_map = next(f for f in figures if 'id="heat-map-0"' in f)
    months = [heat_map.index(f"<!-- 2027-0{m} -->") for m in (1, 2, 3)]
    assert months == sorted(months)  # the heat map's columns in calendar order


def test_report_is_readable_in_dutch_and_english(year_of_nights):
    """The report's headings in the language asked, Dutch unless told otherwise."""
    scenario, _, _, stats = year_of_nights
    dutch = report_html(scenario, stats, generated_at=WHEN).decode()
    english = report_html(scenario, stats, generated_at=WHEN, language="en").decode()
    assert "Billijkheid per soort dienst" in dutch
    assert "Fairness per kind of duty" not in dutch
    assert "Fairness per kind of duty" in english
    assert "Billijkheid" not in english


def test_solve_honours_a_doctor_loss(tmp_path):
    """A doctor_loss event in the scenario: solve gives the lost doctor no duty from its date
    (it did before, without a word), as replan and simulate read it."""
    doc = tiny_doc(4, rules={"min_rest_hours": 11})
    doc["events"] = [{"type": "doctor_loss", "doctor": "d0", "date": "2027-02-09"}]
    path = tmp_path / "loss.yaml"
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(path), "-o", str(out), "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = (out / "roster.csv").read_text().splitlines()[1:]
    late = [r for r in rows if ",d0," in r and r.split(",")[0] >= "weeknight/noord/2027-02-09"]
    assert late == []
