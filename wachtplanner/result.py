"""Solver-independent results: status, stages, timings and the roster."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.objective import Evaluation
from wachtplanner.expand import ShiftInstance


class SolveStatus(StrEnum):
    """How a solve ended."""

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    NO_SOLUTION = "NO_SOLUTION"


@dataclass(frozen=True)
class StageResult:
    """One lexicographic stage: what it minimised, what it reached, what it proved."""

    name: str
    status: SolveStatus
    objective: int
    bound: int
    wall_time_s: float

    @property
    def gap(self) -> float:
        """Return the relative gap between objective and bound (0 when proven)."""
        if self.objective == self.bound:
            return 0.0
        return abs(self.objective - self.bound) / max(1, abs(self.objective))


@dataclass(frozen=True)
class Result:
    """What `solve` returns."""

    status: SolveStatus
    roster: Roster
    terms: dict[str, int]
    stages: tuple[StageResult, ...]
    wall_time_s: float
    build_time_s: float
    time_to_first_s: float | None
    scenario_hash: str
    num_variables: int = 0
    shifts: tuple[ShiftInstance, ...] = ()
    evaluation: Evaluation | None = None
    """The independent checker's verdict on ``roster`` (None when no roster was found)."""

    @property
    def objective(self) -> int:
        """Return the last stage's objective (the summed total deviation, once all else is set)."""
        return self.stages[-1].objective if self.stages else 0

    @property
    def bound(self) -> int:
        """Return the last stage's proven bound."""
        return self.stages[-1].bound if self.stages else 0

    @property
    def gap(self) -> float:
        """Return the last stage's relative gap."""
        return self.stages[-1].gap if self.stages else 0.0


def scenario_hash(scenario: Scenario) -> str:
    """Return a short, format-independent fingerprint of a scenario's content."""
    canonical = scenario.model_dump_json(by_alias=True).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]
