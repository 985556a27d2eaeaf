"""CLI: exit codes 0/3/4/5, golden output, files written only on success."""

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from wachtplanner.cli import main

UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    print(result.output)
    return result


def test_validate_golden(data_dir):
    """`validate` on a valid file exits 0 with the summary pinned in a golden file."""
    result = run("validate", data_dir / "valid_small.yaml")
    assert result.exit_code == 0
    golden = data_dir / "golden" / "validate_small.txt"
    expected = result.output.replace(str(data_dir), "DATA")
    if UPDATE_GOLDEN:
        golden.write_text(expected)
    assert expected == golden.read_text()


def test_invalid_scenario_exits_3(data_dir):
    """Invalid files exit 3 and list every problem on stderr."""
    result = run("validate", data_dir / "invalid" / "several_problems.yaml")
    assert result.exit_code == 3
    assert "problem(s) found" in result.output


def test_missing_file_exits_3(tmp_path):
    """A scenario path that does not exist is an input problem (3)."""
    assert run("validate", tmp_path / "nope.yaml").exit_code == 3


def test_infeasible_exits_4_with_reasons(scenarios_dir, tmp_path):
    """The infeasible example exits 4, names shifts and why doctors are out, writes nothing."""
    result = run("solve", scenarios_dir / "infeasible.yaml", "-o", tmp_path / "out", "-q")
    assert result.exit_code == 4
    assert "weekend/post/2027-03-05" in result.output
    assert "0 eligible" in result.output
    assert "exempt (aerts)" in result.output
    assert not (tmp_path / "out" / "roster.csv").exists()


def test_solve_then_check_exits_0(data_dir, tmp_path):
    """A solved roster has the SPEC columns and passes `check`."""
    out = tmp_path / "out"
    result = run(
        "solve",
        data_dir / "valid_small.yaml",
        "-o",
        out,
        "--time-limit",
        "10",
        "--workers",
        "1",
        "-q",
    )
    assert result.exit_code == 0
    header = (out / "roster.csv").read_text().splitlines()[0]
    assert header == "shift_id,shift_type,scope_id,start,end,hours,doctor_id,doctor_name,points"
    document = json.loads((out / "roster.json").read_text())
    assert {"status", "objective", "bound", "gap", "wall_time_s", "scenario_hash"} <= set(document)
    assert run("check", data_dir / "valid_small.yaml", out / "roster.csv").exit_code == 0
    assert run("check", data_dir / "valid_small.yaml", out / "roster.json").exit_code == 0


def test_check_hand_made_roster_exits_5(data_dir, tmp_path):
    """A hand-made roster with an exempt doctor and a gap exits 5 and names the rules."""
    roster = tmp_path / "roster.csv"
    roster.write_text("shift_id,doctor_id\nweeknight/noord/2027-02-01,an-peeters\n")
    result = run("check", data_dir / "valid_small.yaml", roster)
    assert result.exit_code == 5
    assert "HARD exemption" in result.output
    assert "HARD coverage" in result.output


def test_check_unknown_shift_exits_3(data_dir, tmp_path):
    """A roster row naming a shift the scenario does not have is an input problem."""
    roster = tmp_path / "roster.csv"
    roster.write_text("shift_id,doctor_id\nweeknight/zuid/2027-02-01,an-peeters\n")
    result = run("check", data_dir / "valid_small.yaml", roster)
    assert result.exit_code == 3
    assert "row 2: shift_id 'weeknight/zuid/2027-02-01'" in result.output


def test_failed_solve_keeps_previous_outputs(data_dir, scenarios_dir, tmp_path):
    """An infeasible re-run leaves the earlier roster files untouched."""
    out = tmp_path / "out"
    assert (
        run("solve", data_dir / "valid_small.yaml", "-o", out, "-q", "--workers", "1").exit_code
        == 0
    )
    before = (out / "roster.csv").read_bytes()
    assert run("solve", scenarios_dir / "infeasible.yaml", "-o", out, "-q").exit_code == 4
    assert (out / "roster.csv").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".wachtplanner-")]


def test_schema_is_json():
    """`schema` prints a JSON Schema naming the scenario keys."""
    result = run("schema")
    assert result.exit_code == 0
    assert {"doctors", "shift_types", "rules"} <= set(json.loads(result.output)["properties"])


def test_usage_error_exits_2():
    """A missing option is a usage error."""
    assert run("solve").exit_code == 2


def test_the_command_loads_only_what_it_runs():
    """Loading the CLI does not load the web app, the store or Dask: a command's module is
    imported when it runs (``validate`` or ``solve`` started 0.5 s slower before)."""
    code = (
        "import sys; import wachtplanner.cli; "
        "print(sorted(m for m in ('sqlalchemy', 'starlette', 'uvicorn', 'distributed', "
        "'ortools') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
