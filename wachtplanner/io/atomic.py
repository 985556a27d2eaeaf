"""Output folders replaced as one: the whole old set or the whole new set, never a mix.

A command writes its complete output set into a staging folder next to the destination, then
switches the two in one step. On Linux that step is ``renameat2(RENAME_EXCHANGE)``: the old and
the new folder trade names atomically, so a run killed at any moment leaves the destination
entirely old or entirely new. Where the exchange is not available (other systems, file systems
without it) the old folder is renamed aside first and the new one renamed into place; a run
killed between the two renames leaves the old folder aside, and the next run puts it back before
it does anything else.

Staging and set-aside folders are named ``.<dest>.wachtplanner-<kind>-<pid>-<random>`` next to
the destination; the next run removes those of processes that no longer run (and any older than
a day), so a killed run leaves nothing behind for long.

A destination that exists must be one wachtplanner wrote (it holds :data:`MANIFEST`, or only
names wachtplanner writes) or empty: replacing a folder as a whole must never delete a
coordinator's own files.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from wachtplanner.exceptions import OutputFolderError

MANIFEST = ".wachtplanner.json"
"""Written into every output folder: the command and every file with its SHA-256."""

KNOWN_OUTPUTS = frozenset(
    {
        MANIFEST,
        "roster.csv",
        "roster.json",
        "roster.xlsx",
        "fairness.csv",
        "report.html",
        "changes.csv",
        "urgent.csv",
        "timeline.csv",
        "summary.json",
        "grid.html",
        "sweep.csv",
        "ical",
        "stats",
        "runs",
    }
)
"""Top-level names an output folder of an earlier version (before the manifest) may hold."""

_STALE_AFTER_S = 24 * 3600
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    renameat2: Callable[..., int] = function
    return renameat2


_RENAMEAT2 = _renameat2()


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders' names atomically; False where the system cannot."""
    if _RENAMEAT2 is None:
        return False
    code = _RENAMEAT2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if code == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(second))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _prefix(dest: Path) -> str:
    return f".{dest.name}.wachtplanner-"


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(dest: Path) -> list[tuple[Path, str, bool]]:
    """Return (folder, kind, abandoned) for every staging or set-aside folder of ``dest``."""
    prefix = _prefix(dest)
    found: list[tuple[Path, str, bool]] = []
    if not dest.parent.is_dir():
        return found
    for entry in dest.parent.iterdir():
        if not entry.name.startswith(prefix) or not entry.is_dir():
            continue
        kind, _, rest = entry.name[len(prefix) :].partition("-")
        pid_text = rest.partition("-")[0]
        pid = int(pid_text) if pid_text.isdigit() else -1
        try:
            age_s = time.time() - entry.stat().st_mtime
        except FileNotFoundError:
            continue
        found.append((entry, kind, pid < 0 or not _process_alive(pid) or age_s > _STALE_AFTER_S))
    return found


def recover(dest: Path) -> None:
    """Undo what a killed run left: put a set-aside old folder back, remove dead staging folders."""
    leftovers = _leftovers(dest)
    if not dest.exists():
        aside = sorted(
            (p for p, kind, abandoned in leftovers if kind == "old" and abandoned),
            key=lambda p: p.stat().st_mtime,
        )
        if aside:
            aside[-1].rename(dest)
    for path, _, abandoned in _leftovers(dest):
        if abandoned:
            shutil.rmtree(path, ignore_errors=True)


def _written_by(dest: Path) -> str | None:
    try:
        document = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    command = document.get("command") if isinstance(document, dict) else None
    return command if isinstance(command, str) else None


def _check_replaceable(dest: Path, command: str) -> None:
    if not dest.exists():
        return
    if not dest.is_dir():
        raise OutputFolderError(f"{dest}: exists and is not a folder; expected an output folder.")
    names = {p.name for p in dest.iterdir()}
    if MANIFEST in names:
        previous = _written_by(dest)
        if previous in (command, None):
            return
        raise OutputFolderError(
            f"{dest}: holds the output of `wachtplanner {previous}`, which `{command}` would "
            f"replace as a whole; give `{command}` a folder of its own."
        )
    if not names or names <= KNOWN_OUTPUTS:
        return
    strangers = sorted(names - KNOWN_OUTPUTS)
    shown = ", ".join(strangers[:5]) + (" …" if len(strangers) > 5 else "")
    raise OutputFolderError(
        f"{dest}: holds files wachtplanner did not write ({shown}); the whole folder is "
        "replaced by the new output, so give an empty or new folder, or one wachtplanner wrote."
    )


def manifest(command: str, files: Mapping[str, bytes]) -> bytes:
    """Return the manifest of an output set: the command and each file's size and SHA-256."""
    document = {
        "written_by": "wachtplanner",
        "command": command,
        "files": {
            name: {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for name, content in sorted(files.items())
        },
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def replace_folder(dest: Path, files: Mapping[str, bytes], *, command: str) -> None:
    """Make ``dest`` hold exactly ``files`` (relative names to contents), replacing it as a unit.

    Raises
    ------
    OutputFolderError
        When ``dest`` holds files wachtplanner did not write.
    """
    dest = dest.absolute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover(dest)
    _check_replaceable(dest, command)
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    staging = dest.parent / f"{_prefix(dest)}new-{tag}"
    staging.mkdir()
    try:
        for name, content in files.items():
            _write_file(staging / name, content)
        _write_file(staging / MANIFEST, manifest(command, files))
        _fsync_dir(staging)
        _switch(staging, dest, tag)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _fsync_dir(dest.parent)


def _switch(staging: Path, dest: Path, tag: str) -> None:
    """Put ``staging`` in ``dest``'s place in one step; the old folder ends up at ``staging``."""
    if not dest.exists():
        try:
            staging.rename(dest)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
        else:
            return
    if _exchange(staging, dest):
        return
    aside = dest.parent / f"{_prefix(dest)}old-{tag}"
    dest.rename(aside)
    staging.rename(dest)
    shutil.rmtree(aside, ignore_errors=True)


def write_file_atomically(path: Path, content: bytes) -> None:
    """Write one file completely next to ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.wachtplanner-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        _write_file(temporary, content)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def ensure_replaceable(dest: Path, command: str) -> None:
    """Raise OutputFolderError now if ``command`` could not replace ``dest`` at the end."""
    _check_replaceable(dest.absolute(), command)
