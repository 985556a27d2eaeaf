"""The model's decision variables and the shared expressions rules build on.

``x[d, s]`` is 1 when doctor ``d`` takes a seat of shift ``s``; it exists only for eligible pairs
(``solver.instance.PAIR_FILTERS``). Everything else in the model is a function of these: every
auxiliary variable is tied to them exactly (both directions), so once the ``x`` are fixed every
objective term has one value, the one the checker computes. ``CpSatModel.evaluate`` proves it on
each returned roster by minimising and maximising the terms with the ``x`` fixed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from ortools.sat.python import cp_model

from wachtplanner.solver.instance import Instance

Pair = tuple[int, int]
"""(doctor_idx, shift_idx)"""
DIRECT_UP_TO = 6
"""A window with at most this many starts sums its x's directly (see ``starts_within``)."""


def assignment_vars(model: cp_model.CpModel, instance: Instance) -> dict[Pair, cp_model.IntVar]:
    """Return one Boolean per eligible (doctor, shift) pair."""
    return {
        (d, s): model.new_bool_var(f"x[{d},{s}]")
        for d, shifts in enumerate(instance.shifts_of_doctor)
        for s in shifts
    }


@dataclass
class Penalty:
    """A soft rule's weighted term: ``weight`` x ``term``, ``term`` exact in the ``x``.

    Every soft rule is a doctor's own (their spacing, load, wishes): ``doctor_idx`` says whose,
    so the neighbourhood search can start from the doctors who carry the penalty.
    """

    weight: int
    term: cp_model.LinearExprT
    doctor_idx: int


@dataclass
class BuildContext:
    """The model under construction and what rule builders share."""

    model: cp_model.CpModel
    instance: Instance
    x: dict[Pair, cp_model.IntVar]
    penalties: dict[str, list[Penalty]] = field(default_factory=lambda: defaultdict(list))
    running_sums: bool = False
    """Whether long windows sum as running counts (:meth:`starts_within`)."""
    _running: dict[int, list[cp_model.IntVar | int]] = field(default_factory=dict)

    def eligible(self, d_idx: int) -> tuple[int, ...]:
        """Return the shifts a doctor has a variable for."""
        return self.instance.shifts_of_doctor[d_idx]

    @cached_property
    def starts_by_day(self) -> list[dict[int, list[int]]]:
        """Per doctor, their eligible shifts grouped by local start day."""
        grouped: list[dict[int, list[int]]] = []
        for d_idx in range(len(self.instance.doctors)):
            days: dict[int, list[int]] = defaultdict(list)
            for s in self.eligible(d_idx):
                days[self.instance.start_day[s]].append(s)
            grouped.append(days)
        return grouped

    def starts_in(self, d_idx: int, first_day: int, num_days: int) -> list[int]:
        """Return a doctor's eligible shifts starting in ``num_days`` days from ``first_day``."""
        days = self.starts_by_day[d_idx]
        return [s for day in range(first_day, first_day + num_days) for s in days.get(day, ())]

    @cached_property
    def held_by_day(self) -> list[dict[int, list[int]]]:
        """Per doctor, their eligible shifts by every day from their start to their last night.

        The days a duty holds its doctor (:meth:`Instance.last_day`): a weekend block is on
        each of its nights' days, a weeknight on its start day.
        """
        grouped: list[dict[int, list[int]]] = []
        for d_idx in range(len(self.instance.doctors)):
            days: dict[int, list[int]] = defaultdict(list)
            for s in self.eligible(d_idx):
                for day in range(self.instance.start_day[s], self.instance.last_day(s) + 1):
                    days[day].append(s)
            grouped.append(days)
        return grouped

    def held_in(self, d_idx: int, first_day: int, num_days: int) -> list[int]:
        """Return a doctor's eligible shifts holding any of ``num_days`` days from ``first_day``.

        Each once, in the order of the days they are first seen on.
        """
        days = self.held_by_day[d_idx]
        found = (s for day in range(first_day, first_day + num_days) for s in days.get(day, ()))
        return list(dict.fromkeys(found))

    def count_within(self, d_idx: int, first_day: int, num_days: int) -> int:
        """Return how many of a doctor's eligible shifts start in a window (no expression).

        A rule asks this first: most windows hold too few starts to cost anything, and
        building their sums took a third of a neighbourhood's model.
        """
        counts = self._running_count[d_idx]
        return counts[self._window_end(first_day, num_days)] - counts[first_day]

    def _window_end(self, first_day: int, num_days: int) -> int:
        """Return the day after a window, cut at the horizon's end (an index of the counts)."""
        return min(first_day + num_days, self.instance.num_days)

    def starts_within(self, d_idx: int, first_day: int, num_days: int) -> cp_model.LinearExpr:
        """Return the sum of a doctor's x's for the eligible shifts starting in a window.

        With ``running_sums``, a window of more than ``DIRECT_UP_TO`` starts sums as the
        difference of two running counts of the doctor's starts (:meth:`running`), so its
        constraint has two terms rather than one per start: the min-gap windows of the 500-GP
        year (4-6 weeks, ~30 starts each, 177 000 of them) take 5 s less to build and the
        model has 2.5 M linear terms instead of 15.5 M. CP-SAT searches such a model slower,
        though (the neighbourhoods of the 100-GP year's soft stage ended at 27 644 against
        22 805 in 60 s), so only a whole model that gets no full search uses them.
        """
        if self.count_within(d_idx, first_day, num_days) <= DIRECT_UP_TO or not self.running_sums:
            shifts = self.starts_in(d_idx, first_day, num_days)
            return cp_model.LinearExpr.sum([self.x[d_idx, s] for s in shifts])
        running = self.running(d_idx)
        return cp_model.LinearExpr.weighted_sum(
            [running[self._window_end(first_day, num_days)], running[first_day]], [1, -1]
        )

    @cached_property
    def _running_count(self) -> list[list[int]]:
        """Per doctor, how many eligible shifts start before each day (day 0 to the last + 1)."""
        counts = []
        for days in self.starts_by_day:
            running = [0]
            for day in range(self.instance.num_days):
                running.append(running[-1] + len(days.get(day, ())))
            counts.append(running)
        return counts

    def running(self, d_idx: int) -> list[cp_model.IntVar | int]:
        """Return, per day t, how many duties the doctor starts before day t (exact in x).

        ``P_0 = 0`` and ``P_(t+1) = P_t + x's starting on day t``: a variable for each day with
        a start, the same expression as the day before otherwise. Built once per doctor.
        """
        if d_idx not in self._running:
            days, counts = self.starts_by_day[d_idx], self._running_count[d_idx]
            running: list[cp_model.IntVar | int] = [0]
            for day in range(self.instance.num_days):
                on_day = days.get(day, ())
                if not on_day:
                    running.append(running[-1])
                    continue
                after = self.model.new_int_var(0, counts[day + 1], "")
                before = cp_model.LinearExpr.sum([running[-1]])
                self.model.add(
                    after == before + cp_model.LinearExpr.sum([self.x[d_idx, s] for s in on_day])
                )
                running.append(after)
            self._running[d_idx] = running
        return self._running[d_idx]

    def windows(self, num_days: int) -> range:
        """Return the first days of every window of ``num_days`` days inside the horizon."""
        return range(max(1, self.instance.num_days - num_days + 1))
