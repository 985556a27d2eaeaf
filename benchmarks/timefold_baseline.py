"""The same roster problem in Timefold (local search), for the benchmark.

Rules modelled, as the benchmark issue asks: coverage (one planning entity per seat of a shift,
never unassigned), scope, roles, unavailability and exemptions (a per-seat value range holds only
eligible doctors), overlap and rest (hard, per doctor), the trainee's supervisor not on another
overlapping duty and at most two duties in a row on consecutive nights (hard, so its rosters can
pass our checker), fairness as the squared deviation of points from target per (doctor, tag),
in whole points so the score fits an int, and, like ours, a soft minimum gap between two duties
of a doctor (its weight per day short of the doctor's gap) and duties close together (the close
weight per day short of close_days + 1, per pair: a window-count like ours, but three duties in
three days cost 5 rather than 4 windows). Caps, weekend spacing and avoid wishes are not
modelled: they are what our checker then measures.

Needs the optional ``bench`` dependencies (``timefold``) and a JDK 17.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from timefold.solver import SolverFactory
from timefold.solver.config import (
    Duration,
    ScoreDirectorFactoryConfig,
    SolverConfig,
    TerminationConfig,
)
from timefold.solver.domain import (
    PlanningEntityCollectionProperty,
    PlanningId,
    PlanningScore,
    PlanningVariable,
    ProblemFactCollectionProperty,
    ValueRangeProvider,
    planning_entity,
    planning_solution,
)
from timefold.solver.score import (
    ConstraintCollectors,
    ConstraintFactory,
    HardSoftScore,
    Joiners,
    constraint_provider,
)

from wachtplanner.constants import POINTS_SCALE
from wachtplanner.solver.instance import Instance


@dataclass
class Doctor:
    """A doctor as a problem fact."""

    id: Annotated[int, PlanningId]
    supervisor: int
    min_gap: int = 0
    gap_weight: int = 0
    close_days: int = 0
    close_weight: int = 0
    targets: dict[str, int] = field(default_factory=dict)


@planning_entity
@dataclass
class Seat:
    """One seat of one shift; the doctor is the planning variable."""

    id: Annotated[int, PlanningId]
    shift: int
    start: int
    end: int
    rest_end: int
    day: int
    first_night: int
    last_night: int
    points: dict[str, int]
    eligible: Annotated[list[Doctor], ValueRangeProvider(id="eligible")]
    doctor: Annotated[Doctor | None, PlanningVariable(value_range_provider_refs=["eligible"])] = (
        None
    )


@planning_solution
@dataclass
class Plan:
    """The whole roster."""

    doctors: Annotated[list[Doctor], ProblemFactCollectionProperty]
    seats: Annotated[list[Seat], PlanningEntityCollectionProperty]
    score: Annotated[HardSoftScore | None, PlanningScore] = None


TAGS: list[str] = []


def _fairness(factory: ConstraintFactory, tag: str) -> Any:
    return (
        factory.for_each(Seat)
        .filter(lambda s: tag in s.points)
        .group_by(lambda s: s.doctor, ConstraintCollectors.sum(lambda s: s.points[tag]))
        .complement(Doctor, lambda d: 0)
        .filter(lambda d, p: tag in d.targets)
        .penalize(HardSoftScore.ONE_SOFT, lambda d, p: (p - d.targets[tag]) * (p - d.targets[tag]))
        .as_constraint(f"fairness {tag}")
    )


@constraint_provider
def _constraints(factory: ConstraintFactory) -> list[Any]:
    rest = (
        factory.for_each_unique_pair(
            Seat,
            Joiners.equal(lambda s: s.doctor),
            Joiners.overlapping(lambda s: s.start, lambda s: s.rest_end),
        )
        .penalize(HardSoftScore.ONE_HARD)
        .as_constraint("overlap and rest")
    )
    supervision = (
        factory.for_each(Seat)
        .filter(lambda s: s.doctor.supervisor >= 0)
        .join(
            Seat,
            Joiners.equal(lambda t: t.doctor.supervisor, lambda s: s.doctor.id),
            Joiners.overlapping(
                lambda t: t.start, lambda t: t.end, lambda s: s.start, lambda s: s.end
            ),
        )
        .filter(lambda t, s: t.shift != s.shift)
        .penalize(HardSoftScore.ONE_HARD)
        .as_constraint("supervisor on another duty")
    )
    nights = (
        factory.for_each(Seat)
        .filter(lambda a: a.last_night >= 0)
        .join(
            Seat,
            Joiners.equal(lambda a: a.doctor, lambda b: b.doctor),
            Joiners.equal(lambda a: a.last_night + 1, lambda b: b.first_night),
        )
        .join(
            Seat,
            Joiners.equal(lambda a, b: b.doctor, lambda c: c.doctor),
            Joiners.equal(lambda a, b: b.last_night + 1, lambda c: c.first_night),
        )
        .penalize(HardSoftScore.ONE_HARD)
        .as_constraint("three duties on consecutive nights")
    )
    gap = (
        factory.for_each_unique_pair(Seat, Joiners.equal(lambda s: s.doctor))
        .filter(lambda a, b: abs(a.day - b.day) < a.doctor.min_gap)
        .penalize(
            HardSoftScore.ONE_SOFT,
            lambda a, b: a.doctor.gap_weight * (a.doctor.min_gap - abs(a.day - b.day)),
        )
        .as_constraint("duties closer than the doctor's gap")
    )
    close = (
        factory.for_each_unique_pair(Seat, Joiners.equal(lambda s: s.doctor))
        .filter(lambda a, b: abs(a.day - b.day) <= a.doctor.close_days)
        .penalize(
            HardSoftScore.ONE_SOFT,
            lambda a, b: a.doctor.close_weight * (a.doctor.close_days + 1 - abs(a.day - b.day)),
        )
        .as_constraint("duties close together")
    )
    fairness = (_fairness(factory, tag) for tag in TAGS)
    return [rest, supervision, nights, gap, close, *fairness]


@dataclass(frozen=True)
class TimefoldRun:
    """Timefold's best roster and when it first met every hard constraint of its model."""

    chosen: list[tuple[int, int]]
    wall_s: float
    first_feasible_s: float | None


def solve_timefold(instance: Instance, time_limit_s: float) -> TimefoldRun:
    """Run Timefold for ``time_limit_s`` and return its best roster."""
    index = instance.doctor_index()
    gap_rule = instance.scenario.rules.min_days_between_duties
    doctors = [
        Doctor(
            d_idx,
            index[doctor.supervisor] if doctor.supervisor is not None else -1,
            instance.load.min_gap_days.get(doctor.id, 0),
            gap_rule.weight if gap_rule else 0,
            gap_rule.close_days if gap_rule and gap_rule.close_days else -1,
            gap_rule.close_weight if gap_rule else 0,
        )
        for d_idx, doctor in enumerate(instance.doctors)
    ]
    for row in instance.targets:
        doctors[row.doctor_idx].targets[row.tag] = round(row.target_centi / POINTS_SCALE)
    rest_min = round(instance.scenario.rules.min_rest_hours * 60)
    seats: list[Seat] = []
    for s_idx, shift in enumerate(instance.shifts):
        pool = [doctors[d] for d in instance.doctors_of_shift[s_idx]]
        points = {
            tag: round(centi / POINTS_SCALE) for tag, centi in instance.tag_points[s_idx].items()
        }
        for _ in range(shift.need):
            seats.append(
                Seat(
                    len(seats),
                    s_idx,
                    instance.start_min[s_idx],
                    instance.end_min[s_idx],
                    instance.end_min[s_idx] + rest_min,
                    instance.start_day[s_idx],
                    nights[0] if (nights := instance.night_days[s_idx]) else -1000,
                    nights[-1] if nights else -1000,
                    points,
                    pool,
                )
            )
    TAGS[:] = sorted({row.tag for row in instance.targets})
    config = SolverConfig(
        solution_class=Plan,
        entity_class_list=[Seat],
        score_director_factory_config=ScoreDirectorFactoryConfig(
            constraint_provider_function=_constraints
        ),
        termination_config=TerminationConfig(spent_limit=Duration(seconds=round(time_limit_s))),
    )
    started = time.perf_counter()
    solver = SolverFactory.create(config).build_solver()
    first: list[float] = []

    def on_best(event: Any) -> None:
        score = event.new_best_score
        if not first and score.is_feasible and event.is_every_problem_change_processed:
            first.append(time.perf_counter() - started)

    solver.add_event_listener(on_best)
    best = solver.solve(Plan(doctors, seats))
    wall_s = time.perf_counter() - started
    chosen = [(seat.doctor.id, seat.shift) for seat in best.seats if seat.doctor is not None]
    return TimefoldRun(chosen, wall_s, first[0] if first else None)
