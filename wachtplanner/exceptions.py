"""Exception hierarchy; only the CLI maps these to exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem found in an input file.

    Parameters
    ----------
    location
        Where the problem is, e.g. ``scenario.yaml: doctors[an-peeters].exemptions[0]``.
    message
        One sentence: the bad value and what was expected.
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class WachtplannerError(Exception):
    """Base class of every error wachtplanner raises on purpose."""


class InputFileError(WachtplannerError):
    """An input file (scenario or roster) is invalid; carries every issue found."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class ScenarioError(InputFileError):
    """The scenario file cannot be read or breaks the schema or a cross-reference."""


class RosterError(InputFileError):
    """A roster file cannot be read or does not match its scenario."""


class OutputFolderError(WachtplannerError):
    """An output folder cannot be replaced (it holds files wachtplanner did not write)."""


class ScenarioInfeasibleError(WachtplannerError):
    """No roster can satisfy the hard rules; ``reasons`` says why in the coordinator's words."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("\n".join(self.reasons))


class SolverError(WachtplannerError):
    """The solver failed in a way that points at a bug (invalid model, checker disagreement)."""


class StoreError(WachtplannerError):
    """A store problem the user can act on (here so the CLI need not load the store to catch it)."""
