"""Output folders are replaced as one: a run killed at any point leaves the old set or the new set.

Each kill test runs the real command in a child process and kills it with SIGKILL at a chosen
point: before the n-th output file is written into the staging folder, just before and just
after the folder switch, and (where the system has no atomic exchange) between the two renames
of the fallback. It then asserts the output folder is byte-for-byte the old run's, or exactly the
new run's own manifest with nothing else in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from wachtplanner.io.atomic import MANIFEST, recover

ROOT = Path(__file__).parents[2]
SMALL = ROOT / "tests" / "data" / "valid_small.yaml"

# Patches the writer in the child, then runs the CLI. KILL_AT is "write:N" (before the n-th file
# is written to staging), "write:NAME" (before the file NAME), "switch:before", "switch:after",
# or "fallback:between" (the exchange is made unavailable and the child dies after the old
# folder was renamed aside).
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import wachtplanner.io.atomic as atomic

    kind, _, at = os.environ["KILL_AT"].partition(":")
    calls = {"write": 0, "rename": 0}

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    write_file = atomic._write_file
    def counting_write(path, content):
        calls["write"] += 1
        if kind == "write" and (calls["write"] == int(at) if at.isdigit() else path.name == at):
            die()
        write_file(path, content)
    atomic._write_file = counting_write

    switch = atomic._switch
    def killing_switch(staging, dest, tag):
        if kind == "switch" and at == "before":
            die()
        switch(staging, dest, tag)
        if kind == "switch" and at == "after":
            die()
    atomic._switch = killing_switch

    if kind == "fallback":
        atomic._exchange = lambda first, second: False
        rename = Path.rename
        def killing_rename(self, target):
            result = rename(self, target)
            if ".wachtplanner-old-" in str(target):
                die()
            return result
        Path.rename = killing_rename

    from wachtplanner.cli import main
    main(sys.argv[1:])
    """
)


def _scenario_b(tmp_path: Path) -> Path:
    """valid_small with Bart Maes replaced by Carl Peeters (who also supervises the trainee), so
    the new run's doctor feeds differ in name from the old run's."""
    doc = yaml.safe_load(SMALL.read_text())
    doc["doctors"][1] = {"id": "carl-peeters", "name": "Dr. Carl Peeters", "practice": "p-dewit"}
    doc["doctors"][2]["supervisor"] = "carl-peeters"
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(*args: object, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if kill_at is not None:
        env["KILL_AT"] = kill_at
    command = [sys.executable, "-c", CHILD] if kill_at else [sys.executable, "-m", "wachtplanner"]
    return subprocess.run(
        [*command, *map(str, args)], env=env, capture_output=True, text=True, check=False
    )


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _is_complete_run(folder: Path) -> bool:
    """The folder holds exactly the files its manifest lists, each with the listed hash."""
    listed = json.loads((folder / MANIFEST).read_text())["files"]
    actual = {k: v for k, v in _snapshot(folder).items() if k != MANIFEST}
    return actual == {name: entry["sha256"] for name, entry in listed.items()}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if ".wachtplanner-" in p.name)


def _commands(kind: str, scenario: Path, out: Path, roster: Path) -> list[object]:
    if kind == "solve":
        return ["solve", scenario, "-o", out, "--workers", "1", "--time-limit", "20", "-q"]
    return ["export", scenario, roster, "-o", out, "--format", "ical", "--format", "html"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Old scenario A and new scenario B, each solved once (folders ``a``, ``b``) and A's roster
    exported once (``export-a``): the old folders the kill tests start from."""
    tmp = tmp_path_factory.mktemp("runs")
    scenario_b = _scenario_b(tmp)
    for name, scenario in (("a", SMALL), ("b", scenario_b)):
        result = _run("solve", scenario, "-o", tmp / name, "--workers", "1", "-q")
        assert result.returncode == 0, result.stderr
    exported = _run(*_commands("export", SMALL, tmp / "export-a", tmp / "a" / "roster.json"))
    assert exported.returncode == 0, exported.stderr
    return tmp, scenario_b


KILL_POINTS = ["write:1", "write:3", f"write:{MANIFEST}", "switch:before", "switch:after"]
# Both commands write through the same staging writer: every kill point on solve, and on export
# one before and one after the switch (each child process takes about 2 s).
CASES = [("solve", at) for at in KILL_POINTS] + [("export", "write:3"), ("export", "switch:after")]


@pytest.mark.slow
@pytest.mark.parametrize(("command", "kill_at"), CASES)
def test_killed_run_leaves_old_or_new_never_a_mix(runs, tmp_path, command, kill_at):
    """Killed before the n-th file, or around the switch: old set intact, or the new set whole."""
    solved, scenario_b = runs
    out = tmp_path / "out"
    # The old folder: the command's own earlier output for scenario A.
    shutil.copytree(solved / ("a" if command == "solve" else "export-a"), out)
    old = _snapshot(out)
    killed = _run(
        *_commands(command, scenario_b, out, solved / "b" / "roster.json"), kill_at=kill_at
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if kill_at == "switch:after":
        assert _snapshot(out) != old
    if _snapshot(out) != old:
        assert kill_at.startswith("switch:after")
        assert _is_complete_run(out)
        assert "carl-peeters.ics" in {p.name for p in (out / "ical").iterdir()}
        assert "bart-maes.ics" not in {p.name for p in (out / "ical").iterdir()}
    # The dead run's staging folder is cleaned up by the next run, which then succeeds.
    again = _run(*_commands(command, scenario_b, out, solved / "b" / "roster.json"))
    assert again.returncode == 0, again.stderr
    assert _leftovers(out) == []
    assert _is_complete_run(out)


@pytest.mark.slow
def test_killed_between_fallback_renames_is_recovered(runs, tmp_path):
    """Without an atomic exchange the old folder is renamed aside first; a run killed right after
    that leaves no folder in place, and recovery (done by every later run) puts the old one back
    whole before anything else."""
    solved, scenario_b = runs
    out = tmp_path / "out"
    shutil.copytree(solved / "a", out)
    old = _snapshot(out)
    killed = _run(*_commands("solve", scenario_b, out, Path()), kill_at="fallback:between")
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()
    recover(out)
    assert _snapshot(out) == old
    assert _leftovers(out) == []


@pytest.mark.slow
def test_external_kill_while_writing(runs, tmp_path):
    """A kill from outside as soon as the staging folder appears: the folder stays the old one."""
    solved, scenario_b = runs
    out = tmp_path / "out"
    shutil.copytree(solved / "a", out)
    old = _snapshot(out)
    command = _commands("solve", scenario_b, out, Path())
    child = subprocess.Popen(
        [sys.executable, "-m", "wachtplanner", *map(str, command)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _leftovers(out) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert _snapshot(out) == old or _is_complete_run(out)


def test_solve_drops_feeds_of_doctors_no_longer_in_the_scenario(runs):
    """A new run's folder holds only its own files: Bart Maes's feed is gone in B's output."""
    solved, _ = runs
    assert (solved / "a" / "ical" / "bart-maes.ics").exists()
    assert not (solved / "b" / "ical" / "bart-maes.ics").exists()
    assert _is_complete_run(solved / "b")


def test_stale_staging_of_dead_run_is_removed_and_live_one_kept(runs, tmp_path):
    """A staging folder whose process is gone is removed; one of a running process is left."""
    solved, _ = runs
    out = tmp_path / "out"
    dead = tmp_path / ".out.wachtplanner-new-999999999-dead"
    live = tmp_path / f".out.wachtplanner-new-{os.getpid()}-live"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "roster.csv").write_text("half\n")
    result = _run("export", SMALL, solved / "a" / "roster.json", "-o", out)
    assert result.returncode == 0, result.stderr
    assert not dead.exists()
    assert live.exists()


def test_folder_with_foreign_files_is_not_replaced(runs, tmp_path):
    """A folder holding a coordinator's own files is refused (exit 2), and left untouched."""
    solved, _ = runs
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.docx").write_bytes(b"mine")
    result = _run("export", SMALL, solved / "a" / "roster.json", "-o", out)
    assert result.returncode == 2
    assert "notes.docx" in result.stderr
    assert "did not write" in result.stderr
    assert (out / "notes.docx").read_bytes() == b"mine"


def test_other_commands_output_is_not_replaced(runs, tmp_path):
    """`stats -o` on a solve's folder would delete the roster; it is refused (exit 2)."""
    solved, _ = runs
    result = _run("stats", SMALL, solved / "a" / "roster.json", "-o", solved / "a")
    assert result.returncode == 2
    assert "wachtplanner solve" in result.stderr
    assert (solved / "a" / "roster.csv").exists()
