"""Time a 48-run sweep of the 2000-GMD story: 1 and 2 local workers, and a real cluster.

    python -m benchmarks.sweep [--solve --time-limit 3]

The real cluster is a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1,
started here (as a circle would start them on its machines). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STORY = ROOT / "scenarios" / "loss-2000-gmd-noodpunt.yaml"
GRID = {
    "continuity.intake_per_week_per_fte": [15, 20, 25, 30],
    "continuity.gmd_capacity_per_fte": [1500, 1800],
    "emergency_points[noodpunt-dorp].sessions_per_week": [0, 5, 10],
    "continuity.contacts_per_patient_per_year": [4.5, 5.5],
}
"""4 x 2 x 3 x 2 = 48 runs."""


def _sweep(folder: Path, grid: Path, extra: list[str]) -> float:
    out = folder / f"out-{time.monotonic_ns()}"
    started = time.perf_counter()
    command = str(Path(sys.executable).parent / "wachtplanner")
    subprocess.run(
        [command, "sweep", str(STORY), "--grid", str(grid), "-o", str(out), *extra],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def _cluster(folder: Path) -> tuple[list[subprocess.Popen[bytes]], Path]:
    dask = shutil.which("dask") or str(Path(sys.executable).parent / "dask")
    scheduler_file = folder / "scheduler.json"
    quiet = subprocess.DEVNULL
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(scheduler_file)], stdout=quiet, stderr=quiet,
    )  # fmt: skip
    while not scheduler_file.exists() or scheduler_file.stat().st_size == 0:
        time.sleep(0.1)
    worker = subprocess.Popen(
        [dask, "worker", "--scheduler-file", str(scheduler_file), "--nworkers", "2",
         "--nthreads", "1", "--no-dashboard"], stdout=quiet, stderr=quiet,
    )  # fmt: skip
    time.sleep(3)  # the workers register
    return [worker, scheduler], scheduler_file


def main(argv: list[str] | None = None) -> None:
    """Run the three configurations and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--solve", action="store_true")
    parser.add_argument("--time-limit", type=float, default=3.0)
    args = parser.parse_args(argv)
    extra = ["--solve", "--time-limit", str(args.time_limit)] if args.solve else []
    folder = Path(tempfile.mkdtemp(prefix="wachtplanner-sweep-bench-"))
    grid = folder / "grid.yaml"
    grid.write_text(yaml.safe_dump(GRID, sort_keys=False), encoding="utf-8")
    rows = []
    try:
        for workers in (1, 2):
            seconds = _sweep(folder, grid, [*extra, "--workers", str(workers)])
            rows.append((f"LocalCluster, {workers} worker process(es)", seconds))
        processes, scheduler_file = _cluster(folder)
        try:
            seconds = _sweep(folder, grid, [*extra, "--scheduler-file", str(scheduler_file)])
            rows.append(("dask scheduler + dask worker --nworkers 2 (127.0.0.1)", seconds))
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    kind = f"with --solve --time-limit {args.time_limit:g}" if args.solve else "continuity only"
    print(f"| 48 runs, {kind} | wall time (s) |\n|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
