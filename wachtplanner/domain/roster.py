"""A roster: who does which duty. Published rosters are inputs too (check, replan, swap)."""

from __future__ import annotations

from wachtplanner.domain.base import FrozenModel


class Assignment(FrozenModel):
    """One doctor on one shift instance (``<shift_type>/<scope_id>/<start date>``)."""

    shift_id: str
    doctor_id: str


class Roster(FrozenModel):
    """The assignments of a roster, in a stable order."""

    assignments: tuple[Assignment, ...] = ()

    def pairs(self) -> set[tuple[str, str]]:
        """Return the set of ``(shift_id, doctor_id)`` pairs."""
        return {(a.shift_id, a.doctor_id) for a in self.assignments}
