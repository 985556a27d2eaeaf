"""Statistics agree with the checker, fees follow domain.md §3, the workbook round-trips the
roster, and the GP-list import reports bad cells by row and column."""

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from wachtplanner.cli import main
from wachtplanner.domain.rules import FeePolicy
from wachtplanner.exceptions import ScenarioError
from wachtplanner.export.tables import workbook
from wachtplanner.io.doctor_import import import_doctors
from wachtplanner.io.roster_files import load_roster
from wachtplanner.stats import compute_statistics, qualifying_hours

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data" / "import"
BRUSSELS = ZoneInfo("Europe/Brussels")
WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def demo(demo_solved):
    """The demo scenario, its checked roster, and the roster's statistics."""
    scenario, result = demo_solved
    assert result.evaluation is not None
    stats = compute_statistics(scenario, result.shifts, result.roster, result.evaluation)
    return scenario, result, stats


def test_statistics_match_the_checker(demo):
    """Per tag the largest deviation and the rows outside band equal the checker's figures, and
    per doctor the points equal the sum of the checker's points over tags."""
    _, result, stats = demo
    rows = pd.DataFrame([dataclasses.asdict(r) for r in result.evaluation.fairness])
    for tag, group in rows.groupby("tag"):
        summary = stats.fairness.set_index("tag").loc[tag]
        assert summary["largest_abs_deviation"] == pytest.approx(group["deviation"].abs().max())
        assert summary["outside_band"] == int((group["excess"] > 0).sum())
    per_doctor = rows.groupby("doctor_id")["points"].sum()
    doctors = stats.doctors.set_index("doctor_id")
    for doctor_id, points in per_doctor.items():
        assert doctors.loc[doctor_id, "points"] == pytest.approx(points, abs=0.01)
    assert stats.units["coverage"].eq(1.0).all()
    assert stats.doctors["share"].sum() == pytest.approx(1.0, abs=1e-4)  # shares are rounded


def _shift(demo, shift_id):
    _, result, _ = demo
    return next(s for s in result.shifts if s.shift_id == shift_id)


def test_qualifying_hours_by_hand(demo):
    """Weeknight 19:00-08:00 = 13 h; day duty 0 h; a plain weekend (61 h) is capped at 48 h; the
    Easter block Fri 26 Mar 19:00 - Tue 30 Mar 08:00 (84 real hours) is per moment: the weekend
    to Mon 08:00 (60 real h, capped at 48), Easter Monday 08:00-24:00 (16 h; before 08:00 the
    weekend wins) and Tuesday 00:00-08:00 as a weekday night (8 h): 48 + 16 + 8 = 72."""
    fees = FeePolicy()
    weeknight = next(s for s in demo[1].shifts if s.shift_type == "weeknight")
    day = next(s for s in demo[1].shifts if s.shift_type == "dagwacht")
    assert qualifying_hours(weeknight, fees) == 13
    assert qualifying_hours(day, fees) == 0
    assert qualifying_hours(_shift(demo, "weekend/wachtpost/2027-01-08"), fees) == 48
    assert qualifying_hours(_shift(demo, "weekend/wachtpost/2027-03-26"), fees) == 72


def test_night_window_across_autumn_dst(demo):
    """A 19:00-08:00 night over the October change lasts 14 real hours, all qualifying."""
    weeknight = next(s for s in demo[1].shifts if s.shift_type == "weeknight")
    autumn = dataclasses.replace(
        weeknight,
        start=datetime(2027, 10, 30, 19, 0, tzinfo=BRUSSELS),
        end=datetime(2027, 10, 31, 8, 0, tzinfo=BRUSSELS),
    )
    assert autumn.hours == 14
    assert qualifying_hours(autumn, FeePolicy()) == 14


def test_fee_is_paid_to_whoever_does_the_duty(demo):
    """Each doctor's fee is their own qualifying hours x the year's rate (6.20 EUR in 2027 by
    default): a trainee's duties pay the trainee, not the supervisor."""
    scenario, result, stats = demo
    by_id = {s.shift_id: s for s in result.shifts}
    fees = scenario.rules.fees
    for doctor in scenario.doctors:
        own = [by_id[a.shift_id] for a in result.roster.assignments if a.doctor_id == doctor.id]
        expected = sum(qualifying_hours(s, fees) * 6.20 for s in own)
        assert stats.doctors.set_index("doctor_id").loc[doctor.id, "fee_eur"] == pytest.approx(
            expected, abs=0.01
        )


def test_workbook_opens_and_round_trips_the_roster(demo, tmp_path):
    """The .xlsx opens with openpyxl and pandas, has the sheets, and reads back to the roster."""
    scenario, result, stats = demo
    path = tmp_path / "roster.xlsx"
    path.write_bytes(workbook(scenario, result.shifts, result.roster, stats, generated_at=WHEN))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Rooster",
        "Rooster per datum",
        "Artsen",
        "Billijkheid",
        "Per eenheid en maand",
        "Info",
    ]
    sheet = pd.read_excel(path, sheet_name="Rooster")
    assert pd.api.types.is_datetime64_any_dtype(sheet["Begin"])
    assert load_roster(path, scenario, result.shifts) == result.roster


def test_import_good_list_gives_valid_doctors():
    """A clean GP list becomes practices and doctors with typed values and leave periods."""
    sections = import_doctors(DATA / "doctors_good.csv")
    assert [d["id"] for d in sections["doctors"]] == ["ann-peeters", "elise-dubois"]
    assert sections["doctors"][0]["unavailable"][1] == {"from": "2027-12-20", "to": "2027-12-31"}
    assert sections["practices"][0] == {
        "id": "praktijk-de-linde",
        "name": "Praktijk De Linde",
        "area": "noord",
    }


def test_import_bad_list_names_every_row_and_column():
    """Every bad cell is reported at once, by spreadsheet row number and column."""
    with pytest.raises(ScenarioError) as caught:
        import_doctors(DATA / "doctors_bad.csv")
    places = [issue.location.split(": ", 1)[1] for issue in caught.value.issues]
    assert places == [
        "row 3, column leave",
        "row 3, column fte",
        "row 3, column gmd",
        "row 3, column birth_date",
        "row 4, column name",
    ]


def test_export_from_roster_json_reproduces_solve_feeds(tmp_path):
    """`export --format ical` of the roster.json that `solve` wrote gives the same feed bytes."""
    runner = CliRunner()
    small = str(ROOT / "tests" / "data" / "valid_small.yaml")
    solved = runner.invoke(
        main,
        ["solve", small, "-o", str(tmp_path / "a"), "--time-limit", "5", "--workers", "1", "-q"],
    )
    assert solved.exit_code == 0, solved.output
    exported = runner.invoke(
        main,
        [
            "export",
            small,
            str(tmp_path / "a" / "roster.json"),
            "--format",
            "ical",
            "--format",
            "xlsx",
            "--format",
            "html",
            "-o",
            str(tmp_path / "b"),
        ],
    )
    assert exported.exit_code == 0, exported.output
    for feed in (tmp_path / "a" / "ical").iterdir():
        assert (tmp_path / "b" / "ical" / feed.name).read_bytes() == feed.read_bytes()
    stats = runner.invoke(main, ["stats", small, str(tmp_path / "a" / "roster.json"), "--json"])
    assert stats.exit_code == 0, stats.output
    assert '"fees_total_eur"' in stats.output
