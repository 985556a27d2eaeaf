"""Run a sweep on Dask: a local cluster by default, or the scheduler the circle runs.

The client submits one task per run (``tasks.run_one``), writes each result as it arrives into
a work folder next to the output (``OUT.sweep-work/runs/<id>/``, ``result.json`` last), and
when every run has ended replaces ``OUT`` as a whole with the runs, ``sweep.csv`` and
``report.html``. An interrupted sweep leaves the work folder; the next one reuses every run
whose ``result.json`` is there (a run is keyed by its scenario's hash and the solve options),
so it resumes where it stopped. Failed runs are recorded with their error and retried by the
next sweep.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dask.distributed import Client, Future, LocalCluster, as_completed

from wachtplanner.io.atomic import ensure_replaceable, replace_folder, write_file_atomically
from wachtplanner.result import scenario_hash
from wachtplanner.sweep.grid import Axis, Run
from wachtplanner.sweep.report import sweep_report
from wachtplanner.sweep.tasks import (
    OUTCOMES,
    SOLVE_OUTCOMES,
    RunResult,
    RunSpec,
    run_one,
    solve_base,
)

ProgressFn = Callable[[str], None]
WORK_SUFFIX = ".sweep-work"


@dataclass(frozen=True)
class Cluster:
    """Where the runs go: a scheduler address or file, or a local cluster of ``workers``."""

    address: str | None = None
    scheduler_file: Path | None = None
    workers: int = 2


@dataclass
class SweepOutcome:
    """What a sweep did: rows in run order, how many runs were reused or failed."""

    rows: list[dict[str, Any]]
    reused: int = 0
    failed: int = 0
    ran: int = 0
    wall_s: float = 0.0
    columns: list[str] = field(default_factory=list)


def run_id(run: Run, solve: bool, params: dict[str, Any]) -> str:
    """Return a run's key: its scenario's hash and, with ``solve``, the solver options."""
    text = scenario_hash(run.scenario) + (json.dumps(params, sort_keys=True) if solve else "")
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _client(cluster: Cluster) -> tuple[Client, LocalCluster | None]:
    silence = logging.ERROR
    if cluster.scheduler_file is not None:
        return Client(scheduler_file=str(cluster.scheduler_file)), None
    address = cluster.address or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        return Client(address), None
    # Loopback only, and the dashboard on a free port of its own: a laptop's sweep is not
    # reachable from the network, and two sweeps at once do not fight over port 8787.
    local = LocalCluster(
        n_workers=cluster.workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=silence,
    )
    return Client(local), local


def _load_done(folder: Path, wanted: set[str]) -> dict[str, RunResult]:
    """Return the finished runs a work (or earlier output) folder holds, by id."""
    done: dict[str, RunResult] = {}
    runs = folder / "runs"
    if not runs.is_dir():
        return done
    for entry in runs.iterdir():
        marker = entry / "result.json"
        if entry.name not in wanted or not marker.is_file():
            continue
        try:
            saved = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if saved.get("error"):
            continue  # failed runs are tried again
        files = {
            p.relative_to(entry).as_posix(): p.read_bytes()
            for p in entry.rglob("*")
            if p.is_file() and p.name != "result.json"
        }
        done[entry.name] = RunResult(entry.name, saved.get("outcomes", {}), files)
    return done


def _save(work: Path, result: RunResult) -> None:
    folder = work / "runs" / result.run_id
    for name, content in result.files.items():
        write_file_atomically(folder / name, content)
    marker = {"outcomes": result.outcomes, "error": result.error}
    write_file_atomically(folder / "result.json", (json.dumps(marker, indent=2) + "\n").encode())


def _eta(started: float, finished: int, left: int) -> str:
    if finished == 0 or left == 0:
        return "—"
    seconds = (time.monotonic() - started) / finished * left
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def run_sweep(
    runs: Sequence[Run],
    axes: Sequence[Axis],
    out: Path,
    *,
    base_document: dict[str, Any],
    cluster: Cluster,
    solve: bool = False,
    params: dict[str, Any] | None = None,
    base_roster: list[tuple[str, str]] | None = None,
    within_weeks: int = 26,
    language: str = "nl",
    progress: ProgressFn | None = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> SweepOutcome:
    """Run every run (reusing finished ones), then replace ``out`` with the sweep's output."""
    say = progress or (lambda _text: None)
    params = params or {}
    ensure_replaceable(out, "sweep")
    started = time.monotonic()
    ids = [run_id(run, solve, params) for run in runs]
    work = out.parent / f"{out.name}{WORK_SUFFIX}"
    work.mkdir(parents=True, exist_ok=True)
    results = _load_done(out, set(ids)) | _load_done(work, set(ids))
    reused = len(results)
    for done in results.values():
        if not (work / "runs" / done.run_id / "result.json").exists():
            _save(work, done)
    todo = {i: run for i, run in zip(ids, runs, strict=True) if i not in results}
    failed = 0
    if todo:
        client, local = _client(cluster)
        try:
            base: Future[list[tuple[str, str]]] | list[tuple[str, str]] | None = base_roster
            if solve and base is None:
                say("sweep: solving the unvaried scenario once (the roster every run re-plans)")
                base = client.submit(solve_base, base_document, params, pure=False)
            futures = [
                client.submit(
                    run_one,
                    RunSpec(
                        rid, run.scenario.model_dump(by_alias=True, mode="json"), solve, params
                    ),
                    base,
                    key=f"wachtplanner-run-{rid}",
                    pure=False,
                )
                for rid, run in todo.items()
            ]
            say(f"sweep: {len(futures)} runs to go, {reused} reused; {len(runs)} in all")
            for finished, future in enumerate(as_completed(futures), start=1):
                try:
                    result: RunResult = future.result()
                except Exception as exc:  # a lost worker fails its run, not the sweep
                    rid = str(future.key).removeprefix("wachtplanner-run-")
                    result = RunResult(rid, {}, {}, f"{type(exc).__name__}: {exc}"[:500])
                if result.error:
                    failed += 1
                results[result.run_id] = result
                _save(work, result)
                if on_result is not None:
                    on_result(result)
                left = len(futures) - finished
                running = min(left, len(client.scheduler_info().get("workers", {})) or 1)
                say(
                    f"sweep: {finished + reused}/{len(runs)} done, {running} running, "
                    f"{failed} failed, ETA {_eta(started, finished, left)}"
                )
        finally:
            client.close()
            if local is not None:
                local.close()
    rows, columns = _rows(runs, ids, axes, results, solve)
    files: dict[str, bytes] = {"sweep.csv": _csv(rows, columns)}
    for rid, done in results.items():
        for name, content in done.files.items():
            files[f"runs/{rid}/{name}"] = content
        marker = {"outcomes": done.outcomes, "error": done.error}
        files[f"runs/{rid}/result.json"] = (json.dumps(marker, indent=2) + "\n").encode()
    files["report.html"] = sweep_report(
        rows, axes, solve=solve, within_weeks=within_weeks, language=language
    )
    replace_folder(out, files, command="sweep")
    shutil.rmtree(work, ignore_errors=True)
    return SweepOutcome(
        rows,
        reused=reused,
        failed=failed,
        ran=len(todo),
        wall_s=time.monotonic() - started,
        columns=columns,
    )


def _rows(
    runs: Sequence[Run],
    ids: Sequence[str],
    axes: Sequence[Axis],
    results: dict[str, RunResult],
    solve: bool,
) -> tuple[list[dict[str, Any]], list[str]]:
    keys = [k for axis in axes for k in axis.keys]
    outcomes = [*OUTCOMES, *(SOLVE_OUTCOMES if solve else ())]
    columns = [*keys, *outcomes, "error", "run"]
    rows = []
    for run, rid in zip(runs, ids, strict=True):
        result = results.get(rid)
        row: dict[str, Any] = {k: run.values.get(k) for k in keys}
        for name in outcomes:
            row[name] = result.outcomes.get(name) if result is not None else None
        row["error"] = result.error if result is not None else "not run"
        row["run"] = rid
        rows.append(row)
    return rows, columns


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row[k]) for k in columns})
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value
