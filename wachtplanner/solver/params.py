"""Tuning knobs that do not change the problem."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


def _default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class SolverParams(BaseModel):
    """CP-SAT parameters.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit for all stages together.
    num_workers
        CP-SAT search workers (threads).
    random_seed
        Seed, for reproducible runs with a fixed number of workers.
    deterministic_time
        Optional limit in CP-SAT's deterministic time units, for tests that must not depend on
        the machine's speed.
    log_search
        Print CP-SAT's own search log to stderr.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_limit_s: float = Field(default=60.0, gt=0)
    num_workers: int = Field(default_factory=_default_workers, ge=1)
    random_seed: int = 0
    deterministic_time: float | None = Field(default=None, gt=0)
    log_search: bool = False
