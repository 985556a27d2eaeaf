"""`wachtplanner sweep` on Dask: the same answers on 1 or 2 workers and on a real scheduler,
failures recorded, interrupted sweeps resumed, bad grids refused with their place."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.helpers import tiny_doc
from wachtplanner.cli import main
from wachtplanner.io.scenario_files import read_document
from wachtplanner.sweep.engine import WORK_SUFFIX, Cluster, run_sweep
from wachtplanner.sweep.grid import load_grid

STORY = Path(__file__).parents[2] / "scenarios" / "loss-2000-gmd-noodpunt.yaml"
SIX = {
    "continuity.intake_per_week_per_fte": [15, 20, 25],
    "zip": [
        {
            "continuity.gmd_capacity_per_fte": [1800, 1800],
            "emergency_points[noodpunt-dorp].sessions_per_week": [0, 10],
        }
    ],
}
"""3 intakes x 2 zipped (capacity, sessions) pairs = 6 runs."""


def _grid(tmp_path: Path, grid: dict[str, object]) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid, sort_keys=False), encoding="utf-8")
    return path


def _sweep(*args: str) -> str:
    result = CliRunner().invoke(main, ["sweep", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The six runs' sweep.csv on a LocalCluster of 1 worker, made once for this file's tests
    (each LocalCluster takes seconds to start)."""
    folder = tmp_path_factory.mktemp("one-worker")
    out = folder / "out"
    _sweep(str(STORY), "--grid", str(_grid(folder, SIX)), "-o", str(out), "--workers", "1")
    return (out / "sweep.csv").read_bytes()


@pytest.mark.slow
def test_two_workers_give_the_same_sweep_as_one(tmp_path, one_worker):
    """Six runs of the 2000-GMD story on a LocalCluster of 2 workers and of 1: the same
    sweep.csv byte for byte. By hand: at 1800 GMD per FTE the four GPs (3.2 FTE, 3000 GMDs)
    have room for 2760 of the 2000, so all are placed; at 25 a week per FTE they take 80 a
    week: 2000 / 80 = 25 weeks."""
    grid = _grid(tmp_path, SIX)
    out = tmp_path / "out-2"
    _sweep(str(STORY), "--grid", str(grid), "-o", str(out), "--workers", "2")
    assert (out / "sweep.csv").read_bytes() == one_worker
    lines = one_worker.decode("utf-8").splitlines()
    assert lines[0] == (
        "continuity.intake_per_week_per_fte,continuity.gmd_capacity_per_fte,"
        "emergency_points[noodpunt-dorp].sessions_per_week,weeks_until_all_attached,"
        "peak_unattached,unmet_contacts,gp_poor_weeks,error,run"
    )
    assert len(lines) == 7
    assert lines[5].startswith("25,1800,0,25,1920,")  # 2000 - 80 in week 0
    report = (tmp_path / "out-2" / "report.html").read_text(encoding="utf-8")
    assert 'class="ok">25' in report  # within 26 weeks: green


def test_a_failed_run_is_recorded_and_the_others_complete(tmp_path):
    """With --solve, need 9 on a 4-GP weeknight cannot be covered: that run records the
    reason; the run with need 1 re-plans the base roster (nothing to change: 0 duties)."""
    doc = tiny_doc(4)
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(doc), encoding="utf-8")
    grid = _grid(tmp_path, {"shift_types[weeknight].need": [1, 9]})
    out = tmp_path / "out"
    _sweep(str(scenario), "--grid", str(grid), "-o", str(out), "--workers", "1", "--solve",
           "--deterministic-time", "0.5")  # fmt: skip
    with (out / "sweep.csv").open(encoding="utf-8", newline="") as table:
        reader = csv.DictReader(table)
        ok, failed = list(reader)
    assert list(ok)[-6:] == ["status", "gap", "largest_deviation", "changed_duties", "error", "run"]
    assert ok["status"] in ("OPTIMAL", "FEASIBLE")
    assert ok["changed_duties"] == "0"
    assert ok["error"] == ""
    assert "ScenarioInfeasibleError" in failed["error"]
    assert (out / "runs" / ok["run"] / "roster.csv").is_file()


@pytest.mark.slow
def test_an_interrupted_sweep_resumes_without_redoing_finished_runs(tmp_path, one_worker):
    """Stopped after 2 of 6 results (as by Ctrl-C): the work folder keeps them; the next sweep
    reuses those 2, runs 4, and gives the same sweep.csv as an uninterrupted one."""
    grid = _grid(tmp_path, SIX)
    base = read_document(STORY)
    axes, runs = load_grid(grid, base)
    out = tmp_path / "out"
    seen: list[str] = []

    def stop_after_two(result):
        seen.append(result.run_id)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(runs, axes, out, base_document=base, cluster=Cluster(workers=1),
                  on_result=stop_after_two)  # fmt: skip
    assert not out.exists()
    work = tmp_path / f"out{WORK_SUFFIX}"
    assert {p.name for p in (work / "runs").iterdir()} == set(seen)
    again: list[str] = []
    resumed = run_sweep(runs, axes, out, base_document=base, cluster=Cluster(workers=1),
                        on_result=lambda result: again.append(result.run_id))  # fmt: skip
    assert (resumed.reused, resumed.ran) == (2, 4)
    assert len(again) == 4
    assert not set(again) & set(seen)  # the two finished runs were not run again
    for run in seen:
        assert (out / "runs" / run / "timeline.csv").is_file()
    assert not work.exists()
    assert (out / "sweep.csv").read_bytes() == one_worker


def test_a_bad_grid_is_refused_with_every_place(tmp_path):
    """Exit 3 before anything runs: an unknown key, a missing list item, a position past the
    end and a value of the wrong type, all at once, each with the grid file and the key."""
    grid = _grid(
        tmp_path,
        {
            "continuity.intake_per_weak": [1],
            "emergency_points[nope].sessions_per_week": [1],
            "events[9].date": ["2027-01-01"],
            "continuity.intake_per_week_per_fte": ["many"],
        },
    )
    result = CliRunner().invoke(main, ["sweep", str(STORY), "--grid", str(grid), "-o",
                                       str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 3, result.output
    for expected in (
        f"{grid}: emergency_points[nope].sessions_per_week: emergency_points has no item 'nope'",
        f"{grid}: events[9].date: events has 1 items; there is no [9].",
        "continuity.intake_per_week_per_fte: 'many' is not a number.",
        "continuity.intake_per_weak: unknown key 'intake_per_weak'",
    ):
        assert expected in result.output
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / f"out{WORK_SUFFIX}").exists()


@pytest.mark.slow
def test_a_sweep_on_a_real_dask_scheduler_and_worker(tmp_path, one_worker):
    """`dask scheduler` and `dask worker` started here on 127.0.0.1 (separate processes, as
    on a cluster): the sweep runs there and gives the same sweep.csv as the local cluster."""
    dask = shutil.which("dask") or str(Path(sys.executable).parent / "dask")
    scheduler_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--scheduler-file", str(scheduler_file), *common],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = None
    try:
        for _ in range(300):
            if scheduler_file.exists() and scheduler_file.stat().st_size > 0:
                break
            time.sleep(0.1)
        worker = subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(scheduler_file), "--nworkers", "1",
             "--nthreads", "1", *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        grid = _grid(tmp_path, SIX)
        remote = tmp_path / "remote"
        _sweep(str(STORY), "--grid", str(grid), "-o", str(remote),
               "--scheduler-file", str(scheduler_file))  # fmt: skip
        assert (remote / "sweep.csv").read_bytes() == one_worker
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def test_the_sweep_report_renders_in_a_browser(browser, tmp_path):
    """The report of a 3-run sweep in Chromium: the decision table with one green cell (at
    1800 GMDs per FTE and 25 new patients a week per FTE everyone has a GP in 25 weeks) and a
    drawn chart per outcome; nothing is fetched."""
    from selenium.webdriver.common.by import By

    from wachtplanner.sweep.grid import parse_grid
    from wachtplanner.sweep.report import sweep_report

    axes = parse_grid({"continuity.intake_per_week_per_fte": [15, 20, 25]}, "grid.yaml")
    rows = [
        {"continuity.intake_per_week_per_fte": intake, "weeks_until_all_attached": weeks,
         "peak_unattached": 1952, "unmet_contacts": unmet, "gp_poor_weeks": 53, "error": ""}
        for intake, weeks, unmet in ((15, 42, 3531.5), (20, 32, 2627.1), (25, 25, 2084.7))
    ]  # fmt: skip
    page = tmp_path / "report.html"
    content = sweep_report(rows, axes, solve=False)
    for loads_something in (b'src="', b"<script", b"<link", b"@import"):
        assert loads_something not in content
    page.write_bytes(content)
    browser.get(page.as_uri())
    green = browser.find_elements(By.CSS_SELECTOR, "td.ok")
    assert [cell.text for cell in green] == ["25 (2084.7)"]
    charts = browser.find_elements(By.CSS_SELECTOR, "figure svg")
    assert len(charts) == 4  # four outcomes against the one varied key
    assert all(chart.size["width"] > 200 for chart in charts)
    assert "Wanneer heeft iedereen weer een huisarts?" in browser.page_source
    english = sweep_report(rows, axes, solve=False, language="en").decode()
    assert "When does everyone have a GP again?" in english
