"""Hostile input through the CLI: exit 3 with a located message, never a traceback, bounded memory.

Scenario files live in tests/data/invalid/, roster files in tests/data/invalid/rosters/, and
rosters Excel or LibreOffice write in encodings other than plain UTF-8 in tests/data/rosters/.
Each message is pinned. Memory is bounded by running the command under an address-space limit
of 1 GiB (the alias bomb grew past 3 GB before); nothing is timed.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from wachtplanner.cli import main

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data"
SMALL = DATA / "valid_small.yaml"
INVALID_ROSTERS = DATA / "invalid" / "rosters"
ONE_GIB = 1024**3


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ONE_GIB, ONE_GIB))


def _cli(*args: object) -> subprocess.CompletedProcess[str]:
    """Run the real command in a child with at most 1 GiB of address space."""
    return subprocess.run(
        [sys.executable, "-m", "wachtplanner", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=_limit_memory,
    )


@dataclass(frozen=True)
class Outcome:
    """Exit code and output of one command."""

    returncode: int
    stdout: str
    stderr: str


def _cli_here(*args: object) -> Outcome:
    """Run the command in this process (for inputs that cannot grow: fast)."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    return Outcome(result.exit_code, result.stdout, result.stderr)


def _assert_refused(
    result: subprocess.CompletedProcess[str] | Outcome, path: Path, pattern: str
) -> None:
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "Internal error" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(str(path)), first
    assert re.search(pattern, first), first


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("alias_bomb.yaml", r"refused: its aliases \(\*name\) expand to more than 1,000,000"),
        ("deep_nesting.yaml", r"refused: nested deeper than 32 levels"),
        ("deep_nesting.json", r"refused: nested deeper than 32 levels"),
        ("nan_fte.yaml", r"doctors\[an-peeters\]\.fte: nan is not a finite number"),
        ("horizon_year_9999.yaml", r"horizon\.start: 9999-12-01 is out of range"),
        ("name_cr.yaml", r"contains a line break \('\\r'\)"),
    ],
)
def test_validate_and_solve_refuse_hostile_scenarios(tmp_path, name, pattern):
    """`validate` and `solve` both exit 3 with the located message, within 1 GiB."""
    path = DATA / "invalid" / name
    _assert_refused(_cli("validate", path), path, pattern)
    _assert_refused(_cli("solve", path, "-o", tmp_path / "out", "-q"), path, pattern)
    assert not (tmp_path / "out").exists()


def test_horizon_without_duties_is_refused(tmp_path):
    """A horizon on which no shift type runs: validate said 'valid' and solve crashed; now both
    name the horizon (Mon 1 - Fri 5 Feb 2027 with a Saturday-only type has no duty)."""
    path = DATA / "invalid" / "no_shifts.yaml"
    pattern = r"horizon: no shift type runs from 2027-02-01 to 2027-02-05; expected at least one"
    _assert_refused(_cli("validate", path), path, pattern)
    _assert_refused(_cli("solve", path, "-o", tmp_path / "out", "-q"), path, pattern)


def test_horizon_outside_the_supported_years(tmp_path):
    """A horizon in 2150 is a valid date but no roster year: the message names the years."""
    text = SMALL.read_text().replace("2027-02-01", "2150-02-01").replace("2027-02-28", "2150-02-28")
    path = tmp_path / "far.yaml"
    path.write_text(text)
    _assert_refused(
        _cli_here("validate", path),
        path,
        r"horizon: start 2150-02-01 is out of range; expected a date",
    )


def test_huge_scenario_file_is_refused_before_reading(tmp_path):
    """A 48 MB scenario with 4 million avoid dates was killed at 3 GB; now its size is named."""
    path = tmp_path / "huge.yaml"
    head = SMALL.read_text()
    with path.open("w") as handle:
        handle.write(head)
        handle.write("    avoid:\n")
        line = "      - 2027-02-03\n"
        handle.write(line * (48 * 1024 * 1024 // len(line)))
    _assert_refused(
        _cli("validate", path), path, r"is 4\d\.\d MB; expected a scenario file of at most 4\.0 MB"
    )


def test_too_many_avoid_dates_below_the_size_limit(tmp_path):
    """Under the size limit a list can still be absurd: its length is refused with its place."""
    path = tmp_path / "many.yaml"
    text = SMALL.read_text().replace(
        "    birth_date: 1962-04-01\n",
        "    birth_date: 1962-04-01\n    avoid:\n" + "      - 2027-02-03\n" * 1500,
    )
    path.write_text(text)
    _assert_refused(
        _cli_here("validate", path),
        path,
        r"doctors\[an-peeters\]\.avoid: a list of 1500 items is too long; expected at most 1000",
    )


ROSTER_CASES = [
    ("long_field.csv", r"row 2: not readable as CSV \(field larger than field limit"),
    ("not_workbook.xlsx", r"is not a readable Excel workbook \(damaged, truncated or another"),
    ("truncated.xlsx", r"is not a readable Excel workbook"),
    ("deep_roster.json", r"refused: nested deeper than 16 levels"),
    ("store.db", r"is an SQLite database \(a \.db store\?\), not text; expected a roster file"),
    ("store_as.csv", r"is an SQLite database"),
    ("other_scenario.json", r"was made for another scenario \(scenario_hash [0-9a-f]{12}, this "),
]


@pytest.mark.parametrize("command", ["check", "stats", "export", "publish"])
@pytest.mark.parametrize(("name", "pattern"), ROSTER_CASES)
def test_bad_roster_files_exit_3_naming_the_file(tmp_path, command, name, pattern):
    """Every command that reads a roster names the file and what is wrong with it."""
    path = INVALID_ROSTERS / name
    args: list[object] = [command, SMALL, path]
    if command == "export":
        args += ["-o", tmp_path / "out"]
    if command == "publish":
        args += ["--db", tmp_path / "store.db"]
    _assert_refused(_cli_here(*args), path, pattern)
    assert not (tmp_path / "store.db").exists()


def test_another_scenarios_roster_leads_with_one_line():
    """The cause comes first, then at most 20 details (4 474 lines before)."""
    path = INVALID_ROSTERS / "other_scenario.json"
    result = _cli_here("check", SMALL, path)
    lines = result.stderr.splitlines()
    assert "was made for another scenario" in lines[0]
    assert len(lines) <= 23


@pytest.mark.parametrize("name", ["bom.csv", "latin1.csv", "utf16.csv", "semicolon.csv"])
def test_rosters_as_excel_saves_them_are_read(name):
    """Excel's "CSV UTF-8" (BOM), Belgian "CSV" (Windows-1252, ';'), "Unicode text" (UTF-16,
    tabs), each with accented names: the roster is read and checked (0 hard violations)."""
    result = _cli_here("check", SMALL, DATA / "rosters" / name)
    assert result.returncode == 0, result.stderr
    assert "0 hard violation(s)" in result.stdout
