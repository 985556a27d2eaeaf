"""Atomic writes: a failed or interrupted run never leaves a half-written file in place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_files_atomically(dest_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write every file to a staging folder first, then move each into place.

    Files are written completely and flushed before any of them replaces an existing one;
    the final renames are atomic per file. The staging folder is removed in every case.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wachtplanner-", dir=dest_dir))
    try:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        for name in files:
            target = dest_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            (staging / name).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
