"""Large-neighbourhood search: re-solve a few doctors' whole rosters with everyone else fixed.

On circle-sized models the full search of a summed stage (the soft penalty above all) barely
moves within two workers' time: on the 250-GP quarter the soft stage ended 27 % below the
rotation in 35 s, and on the 250-GP year not at all. Most of what a coordinator sees there
(duties close together, uneven months) is repaired by trading duties between a handful of
colleagues, which CP-SAT proves optimal in a fraction of a second. So, after a short full
search, a summed stage repeats:

1. pick a neighbourhood of doctors: colleagues eligible for one randomly drawn shift (so they
   can trade it: the same area's weeknights, the post's weekends), colleagues of a doctor who
   carries much of the stage's value, or doctors drawn at random (a trainee always comes with
   their supervisor, and the other way round);
2. build the neighbourhood's own small model (``instance.neighbourhood_instance``): those
   doctors and the seats they hold now, built by the same builders as the whole model. Every
   rule but coverage is a doctor's own, so with everyone else's assignments fixed this is
   exactly what they can change. The earlier stages' values become the neighbourhood's: a
   summed stage's part may not grow, a largest value (the spread per tag, the largest
   excess) is a cap on every row of the part, and the count at the spread may not grow;
3. minimise the stage's part from the current roster and keep the result when it is no worse
   (the whole value moves by what the part moves: the stage is a sum over doctors).

A small model of its own rather than the whole model with the other doctors fixed: CP-SAT
loaded and presolved the whole model on every search, ~1.5 s a step on the 250-GP year, where
a neighbourhood's own model is built in ~0.06 s and searched for 0.6 s or so.

The at-spread stage (how many rows sit at their tag's largest deviation, a count and so a sum)
is searched the same way, its count first and the soft penalty breaking ties, as its full search
does; where only the neighbourhood's doctors sit at a tag's largest deviation, one of them
stays there (the whole model holds that value).

The same search gives the staged solve its start (:func:`bring_under`): the soft-aware
rotation, its rows above the literal rotation's largest deviation of their tag brought under it,
neighbourhoods drawn around the doctors of those rows with colleagues who share their duties.

Three searches re-plan chosen pairs of doctors rather than drawn neighbourhoods: the doctor
who holds a largest deviation with one colleague at a time (:func:`lower_largest`); a doctor
over target with a colleague under it who can take one of their duties, or exchange one of a
tag for one of fewer points (:func:`trade`, for the summed deviations); and, first in the soft
stage (:func:`trade`), a doctor with two duties close together with a colleague clear of
duties around one of them, and a doctor with a month over the monthly cap with a colleague
light that month.

With several workers, as many disjoint neighbourhoods are searched side by side on one worker
each (CP-SAT releases Python's lock while it searches) and their results are taken in a fixed
order. The neighbourhood's size (2 to half the doctors) and the time limit of a search (0.6,
1.2 or 2.4 s) are each the one that lowered the value fastest so far, found by trying the
neighbouring sizes and limits (two doctors' year proves in a tenth of a second where ten
doctors' finds nothing in 0.6 s; a quarter's best neighbourhoods are larger). With
``deterministic_s`` set, each search gets a fixed deterministic budget and the loop stops on
the deterministic time spent, so tests repeat exactly.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import pairwise

from ortools.sat.python import cp_model

from wachtplanner.exceptions import SolverError
from wachtplanner.solver.bounds import largest_total_bound
from wachtplanner.solver.cpsat.assemble import Assembled, assemble
from wachtplanner.solver.cpsat.objective import (
    Expr,
    FairnessTerms,
    build_at_spread,
    build_over_levels,
    doctor_parts,
    over_levels,
    penalty_by_rule,
    row_cap,
    row_deviations,
)
from wachtplanner.solver.cpsat.variables import Pair
from wachtplanner.solver.instance import Instance, Neighbourhood, neighbourhood_instance
from wachtplanner.solver.params import SolverParams

MIN_DOCTORS = 4
"""A model with fewer than twice this many doctors is not split."""
OVER_LEVELS = "over_levels"
"""The search that brings a roster's rows under given levels (:func:`bring_under`)."""
_SIZES = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48)
"""Neighbourhood sizes (doctors) to choose among, up to half the doctors; :class:`Neighbourhoods`
learns which lowers the value fastest, starting from ``_FIRST_SIZE``. (On the 100-GP year, around
a doctor with four duties in five days, two doctors' year was proven in 0.08 s and lowered
their part from 1 520 to 717; four doctors' was not proven in 0.6 s, 1 836 to 986; six or ten
doctors' found nothing in 0.6 s. On a quarter, 10 to 20 doctors prove in well under a second.)"""
_FIRST_SIZE = 4
_STEP_LIMITS_S = (0.6, 1.2, 2.4)
"""Wall-clock limits a neighbourhood's search may get; :class:`Neighbourhoods` learns which
lowers the value fastest. (0.6 s was best on the 250-GP year of 0.3, 0.6 and 1.2 s, one search
at a time: 98 900 in 20 s against 100 500 and 99 200; on the 10-GP subdivision year, where
each GP does ~25 duties and four GPs' year is not proven in 0.6 s, longer searches were.)"""
_EXPLORE = 0.1
"""Share of steps that try the next lower or higher level rather than the fastest so far."""
_FORGET = 0.9
"""Weight of the past in each level's rate, per step (later gains come slower)."""
_CAPPED_STAGES = ("max_excess", "spread", "at_spread")
"""Earlier stages of a largest value (or a count at it): a neighbourhood keeps them by caps."""
_PARTNERS = 48
"""Colleagues a doctor who holds a largest deviation is re-planned with, the furthest off
target the other way first (``lower_largest``), so that on a large circle (249 colleagues per
holder on the 250-GP year) one holder does not take the whole budget from the levels after
it. (On the 250-GP year nothing was lowered in 6 s with or without this limit.)"""
_TEAM_PARTNERS = 12
"""Colleagues who could take a duty off the largest total's holder, re-planned with those who
could relieve them, where no pair lowered it (``_relieved_teams``)."""
_NEAR_DAYS = 7
"""A colleague's duties this close to a duty of the holder's may keep them from taking it."""
_TARGETED_SHARE = 0.4
"""Share of neighbourhoods built around a doctor drawn by their own penalty."""
_SHIFT_SHARE = 0.35
"""Share built from the colleagues of one random shift; the rest is drawn at random."""
_MIN_STEP_S = 0.2
_STEP_DETERMINISTIC = 1.0
"""Deterministic limit of one neighbourhood's search (deterministic runs), at most a quarter
of the whole budget so that a small budget still makes several steps."""
_STEP_CHARGE = 0.01
"""Deterministic time a neighbourhood's search is charged at least (deterministic runs): a
search of two or three doctors may spend almost none, while building its model takes wall
time (uncharged, the shipped post's January made hundreds of such steps: 59 s of a test
against 13 s; 0.03 left the ceilings' repair of a generated circle too few steps)."""


class _Levels:
    """Choose among ordered levels (limits, sizes) the one that lowered the value fastest.

    Starting at ``first``, each choice takes the level of the best rate so far (gain per second
    of the steps made with it), but first tries that level's untried neighbours, and at times
    (``_EXPLORE``) one of its neighbours again: a climb along the levels towards the best rate.
    """

    def __init__(self, values: Sequence[float], first: int, rng: random.Random) -> None:
        self.values = tuple(values)
        self.level = first
        self.rng = rng
        self._gain = [0.0] * len(self.values)
        self._spent = [0.0] * len(self.values)

    def choose(self) -> float:
        """Return the value of the next step's level."""
        tried = [n for n, spent in enumerate(self._spent) if spent > 0]
        if tried:
            best = max(tried, key=lambda n: self._gain[n] / self._spent[n])
            around = [n for n in (best - 1, best + 1) if 0 <= n < len(self.values)]
            untried = [n for n in around if self._spent[n] == 0]
            if untried:
                self.level = untried[0]
            elif around and self.rng.random() < _EXPLORE:
                self.level = self.rng.choice(around)
            else:
                self.level = best
        return self.values[self.level]

    def record(self, gain: int, spent_s: float) -> None:
        """Record what a step at the chosen level lowered the value by, in how long."""
        self._gain = [g * _FORGET for g in self._gain]
        self._spent = [t * _FORGET for t in self._spent]
        self._gain[self.level] += gain
        self._spent[self.level] += max(spent_s, 1e-9)


@dataclass
class LnsOutcome:
    """What the search ended with: the best roster, its value, and what it took."""

    chosen: set[Pair]
    value: int
    num_steps: int
    num_improving: int
    changed: bool
    """Whether ``chosen`` differs from the roster the search started from."""
    spent_deterministic: float = 0.0
    """Deterministic time its searches were charged (:func:`trade`)."""
    tracked: int = 0
    """How much the tracked stage's whole value changed (``tracked`` of the searches)."""


@dataclass(frozen=True)
class Stage:
    """The stage a search lowers, and what the stages before it fixed."""

    name: str
    done: tuple[str, ...]
    """Stages whose value is already a constraint (``changes`` included in a re-plan)."""
    largest: Mapping[str, int] | None = None
    """Each tag's largest deviation, fixed by the ``at_spread`` stage when it is done."""
    then: str | None = None
    """The next summed stage, whose part breaks ties between neighbourhood rosters."""
    ceilings: Mapping[str, int] = field(default_factory=dict)
    """Later summed stages (``deviation``, ``total``) whose whole value may not exceed this,
    and the stage ``beside`` this one.

    The whole model holds them as constraints; a neighbourhood's part of one may grow by what
    the whole is below its ceiling, shared between the neighbourhoods searched together.
    """
    beside: str | None = None
    """An earlier summed stage searched together with this one (the summed deviation per tag
    in the total stage): a neighbourhood lowers the sum of both parts, the earlier one's
    whole value within its ceiling (``ceilings``) rather than at most as it was."""
    levels: Mapping[str, int] | None = None
    """The ``over_levels`` repair's largest deviation per tag (see ``build_over_levels``)."""
    excess: int = 0
    """The ``over_levels`` repair's largest excess over a row's band."""
    scale: int = 1
    """The ``over_levels`` repair's weight of a centi-point over against a row at a level."""
    total_level: int | None = None
    """The ``over_levels`` repair's largest |total deviation| of a doctor, where it has one."""
    held_rules: tuple[str, ...] = ()
    """Soft rules whose own penalty a neighbourhood's part may not raise (the close duties
    from the soft stage's end on: the later stages may not trade them for other soft rules'
    penalties; ``StagedSolve._hold_bunching``)."""


class Neighbourhoods:
    """Draw sets of doctors whose whole rosters are re-solved; their number adapts.

    Whole rosters rather than windows of days: the even-load penalty is lowered by moving a
    duty from a busy month to a quiet one months apart. (Measured on the 250-GP year: parts of
    a quarter's days prove faster but ended at 111 019 against 106 504 for whole rosters.)
    """

    def __init__(self, instance: Instance, seed: int) -> None:
        self.instance = instance
        self.rng = random.Random(seed)
        self.active = [d for d, shifts in enumerate(instance.shifts_of_doctor) if shifts]
        half = max(2, len(self.active) // 2)
        sizes = [n for n in _SIZES if n < half] + [half]
        self._sizes = _Levels(
            sizes, sizes.index(min(sizes, key=lambda n: abs(n - _FIRST_SIZE))), self.rng
        )
        self._limits = _Levels(_STEP_LIMITS_S, 0, self.rng)
        self.size = sizes[self._sizes.level]
        self._shifts = [s for s, doctors in enumerate(instance.doctors_of_shift) if doctors]
        # A trainee and their supervisor are re-planned together (supervision ties them).
        linked: dict[int, set[int]] = {d: {d} for d in range(len(instance.doctors))}
        index = instance.doctor_index()
        for d_idx, doctor in enumerate(instance.doctors):
            if doctor.role == "trainee" and doctor.supervisor in index:
                merged = linked[d_idx] | linked[index[doctor.supervisor]]
                for member in merged:
                    linked[member] = merged
        self._group = {d: frozenset(members) for d, members in linked.items()}

    def group(self, d_idx: int) -> frozenset[int]:
        """Return the doctor with their trainee or supervisor (re-planned together)."""
        return self._group[d_idx]

    def applies(self) -> bool:
        """Return whether the model has enough doctors for a neighbourhood to be a part."""
        return len(self.active) >= 2 * MIN_DOCTORS and bool(self._shifts)

    def pick(
        self,
        penalty_of_doctor: Mapping[int, int] | None = None,
        taken: frozenset[int] = frozenset(),
        trading: Mapping[int, Sequence[int]] | None = None,
    ) -> frozenset[int]:
        """Return the next neighbourhood, none of it in ``taken``.

        With every trainee comes their supervisor and the other way round. ``taken`` are the
        doctors of the neighbourhoods searched at the same time. ``trading``: per doctor, the
        shifts whose colleagues a neighbourhood around them is drawn from (else any of theirs).
        """
        free = [d for d in self.active if not self._group[d] & taken]
        if not free:
            return frozenset()
        drawn = self._draw(penalty_of_doctor, free, trading or {})
        return frozenset().union(*(self._group[d] for d in drawn))

    def _draw(
        self,
        penalty_of_doctor: Mapping[int, int] | None,
        free: list[int],
        trading: Mapping[int, Sequence[int]],
    ) -> set[int]:
        """Draw a neighbourhood of one of three kinds among the ``free`` doctors.

        A doctor drawn in proportion to their own penalty with colleagues who can take one of
        their shifts (when ``penalty_of_doctor`` is known); colleagues eligible for one randomly
        drawn shift; doctors drawn at random.
        """
        size = min(self.size, len(free))
        allowed = set(free)
        draw = self.rng.random()
        carrying = [
            d for d, penalty in (penalty_of_doctor or {}).items() if penalty > 0 and d in allowed
        ]
        if carrying and draw < _TARGETED_SHARE:
            assert penalty_of_doctor is not None
            weights = [penalty_of_doctor[d] for d in carrying]
            seed = self.rng.choices(carrying, weights)[0]
            shift = self.rng.choice(trading.get(seed) or self.instance.shifts_of_doctor[seed])
            pool = [d for d in self.instance.doctors_of_shift[shift] if d != seed and d in allowed]
            return self._fill({seed}, pool, size, free)
        if draw < _TARGETED_SHARE + _SHIFT_SHARE:
            shift = self.rng.choice(self._shifts)
            pool = [d for d in self.instance.doctors_of_shift[shift] if d in allowed]
            return self._fill(set(), pool, size, free)
        return set(self.rng.sample(free, size))

    def _fill(self, chosen: set[int], pool: list[int], size: int, free: list[int]) -> set[int]:
        """Add doctors of ``pool`` to ``chosen`` up to ``size``, then others of ``free``."""
        wanted = size - len(chosen)
        if len(pool) >= wanted:
            return chosen | set(self.rng.sample(pool, wanted))
        chosen |= set(pool)
        others = [d for d in free if d not in chosen]
        return chosen | set(self.rng.sample(others, max(0, size - len(chosen))))

    def plan(self, *, timed: bool = True) -> float:
        """Choose the next step's neighbourhood size and return its searches' time limit.

        Each is the one that lowered the value fastest so far, or a neighbour being tried (see
        :class:`_Levels`). ``timed=False`` (a deterministic budget) keeps the limit.
        """
        self.size = int(self._sizes.choose())
        return self._limits.choose() if timed else self._limits.values[self._limits.level]

    def record(self, gain: int, spent_s: float) -> None:
        """Record what the last step lowered the value by, in how long."""
        self._sizes.record(gain, spent_s)
        self._limits.record(gain, spent_s)


@dataclass
class _Caps:
    """The earlier stages' largest values, which every row of a neighbourhood keeps."""

    tag_max: dict[str, int]
    max_excess: int
    at_largest: dict[str, set[int]]
    """Per tag, the doctors whose row sits at the tag's largest deviation."""

    total_max: int
    """The largest |total points - total target| of a doctor, which no neighbourhood raises.

    Not a stage of its own (the last stage sums them), but a figure a coordinator reads: on
    the 500-GP year the neighbourhoods raised it from the rotation's 67 points to 88.
    """

    holiday_max: int
    """The most duties touching a holiday one doctor has, which no neighbourhood raises (the
    coordinator's holiday-blocks figure: the 100- and 500-GP years went from 2 to 3)."""

    month_max: int
    """The most duty minutes of one doctor in a calendar month, which no neighbourhood from the
    soft stage on raises (the coordinator's most hours in a month: the monthly cap costs little
    per hour, and after the soft stage's trades had brought the 250-GP quarter's to 84 h, its
    neighbourhoods ended at 97 in a benchmark run)."""

    summed: dict[str, int]
    """The whole roster's summed deviation per tag and in total (``deviation``, ``total``)."""

    deviations: list[int] = field(default_factory=list)
    """Every fairness row's points - target, by row."""

    totals: dict[int, int] = field(default_factory=dict)
    """Each doctor's total deviation (the sum of their rows'), by doctor."""

    @classmethod
    def of(cls, instance: Instance, chosen: set[Pair]) -> _Caps:
        on_holiday: dict[int, int] = {}
        for d_idx, s_idx in chosen:
            if instance.shifts[s_idx].holidays:
                on_holiday[d_idx] = on_holiday.get(d_idx, 0) + 1
        holiday_max = max(on_holiday.values(), default=0)
        month_max = max(_month_minutes(instance, chosen).values(), default=0)
        deviations = row_deviations(instance, chosen)
        distances = [abs(deviation) for deviation in deviations]
        totals, summed = _sums(instance, deviations)
        total_max = max((abs(total) for total in totals.values()), default=0)
        tag_max: dict[str, int] = {}
        max_excess = 0
        for row, distance in zip(instance.targets, distances, strict=True):
            tag_max[row.tag] = max(tag_max.get(row.tag, 0), distance)
            max_excess = max(max_excess, distance - row.band_centi)
        at_largest: dict[str, set[int]] = {tag: set() for tag in tag_max}
        for row, distance in zip(instance.targets, distances, strict=True):
            if distance == tag_max[row.tag]:
                at_largest[row.tag].add(row.doctor_idx)
        return cls(
            tag_max,
            max_excess,
            at_largest,
            total_max,
            holiday_max,
            month_max,
            summed,
            deviations,
            totals,
        )

    def by_row(self, instance: Instance) -> dict[tuple[int, str], int]:
        """Return every fairness row's points - target by (doctor, tag)."""
        return {
            (row.doctor_idx, row.tag): deviation
            for row, deviation in zip(instance.targets, self.deviations, strict=True)
        }

    @property
    def figures(self) -> Figures:
        """Return the coordinator's figures that every neighbourhood keeps."""
        return Figures(self.total_max, self.holiday_max, self.month_max)

    @property
    def num_at_largest(self) -> int:
        """Return how many rows sit at their tag's largest deviation (the at-spread count)."""
        return sum(len(holders) for holders in self.at_largest.values())

    def slack(self, ceilings: Mapping[str, int], shared_by: int) -> dict[str, int]:
        """Return what each of ``shared_by`` neighbourhoods may add to a ceilinged sum."""
        slack = {}
        for name, ceiling in ceilings.items():
            left = ceiling - self.summed[name]
            if left < 0:
                raise SolverError(f"the roster's {name} {self.summed[name]} is over {ceiling}")
            slack[name] = left // max(1, shared_by)
        return slack

    def pinned(
        self,
        doctors: frozenset[int],
        largest: Mapping[str, int],
        together: Sequence[frozenset[int]] = (),
    ) -> set[str]:
        """Return the tags whose largest deviation ``doctors`` must keep.

        Those only the neighbourhoods searched together (``together``, in order, ``doctors``
        among them) hold, and ``doctors`` are the first of them who do: the others may then
        leave it, one of them stays.
        """
        groups = list(together) or [doctors]
        union = frozenset().union(*groups)
        kept = set()
        for tag, holders in self.at_largest.items():
            if self.tag_max[tag] != largest.get(tag) or not holders <= union:
                continue
            if next(group for group in groups if holders & group) == doctors:
                kept.add(tag)
        return kept


@dataclass(frozen=True)
class Figures:
    """A roster's largest values of the figures a coordinator reads that no stage lowers."""

    total_max: int
    """The largest |total points - total target| of a doctor (centi-points)."""
    holiday_max: int
    """The most duties touching a holiday of one doctor."""
    month_max: int | None
    """The most duty minutes of one doctor in a calendar month (of the duties' local start);
    None where not kept."""


def cap_figures(
    model: cp_model.CpModel,
    x: Mapping[Pair, cp_model.IntVar],
    instance: Instance,
    fairness: FairnessTerms,
    figures: Figures,
) -> None:
    """Cap every doctor's |total deviation|, duties touching a holiday and minutes per month.

    The figures a coordinator reads that no stage lowers (``_Caps.figures``): every
    neighbourhood keeps them (the month's from the soft stage on), and the whole model from
    the soft stage on (``CpSatModel.keep_figures``).
    """
    for total in fairness.total_of_doctor.values():
        model.add(total <= figures.total_max)
    for d_idx, own in enumerate(instance.shifts_of_doctor):
        on_holiday = [x[d_idx, s] for s in own if instance.shifts[s].holidays]
        if len(on_holiday) > figures.holiday_max:
            model.add(cp_model.LinearExpr.sum(on_holiday) <= figures.holiday_max)
        if figures.month_max is None:
            continue
        for shifts in instance.by_month(own).values():
            minutes = [instance.minutes_of(s) for s in shifts]
            if sum(minutes) > figures.month_max:
                load = cp_model.LinearExpr.weighted_sum([x[d_idx, s] for s in shifts], minutes)
                model.add(load <= figures.month_max)


class _Part:
    """One neighbourhood's own model: its stage part, the earlier stages kept, its roster."""

    def __init__(
        self,
        whole: Instance,
        doctors: frozenset[int],
        chosen: set[Pair],
        rules: frozenset[str],
        keep: frozenset[Pair],
        stage: Stage,
        caps: _Caps,
        together: Sequence[frozenset[int]] = (),
    ) -> None:
        """``together``: the neighbourhoods searched at the same time, this one among them."""
        self.slack = caps.slack(stage.ceilings, len(together))
        self.part: Neighbourhood = neighbourhood_instance(whole, doctors, chosen)
        # A kept pair outside the part is kept or not whatever the part does: left out.
        own_keep = self.part.own_pairs(keep)
        self.built: Assembled = assemble(self.part.instance, rules, own_keep)
        # Every duty of the part's doctors is a seat of the part.
        self.current = set(self.part.own_pairs(chosen))
        fairness, model = self.built.fairness, self.built.model
        self.kept: list[Expr] = [
            self.built.objectives[name]
            for name in stage.done
            if name not in _CAPPED_STAGES and name != stage.beside
        ]
        # The month's from the soft stage on: the largest deviations' lowering moves whole
        # weekends (held at the rotation's busiest month, the 100-GP year's start kept a
        # weekend spread of 43.98 points where it reached 41.57).
        soft_on = "soft" in (*stage.done, stage.name)
        figures = caps.figures if soft_on else replace(caps.figures, month_max=None)
        cap_figures(model, self.built.x, self.part.instance, fairness, figures)
        if "max_excess" in stage.done:
            assert fairness.max_excess is not None
            model.add(fairness.max_excess <= caps.max_excess)
        if "spread" in stage.done:
            for tag, tag_max in fairness.tag_max.items():
                model.add(tag_max <= caps.tag_max[tag])
        count: Expr | None = None
        if "at_spread" in stage.done or stage.name == "at_spread":
            # The whole model holds each tag's largest deviation at its value: where only
            # these doctors sit at it, one of them must stay there.
            assert stage.largest is not None
            count = build_at_spread(self.built.ctx, fairness, stage.largest, pinned=False)
            for tag in caps.pinned(doctors, stage.largest, together):
                model.add(fairness.tag_max[tag] == stage.largest[tag])
        if "at_spread" in stage.done:
            assert count is not None
            self.kept.append(count)
        if stage.held_rules:
            by_rule = penalty_by_rule(self.built.ctx)
            self.kept += [by_rule[rule] for rule in stage.held_rules if rule in by_rule]
        self.by_doctor = doctor_parts(self.built.ctx, fairness, stage.name) or {}
        if stage.name == "at_spread":
            assert count is not None
            self.expression = count
        elif stage.name == OVER_LEVELS:
            assert stage.levels is not None
            self.by_doctor = build_over_levels(
                self.built.ctx,
                fairness,
                stage.levels,
                stage.excess,
                stage.scale,
                stage.total_level,
            )
            self.expression = cp_model.LinearExpr.sum(list(self.by_doctor.values()))
        else:
            self.expression = self.built.objectives[stage.name]
        # The next stage's part breaks ties (see ``now``): a move that keeps this stage's
        # value is taken where it lowers the next one (as the at-spread stage's full search).
        self.tie_break = None if stage.then is None else self.built.objectives[stage.then]
        self.lowered: Expr = self.expression
        """What a search must lower: the stage's part, with the part of the stage beside it."""
        if stage.beside is not None:
            self.lowered = cp_model.LinearExpr.sum(
                [self.expression, self.built.objectives[stage.beside]]
            )
        self.searched: Expr = self.lowered

    def _fix(self, fixed: bool) -> None:
        variables = self.built.model.proto.variables
        for pair, var in self.built.x.items():
            domain = variables[var.index].domain
            domain.clear()
            value = int(pair in self.current)
            domain.extend([value, value] if fixed else [0, 1])

    def now(self, seed: int) -> tuple[cp_model.CpSolver, int]:
        """Solve with the current roster fixed; keep the earlier stages' parts at most as now.

        Returns the solver (its solution is a complete hint) and the stage part's value now.
        """
        self._fix(True)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = 10.0
        code = solver.solve(self.built.model)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise SolverError(
                f"a neighbourhood's roster breaks a rule of its own model ({code.name})"
            )
        self._fix(False)
        for expression in self.kept:
            self.built.model.add(expression <= int(solver.value(expression)))
        model = self.built.model
        for name, extra in self.slack.items():
            ceilinged = self.built.objectives[name]
            model.add(ceilinged <= int(solver.value(ceilinged)) + extra)
        if self.tie_break is not None:
            # scale * part + next, with next <= cap < scale, ranks by this stage's part first.
            cap = 2 * int(solver.value(self.tie_break)) + 100
            model.add(self.tie_break <= cap)
            self.searched = cp_model.LinearExpr.weighted_sum(
                [self.searched, self.tie_break], [cap + 1, 1]
            )
        model.minimize(self.searched)
        model.clear_hints()  # type: ignore[no-untyped-call]
        hint = model.proto.solution_hint
        hint.vars.extend(range(len(solver.response_proto.solution)))
        hint.values.extend(solver.response_proto.solution)
        return solver, int(solver.value(self.expression))

    def gain(self, before: cp_model.CpSolver, after: cp_model.CpSolver) -> int:
        """Return how much the search lowered the part (``lowered``)."""
        return int(before.value(self.lowered)) - int(after.value(self.lowered))

    def change(self, name: str | None, before: cp_model.CpSolver, after: cp_model.CpSolver) -> int:
        """Return how much the part changed stage ``name``'s whole value (0 where None).

        The part's value is the whole's share of its doctors (as its own stage's is), and
        every term is a function of the roster (``CpSatModel.evaluate``).
        """
        if name is None:
            return 0
        objective = self.built.objectives[name]
        return int(after.value(objective)) - int(before.value(objective))

    def chosen(self, solver: cp_model.CpSolver) -> set[Pair]:
        """Return the part's assignments in the solution, as pairs of the whole problem."""
        return {
            self.part.whole_pair(pair)
            for pair, var in self.built.x.items()
            if solver.boolean_value(var)
        }


def _lanes(neighbourhoods: Neighbourhoods, params: SolverParams) -> int:
    """Return how many neighbourhoods are searched at a time, each on one worker.

    CP-SAT releases Python's lock while it searches, so two small searches on one worker each
    run side by side. (Measured on the 250-GP year, soft stage, 20 s: one search at a time on
    2 workers lowered the rotation's penalty by 17 300, on 1 worker by 12 300.)
    """
    return max(1, min(params.num_workers, len(neighbourhoods.active) // (2 * MIN_DOCTORS)))


def _search(
    part: _Part, limit_s: float, seed: int, deterministic_s: float | None, workers: int
) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    if deterministic_s is not None:
        solver.parameters.max_deterministic_time = deterministic_s
    code = solver.solve(part.built.model)
    if code == cp_model.MODEL_INVALID:
        raise SolverError(f"CP-SAT rejected a neighbourhood: {part.built.model.validate()}")
    return code, solver


def improve(
    instance: Instance,
    chosen: set[Pair],
    value: int,
    stage: Stage,
    *,
    rules: frozenset[str],
    keep: frozenset[Pair] = frozenset(),
    until: float,
    params: SolverParams,
    deterministic_s: float | None = None,
    max_steps: int | None = None,
    penalty_of_doctor: Mapping[int, int] | None = None,
    on_improve: Callable[[int], None] | None = None,
    target: int = 0,
    tracked: str | None = None,
) -> LnsOutcome:
    """Lower the stage's value ``value`` of the roster ``chosen`` by neighbourhood searches.

    Stops at ``until`` (a ``time.perf_counter()`` value), once ``deterministic_s`` of
    deterministic time is spent or ``max_steps`` searches are made when given, or when the
    value reaches ``target``. ``penalty_of_doctor`` are the doctors' own parts of the value, where
    known: neighbourhoods are then also built around the doctors who carry it. A search that
    ends at the same value is also taken (a sideways move), for variety. With several
    workers, as many disjoint neighbourhoods are searched at a time (:func:`_lanes`); their
    results are taken in a fixed order, so a deterministic budget still repeats exactly.
    The change of another stage's value (``tracked``) is added up in ``LnsOutcome.tracked``.
    """
    neighbourhoods = Neighbourhoods(instance, params.random_seed)
    lanes = _lanes(neighbourhoods, params)
    # One search at a time (a small circle) has every worker; side by side, one each.
    workers = params.num_workers if lanes == 1 else 1
    best, best_value = set(chosen), value
    outcome = LnsOutcome(best, best_value, 0, 0, changed=False)
    carried = dict(penalty_of_doctor or {})
    spent_deterministic = 0.0
    overhead_s = 0.05 * lanes
    """What a step takes beyond its searches (building the parts, their rosters' values)."""
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        while best_value > target:
            step_started = time.perf_counter()
            limit_s = until - step_started - overhead_s
            # With a deterministic budget the wall clock is only a safety net.
            planned_s = neighbourhoods.plan(timed=deterministic_s is None)
            if deterministic_s is None:
                limit_s = min(planned_s, limit_s)
            if limit_s < _MIN_STEP_S:
                break
            if deterministic_s is not None and spent_deterministic >= deterministic_s:
                break
            if max_steps is not None and outcome.num_steps >= max_steps:
                break
            lowered, spent_before = 0, spent_deterministic
            # The caps hold all along; who sits at a tag's largest deviation changes.
            caps = _Caps.of(instance, best)
            if stage.name == "at_spread":
                carried = {d: 1 for holders in caps.at_largest.values() for d in holders}
            trading = (
                _trading(instance, caps.deviations, stage) if stage.name == OVER_LEVELS else None
            )
            groups: list[frozenset[int]] = []
            for _ in range(lanes):
                group = neighbourhoods.pick(carried, frozenset().union(*groups), trading)
                if group:
                    groups.append(group)
            parts = [
                _Part(instance, group, best, rules, keep, stage, caps, groups) for group in groups
            ]
            seeds = [params.random_seed + outcome.num_steps + n for n in range(len(parts))]
            nows = [part.now(seed) for part, seed in zip(parts, seeds, strict=True)]
            step_deterministic = (
                None
                if deterministic_s is None
                else min(
                    _STEP_DETERMINISTIC,
                    deterministic_s / 4,
                    (deterministic_s - spent_deterministic) / len(parts),
                )
            )
            searches = [
                pool.submit(_search, part, limit_s, seed, step_deterministic, workers)
                for part, seed in zip(parts, seeds, strict=True)
            ]
            longest = 0.0
            for part, (fixed, part_now), search in zip(parts, nows, searches, strict=True):
                code, solver = search.result()
                outcome.num_steps += 1
                longest = max(longest, solver.wall_time)
                spent_deterministic += max(
                    _STEP_CHARGE,
                    solver.response_proto.deterministic_time
                    + fixed.response_proto.deterministic_time,
                )
                if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                    continue
                if solver.value(part.searched) > fixed.value(part.searched):
                    continue
                found = int(solver.value(part.expression))
                lowered += part.gain(fixed, solver)
                doctors = frozenset(part.part.doctors)
                best = {pair for pair in best if pair[0] not in doctors} | part.chosen(solver)
                outcome.tracked += part.change(tracked, fixed, solver)
                carried.update(
                    {
                        part.part.doctors[d]: int(solver.value(expression))
                        for d, expression in part.by_doctor.items()
                    }
                )
                # (Beside another stage, this one's part may rise where that one's falls more.)
                best_value -= part_now - found
                if found < part_now:
                    outcome.num_improving += 1
                    if on_improve is not None:
                        on_improve(best_value)
            step_s = time.perf_counter() - step_started
            overhead_s = max(overhead_s, step_s - longest)
            neighbourhoods.record(
                lowered,
                step_s if deterministic_s is None else spent_deterministic - spent_before,
            )
    outcome.chosen, outcome.value, outcome.changed = best, best_value, best != chosen
    return outcome


def _trading(instance: Instance, deviations: Sequence[int], stage: Stage) -> dict[int, list[int]]:
    """Return, per doctor with a row at or over its level, their shifts of those rows' tags.

    A neighbourhood around such a doctor is drawn among colleagues of one of these shifts: a
    night short is made up by a colleague of the same area's nights, not of the post's weekends
    (on the 100-GP year two doctors' nights stayed over their level in 6 s otherwise).
    """
    assert stage.levels is not None
    tags: dict[int, set[str]] = {}
    for row, deviation in zip(instance.targets, deviations, strict=True):
        if abs(deviation) >= row_cap(stage.levels[row.tag], row.band_centi, stage.excess):
            tags.setdefault(row.doctor_idx, set()).add(row.tag)
    return {
        d_idx: [s for s in instance.shifts_of_doctor[d_idx] if own & instance.tag_points[s].keys()]
        for d_idx, own in tags.items()
    }


def _duties_by_doctor(instance: Instance, chosen: Collection[Pair]) -> dict[int, list[int]]:
    """Return each doctor's shifts in ``chosen``, in the order of their start days."""
    duties: dict[int, list[int]] = defaultdict(list)
    for d_idx, s_idx in chosen:
        duties[d_idx].append(s_idx)
    for shifts in duties.values():
        shifts.sort(key=lambda s: instance.start_day[s])
    return duties


def _close_duties(instance: Instance, duties: Mapping[int, list[int]]) -> dict[int, list[int]]:
    """Return, per doctor with two duties close together, those duties.

    ``duties`` are each doctor's in start order (:func:`_duties_by_doctor`). Close: the next
    starting at most the minimum-gap rule's ``close_days`` after the last day the one before
    holds (:meth:`Instance.last_day`, a block's last night), what a coordinator counts as
    bunched and the close-duties rule costs (none where the rule is off).
    """
    rule = instance.scenario.rules.min_days_between_duties
    if rule is None or rule.close_days == 0:
        return {}
    close: dict[int, list[int]] = {}
    for d_idx, shifts in duties.items():
        near = {
            s
            for first, second in pairwise(shifts)
            if instance.start_day[second] - instance.last_day(first) <= rule.close_days
            for s in (first, second)
        }
        if near:
            close[d_idx] = sorted(near)
    return close


def bring_under(
    instance: Instance,
    chosen: set[Pair],
    reference: Collection[Pair],
    *,
    rules: frozenset[str],
    until: float,
    params: SolverParams,
    deterministic_s: float | None = None,
) -> set[Pair] | None:
    """Return ``chosen`` at most as far from fair as ``reference`` up to the at-spread stage.

    No row above ``reference``'s largest deviation of its tag, nor further outside its band
    than ``reference``'s largest excess, and at most as many rows at those largest deviations
    as ``reference`` has (``build_over_levels``): the largest excess, the spread per tag and the
    at-spread count are then at most the reference's. A search of neighbourhoods (``improve``)
    drawn around the doctors over and colleagues who share those rows' duties, the largest and
    summed excess kept. Returns None where some row is still over its level at ``until`` (with
    more rows at the levels than ``reference`` has, the roster is returned: the at-spread stage
    lowers that count, and the caller judges).

    No tie-break by the soft penalty: with it the search proves each neighbourhood's soft part
    too, and did not get there in 6 s on the 100- and 250-GP years, nor on a 20-GP quarter in
    2 deterministic units (without: 2.8 s, 2.0-5.1 s and 2.9 s; the 250-GP year's soft penalty
    then 71 963 against 68 021 with it); the soft stage spaces the duties after.
    """
    reference_caps = _Caps.of(instance, set(reference))
    levels, excess = reference_caps.tag_max, reference_caps.max_excess
    wanted = reference_caps.num_at_largest
    scale = len(instance.targets) + 1
    parts = over_levels(instance, chosen, levels, excess, scale)
    value = sum(parts.values())
    if value > wanted and Neighbourhoods(instance, params.random_seed).applies():
        outcome = improve(
            instance,
            chosen,
            value,
            Stage(
                OVER_LEVELS,
                ("max_excess", "sum_excess"),
                levels=levels,
                excess=excess,
                scale=scale,
            ),
            rules=rules,
            until=until,
            params=params,
            deterministic_s=deterministic_s,
            penalty_of_doctor=parts,
            target=wanted,
        )
        chosen, value = outcome.chosen, outcome.value
    return chosen if value < scale else None


@dataclass
class _Budget:
    """The limits of a series of pair searches (``lower_largest``, ``trade``)."""

    until: float
    deterministic_s: float | None
    stop: Callable[[], bool] | None = None
    spent: float = 0.0
    """Deterministic time charged so far."""

    def left(self) -> float:
        """Return a pair search's wall-clock limit, or 0 once the budget is spent or stopped.

        With a deterministic budget the wall clock is only a safety net (tests repeat exactly).
        """
        if self.stop is not None and self.stop():
            return 0.0
        left_s = self.until - time.perf_counter()
        if self.deterministic_s is None:
            return min(_STEP_LIMITS_S[0], left_s)
        return left_s if self.spent < self.deterministic_s else 0.0

    def charge(self, *solvers: cp_model.CpSolver) -> None:
        """Charge a pair search's solves (at least ``_STEP_CHARGE``)."""
        self.spent += max(
            _STEP_CHARGE, sum(solver.response_proto.deterministic_time for solver in solvers)
        )


def lower_largest(
    instance: Instance,
    chosen: set[Pair],
    *,
    rules: frozenset[str],
    until: float,
    params: SolverParams,
    deterministic_s: float | None = None,
    summed_cap: int | None = None,
    stop: Callable[[], bool] | None = None,
    total_only: bool = False,
) -> set[Pair]:
    """Return ``chosen`` with each tag's largest deviation, then the largest total, lowered.

    A largest value is held by one doctor or a few, whom a neighbourhood drawn at random
    rarely holds with the one colleague who can take a duty off them. Here a doctor who holds
    a tag's largest deviation (the spread) or the largest |total deviation| (a figure a
    coordinator reads, which no stage lowers) is re-planned with each colleague in turn, by
    their deviation there, the other way first: ``build_over_levels`` with that level one
    centi-point under the roster's, every other tag's largest deviation, the largest excess
    and the largest total kept. A pair that takes the doctor under is kept, and the levels are
    read again; a level no colleague takes anyone under is not tried again. Where no pair takes
    the largest total's holder under, teams of a colleague who can take one of their duties
    and colleagues who can relieve them around it are tried (:func:`_relieved_teams`); a
    largest total at its bound for the tags' largest deviations is not tried at all. (A tag
    at its floor still is: skipping those let the 100-GP year's largest total be lowered
    sooner, and the holiday's largest deviation, held under it, ended at 48.51 points where it
    had reached 41.52 in every run before; one benchmark run.) A largest total that only a
    rise of the summed deviation per tag would lower stays where it is (a figure gives way to
    a stage: on the 500-GP quarter such a lowering from 95.10 points to 89.20 left the final
    summed deviation 2.86 points over the rotation's). Stops at ``until`` (or
    ``deterministic_s``), once ``stop()`` is true, or where nothing is lowered.
    Among a pair's rosters under the levels, the one of the least summed deviation per tag; a
    pair that takes the roster's summed deviation above ``summed_cap`` is passed over for the
    next colleague. With ``total_only`` only the largest total is tried, every tag's largest
    deviation and the count of rows at it kept (the soft stage's entry, after the at-spread
    stage: ``StagedSolve._lower_total``). Otherwise the tags' levels take their turn first,
    also those no pair lowers: on the 50-GP year's start they took all of 30 s without
    lowering anything, where the total alone fell from 79.24 points to 69.79 in 4.9 s.

    On the 50-GP year's start 2 of the 51 colleagues of the doctor at the largest total (85.85
    points) could take it under, where a neighbourhood of four drawn around them found neither
    in 88 steps (10 s); in 10 s the pairs took the largest total to 79.24 points and the
    weekend's largest deviation from 47.30 to 37.13 points, and the summed deviation per tag
    from 2 275.28 points to 2 218.72. A pair's own summed deviation may grow (held per pair,
    no pair lowered the largest total on the 50- or the 250-GP year); the whole roster's stays
    within ``summed_cap`` (on the 250-GP year lowering the holiday's largest deviation from
    48.62 points to 47.25 cost 1.5 % over the rotation's, so nothing is lowered there).
    """
    neighbourhoods = Neighbourhoods(instance, params.random_seed)
    if not neighbourhoods.applies():
        return chosen
    scale = len(instance.targets) + 1
    step_deterministic = None if deterministic_s is None else _STEP_DETERMINISTIC
    budget = _Budget(until, deterministic_s, stop)
    best = set(chosen)
    tried: set[tuple[str, int]] = set()
    """Levels (a tag, or "" for the total, and the value) that no pair took anyone under."""
    total_bounds: dict[tuple[tuple[str, int], ...], int] = {}
    """The largest total's bound at the tags' largest deviations (``largest_total_bound``)."""
    while budget.left() >= _MIN_STEP_S:
        caps = _Caps.of(instance, best)
        by_doctor: dict[int, dict[str, int]] = {}
        for row, deviation in zip(instance.targets, caps.deviations, strict=True):
            by_doctor.setdefault(row.doctor_idx, {})[row.tag] = deviation
        # Each doctor's deviation per tag, and in total under "".
        for d_idx, rows in by_doctor.items():
            rows[""] = caps.totals[d_idx]
        largest = {**caps.tag_max, "": caps.total_max}
        lowered = False
        tags = [] if total_only else sorted(caps.tag_max, key=lambda tag: -caps.tag_max[tag])
        for what in [*tags, ""]:
            if (what, largest[what]) in tried or largest[what] == 0:
                continue
            if not what:
                at = tuple(sorted(caps.tag_max.items()))
                if at not in total_bounds:
                    total_bounds[at] = largest_total_bound(instance, caps.tag_max)
                if caps.total_max <= total_bounds[at]:
                    continue  # proven the lowest at these levels
            holder = min(
                d for d, rows in by_doctor.items() if abs(rows.get(what, 0)) == largest[what]
            )
            levels = dict(caps.tag_max)
            if what:
                levels[what] -= 1
            stage = Stage(
                OVER_LEVELS,
                # After the at-spread stage, the count at the tags' levels is kept too.
                ("max_excess", "sum_excess", *(("at_spread",) if total_only else ())),
                largest=caps.tag_max if total_only else None,
                levels=levels,
                excess=caps.max_excess,
                scale=scale,
                total_level=caps.total_max - (0 if what else 1),
                then="deviation",
            )
            side = 1 if by_doctor[holder][what] > 0 else -1
            partners = sorted(
                (d for d in neighbourhoods.active if d not in neighbourhoods.group(holder)),
                key=lambda d: (side * by_doctor.get(d, {}).get(what, 0), d),
            )[:_PARTNERS]
            for team in _teams(instance, best, holder, caps, partners, total=not what):
                limit_s = budget.left()
                if limit_s < _MIN_STEP_S:
                    break
                doctors = neighbourhoods.group(holder).union(
                    *(neighbourhoods.group(d_idx) for d_idx in team)
                )
                part = _Part(instance, doctors, best, rules, frozenset(), stage, caps)
                fixed, _ = part.now(params.random_seed)
                code, solver = _search(part, limit_s, params.random_seed, step_deterministic, 1)
                budget.charge(solver, fixed)
                if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or (
                    int(solver.value(part.expression)) >= scale
                ):
                    continue
                moved = {pair for pair in best if pair[0] not in doctors} | part.chosen(solver)
                summed = _Caps.of(instance, moved).summed["deviation"]
                # The largest total is a figure, not a stage: lowering it may not cost the
                # summed deviation per tag, which a stage lowers.
                cap = summed_cap if what else caps.summed["deviation"]
                if cap is None or summed <= cap:
                    best, lowered = moved, True
                    break
            if lowered:
                break
            if budget.left() >= _MIN_STEP_S:
                tried.add((what, largest[what]))
        if not lowered:
            break
    return best


def _teams(
    instance: Instance,
    chosen: Collection[Pair],
    holder: int,
    caps: _Caps,
    partners: Sequence[int],
    *,
    total: bool,
) -> Iterator[tuple[int, ...]]:
    """Yield the colleagues to re-plan with a level's holder, in turn.

    Each partner alone, then, for the largest total, the teams of :func:`_relieved_teams`,
    listed only once every pair has been tried.
    """
    yield from ((partner,) for partner in partners)
    if total:
        yield from _relieved_teams(instance, chosen, holder, caps)


def _relieved_teams(
    instance: Instance, chosen: Collection[Pair], holder: int, caps: _Caps
) -> list[tuple[int, ...]]:
    """Return colleagues who could take a duty off the largest total, each with their relief.

    Where the doctor at the largest total deviation is over it, a duty of theirs that they can
    give up within every tag's largest deviation suits few colleagues: those whose rows can
    hold its points within the levels, and often only where a duty of theirs within
    ``_NEAR_DAYS`` goes to a third (rest, duties per 7 days), who may be of another
    subdivision than the holder. So per such duty, the most points first, the
    ``_TEAM_PARTNERS`` colleagues who can take it furthest under their total target, each with
    the ``_GROUP_COLLEAGUES`` colleagues who can take one of their duties near it, the
    clearest of duties around it first (:func:`_clearest_takers`). On the 100-GP quarter's
    start the holder (88.21 points over) could give up only an Easter weekend seat, which 4
    colleagues could hold within the holiday's largest deviation; no pair took the holder
    under, such teams took the largest total to 83.26 points in 6 s, with the summed deviation
    per tag a little lower (to 79.95 in 4 s, the lowest at those levels by
    ``bounds.largest_total_bound``, where it may rise: 2.36 points).
    """
    if caps.totals.get(holder, 0) <= 0:
        return []
    by_row = caps.by_row(instance)
    duties = _duties_by_doctor(instance, chosen)
    days = _duty_days(instance, duties)
    target = instance.target_by_row()

    def can_give(s_idx: int) -> bool:
        """Whether the holder's rows stay within the levels without the duty."""
        return all(
            by_row.get((holder, tag), 0) - points >= -caps.tag_max.get(tag, 0)
            for tag, points in instance.tag_points[s_idx].items()
        )

    def can_take(d_idx: int, s_idx: int) -> bool:
        """Whether the colleague's rows can hold the duty within the levels.

        Its points alone are over their target by no more than the tag's largest deviation
        (whatever else of those tags they give up for it).
        """
        return all(
            points - target.get((d_idx, tag), 0) <= caps.tag_max.get(tag, 0)
            for tag, points in instance.tag_points[s_idx].items()
        )

    given = sorted(
        (s_idx for s_idx in duties.get(holder, []) if can_give(s_idx)),
        key=lambda s_idx: (-sum(instance.tag_points[s_idx].values()), s_idx),
    )
    teams = []
    for s_idx in given:
        day = instance.start_day[s_idx]
        takers = sorted(
            (d for d in instance.doctors_of_shift[s_idx] if d != holder and can_take(d, s_idx)),
            key=lambda d_idx: (caps.totals.get(d_idx, 0), d_idx),
        )
        for taker in takers[:_TEAM_PARTNERS]:
            near = [
                other
                for other in duties.get(taker, [])
                if abs(instance.start_day[other] - day) <= _NEAR_DAYS
            ]
            relief = _clearest_takers(instance, days, near, (holder, taker), 1, _GROUP_COLLEAGUES)
            if relief:
                teams.append((taker, *(d_idx for d_idx, _ in relief)))
    return teams


TRADED_STAGES = ("deviation", "total")
"""Summed stages :func:`trade` lowers: a sum of each row's (or doctor's) distance to target."""


@dataclass(frozen=True)
class _Trade:
    """A pair of doctors and what moving one duty from ``giver`` to ``taker`` gains (its rank).

    ``others``: further colleagues re-planned with the two (:func:`_untangle_groups`).
    """

    gain: int
    giver: int
    taker: int
    others: tuple[int, ...] = ()

    @property
    def doctors(self) -> tuple[int, ...]:
        """Every doctor re-planned: the giver, the taker and the others."""
        return (self.giver, self.taker, *self.others)


def _by_gain(trades: Iterable[_Trade]) -> list[_Trade]:
    """Return trades the largest gain first (ties by giver, then taker)."""
    return sorted(trades, key=lambda t: (-t.gain, t.giver, t.taker))


def _trades(instance: Instance, chosen: Collection[Pair], caps: _Caps, name: str) -> list[_Trade]:
    """Return the pairs where one duty moving from the one to the other lowers ``name`` by itself.

    A duty of points p moved from a doctor at deviation a to one at b gains
    |a| + |b| - |a - p| - |b + p|: per tag for the summed deviation per tag, over the doctor's
    total for the summed total. A move for the total must not cost the sum per tag (the stage
    before it, which it keeps); a move for the sum per tag is ranked by what it gains there and
    in total together. Per (giver, taker), the best such move, best first (:func:`trade`
    re-plans each with their trainee or supervisor).
    """
    rows = caps.by_row(instance)
    totals = caps.totals

    def change(doctor: int, points: Mapping[str, int], sign: int) -> tuple[int, int]:
        """Return what the doctor's rows and their total gain from ``sign`` x the points."""
        per_tag = moved = 0
        for tag, p in points.items():
            deviation = rows.get((doctor, tag))
            if deviation is not None:  # points of a tag without a row count for nothing
                per_tag += abs(deviation) - abs(deviation + sign * p)
                moved += sign * p
        total = totals.get(doctor, 0)
        return per_tag, abs(total) - abs(total + moved)

    best: dict[tuple[int, int], int] = {}
    for giver, s_idx in chosen:
        points = instance.tag_points[s_idx]
        over = (
            any(rows.get((giver, tag), 0) > 0 for tag in points)
            if name == "deviation"
            else totals.get(giver, 0) > 0
        )
        if not over:
            continue  # at or under target the giver loses p, more than the taker can gain
        giving = change(giver, points, -1)
        for taker in instance.doctors_of_shift[s_idx]:
            if taker == giver:
                continue
            taking = change(taker, points, 1)
            per_tag, total = giving[0] + taking[0], giving[1] + taking[1]
            if name == "deviation" and per_tag > 0:
                rank = per_tag + total
            elif name == "total" and total > 0 and per_tag >= 0:
                rank = total
            else:
                continue
            # Any rank: a move for the sum per tag may cost the total more than it gains.
            if (giver, taker) not in best or rank > best[giver, taker]:
                best[giver, taker] = rank
    return _by_gain(_Trade(rank, giver, taker) for (giver, taker), rank in best.items())


_EXCHANGES_PER_DOCTOR = 3
"""Colleagues listed per doctor over target for an exchange: the first who gain, most under
target first."""


def _exchanges(instance: Instance, chosen: Collection[Pair], caps: _Caps) -> list[_Trade]:
    """Return the pairs where two duties of a tag, exchanged, lower the summed deviation per tag.

    Where a tag's duties differ in points (weekends of 61, 84 and 86 hours), a doctor over
    target who gives a larger one for a colleague's smaller one moves by the difference, where
    handing one over (:func:`_trades`) would move them both past target. Per tag, each doctor
    over target is paired with the colleagues most under it who hold a duty of that tag with
    fewer points and can take one of theirs (and they one of the colleague's), the first
    ``_EXCHANGES_PER_DOCTOR`` who gain over every tag of the two duties; ranked by that gain.
    On the 500-GP year's start (19 438.03 points), single moves and exchanges took the
    summed deviation per tag to the rotation's (19 349.49) in 4.0 s and to 19 182.45 in 20 s,
    the weekend's from 11 031.29 to 10 807.07 (the rotation's: 10 993.75); the single moves
    alone stop at 19 374.83.
    """
    rows = caps.by_row(instance)
    held: dict[tuple[int, str], dict[tuple[tuple[str, int], ...], int]] = defaultdict(dict)
    """Per doctor and tag, one duty of each distinct set of points they hold."""
    for d_idx, s_idx in sorted(chosen):
        points = instance.tag_points[s_idx]
        for tag in points:
            held[d_idx, tag].setdefault(tuple(sorted(points.items())), s_idx)
    eligible: dict[int, frozenset[int]] = {}

    def can_take(doctor: int, s_idx: int) -> bool:
        if s_idx not in eligible:
            eligible[s_idx] = frozenset(instance.doctors_of_shift[s_idx])
        return doctor in eligible[s_idx]

    def gain(giver: int, given: int, taker: int, taken: int) -> int:
        moved: dict[str, int] = defaultdict(int)
        for tag, p in instance.tag_points[given].items():
            moved[tag] += p
        for tag, p in instance.tag_points[taken].items():
            moved[tag] -= p
        gained = 0
        for tag, p in moved.items():
            a, b = rows.get((giver, tag)), rows.get((taker, tag))
            gained += 0 if a is None else abs(a) - abs(a - p)
            gained += 0 if b is None else abs(b) - abs(b + p)
        return gained

    found: list[_Trade] = []
    for tag in sorted({row.tag for row in instance.targets}):
        deviations = {d_idx: dev for (d_idx, t), dev in rows.items() if t == tag}
        under = sorted((d for d, dev in deviations.items() if dev < 0), key=deviations.__getitem__)
        for giver in sorted(d for d, dev in deviations.items() if dev > 0):
            gains: dict[int, int] = {}
            for taker in under:
                if len(gains) == _EXCHANGES_PER_DOCTOR:
                    break
                best = max(
                    (
                        gain(giver, given, taker, taken)
                        for given in held.get((giver, tag), {}).values()
                        if can_take(taker, given)
                        for taken in held.get((taker, tag), {}).values()
                        if instance.tag_points[taken][tag] < instance.tag_points[given][tag]
                        and can_take(giver, taken)
                    ),
                    default=0,
                )
                if best > 0:
                    gains[taker] = best
            found += [_Trade(g, giver, taker) for taker, g in gains.items()]
    return _by_gain(found)


_UNTANGLE_CLEAR_DAYS = 7
"""A colleague who takes one of two close duties has none of their own within so many days."""
_UNTANGLES_PER_DOCTOR = 3
"""Colleagues listed per doctor with close duties: the clearest, not every eligible one."""
_GROUP_COLLEAGUES = 6
"""Colleagues re-planned at once with a doctor whose close duties no pair untangled."""


def _clearest_takers(
    instance: Instance,
    days: Mapping[int, Sequence[tuple[int, int]]],
    shifts: Iterable[int],
    left_out: Collection[int],
    clear_days: int,
    per: int,
) -> list[tuple[int, int]]:
    """Return who could take one of ``shifts``, clear of duties of their own around it.

    Colleagues eligible for one of the shifts (but those ``left_out``) with no duty of their
    own (``days``: each doctor's duties as the days they hold, :func:`_duty_days`) within
    ``clear_days`` of it, as (colleague, days to their nearest duty), the ``per`` clearest
    first. Days apart are counted as the close-duties rule counts them: from the earlier
    duty's last night to the later one's start.
    """
    clearest: dict[int, int] = {}
    for s_idx in shifts:
        held = (instance.start_day[s_idx], instance.last_day(s_idx))
        for taker in instance.doctors_of_shift[s_idx]:
            if taker in left_out:
                continue
            clear = min(
                (_days_apart(other, held) for other in days.get(taker, ())),
                default=instance.num_days,
            )
            if clear >= clear_days and clear > clearest.get(taker, 0):
                clearest[taker] = clear
    return sorted(clearest.items(), key=lambda item: (-item[1], item[0]))[:per]


def _duty_days(
    instance: Instance, duties: Mapping[int, list[int]]
) -> dict[int, list[tuple[int, int]]]:
    """Return each doctor's duties as the (first, last) days they hold.

    ``duties`` from :func:`_duties_by_doctor`; a duty holds its start day to its last night's
    (:meth:`Instance.last_day`).
    """
    return {
        d_idx: [(instance.start_day[s], instance.last_day(s)) for s in shifts]
        for d_idx, shifts in duties.items()
    }


def _days_apart(one: tuple[int, int], other: tuple[int, int]) -> int:
    """Return the days between two duties' held days (0 where they share one)."""
    return max(other[0] - one[1], one[0] - other[1], 0)


def _clear_colleagues(
    instance: Instance, chosen: Collection[Pair], clear_days: int, per_doctor: int
) -> dict[int, list[tuple[int, int]]]:
    """Return, per doctor with two duties close together, colleagues who could take one.

    Those who can take one of the close duties (:func:`_close_duties`) and have no duty of
    their own within ``clear_days`` of it (:func:`_clearest_takers`), the ``per_doctor``
    clearest first.
    """
    duties = _duties_by_doctor(instance, chosen)
    days = _duty_days(instance, duties)
    return {
        giver: _clearest_takers(instance, days, shifts, (giver,), clear_days, per_doctor)
        for giver, shifts in sorted(_close_duties(instance, duties).items())
    }


def _untangles(instance: Instance, chosen: Collection[Pair]) -> list[_Trade]:
    """Return the pairs where a colleague could take one of a doctor's close duties.

    Per doctor with two duties close together, the ``_UNTANGLES_PER_DOCTOR`` colleagues who
    can take one of them and have no duty of their own within ``_UNTANGLE_CLEAR_DAYS`` of it,
    the clearest first (the gain is the days to their nearest duty).
    On the 250-GP year the soft stage's neighbourhoods left 28-33 such pairs in 60 s (none in
    150 s); re-planning these pairs first took the close duties from 98 to 6 in 3.7 s.
    """
    colleagues = _clear_colleagues(instance, chosen, _UNTANGLE_CLEAR_DAYS, _UNTANGLES_PER_DOCTOR)
    found = [
        _Trade(clear, giver, taker)
        for giver, ranked in colleagues.items()
        for taker, clear in ranked
    ]
    return _by_gain(found)


def _untangle_groups(instance: Instance, chosen: Collection[Pair]) -> list[_Trade]:
    """Return, per doctor with close duties, the colleagues re-planned with them at once.

    Where no pair untangles a doctor's close duties (:func:`_untangles`) with everything the
    stage keeps held, more colleagues at once may: one takes a duty, another one of theirs. A
    group is the doctor with the ``_GROUP_COLLEAGUES`` clearest colleagues who can take one of
    the duties without a close pair of their own (none of theirs within the rule's
    ``close_days``), ranked by the clearest. On the 500-GP year the pairs left 5 doctors with
    close duties; such groups untangled 3 of them in 3 s (one run).
    """
    rule = instance.scenario.rules.min_days_between_duties
    if rule is None or rule.close_days == 0:
        return []
    colleagues = _clear_colleagues(instance, chosen, rule.close_days + 1, _GROUP_COLLEAGUES)
    found = [
        _Trade(ranked[0][1], giver, ranked[0][0], tuple(taker for taker, _ in ranked[1:]))
        for giver, ranked in colleagues.items()
        if ranked
    ]
    return _by_gain(found)


Month = tuple[int, int, int]
"""A doctor's calendar month: (doctor index, year, month)."""
_LIGHTENS_PER_DOCTOR = 3
"""Colleagues listed per doctor with a month over the monthly cap: the lightest that month."""


def _month_minutes(instance: Instance, chosen: Iterable[Pair]) -> dict[Month, int]:
    """Return each doctor's duty minutes per calendar month of the duties' local start."""
    minutes: dict[Month, int] = defaultdict(int)
    for d_idx, s_idx in chosen:
        minutes[(d_idx, *instance.month_of(s_idx))] += instance.minutes_of(s_idx)
    return minutes


def _lightens(instance: Instance, chosen: Collection[Pair]) -> list[_Trade]:
    """Return the pairs where a colleague could take a duty of a doctor's month over the cap.

    Per doctor with a calendar month over the soft monthly cap (``max_hours_per_month``), the
    colleagues who can take one of that month's duties and stay within the cap with it: the
    ``_LIGHTENS_PER_DOCTOR`` lightest that month, the doctors whose busiest month is furthest
    over the cap first (their gain). Ranked by the colleagues' room instead, the 20-GP
    quarter's trades ended at 133 h rather than 121.

    The cap costs little per hour, so the neighbourhoods leave such months where they are: on
    the 500-GP year two doctors had a weeknight and a day duty in the month of an 86-h holiday
    weekend (109 h), a figure a coordinator reads (the most hours in a month); with these
    pairs, 86 h (the weekend alone).
    """
    rule = instance.scenario.rules.max_hours_per_month
    if rule is None or rule.hard:
        return []
    cap_min = round(rule.hours * 60)
    duties = _duties_by_doctor(instance, chosen)
    minutes = _month_minutes(instance, chosen)
    found: list[_Trade] = []
    for giver, shifts in sorted(duties.items()):
        lightest: dict[int, int] = {}
        over = 0
        for s_idx in shifts:
            month = instance.month_of(s_idx)
            if minutes[(giver, *month)] <= cap_min:
                continue
            over = max(over, minutes[(giver, *month)] - cap_min)
            duration = instance.minutes_of(s_idx)
            for taker in instance.doctors_of_shift[s_idx]:
                room = cap_min - minutes.get((taker, *month), 0) - duration
                if taker != giver and room >= 0 and room > lightest.get(taker, -1):
                    lightest[taker] = room
        ranked = sorted(lightest.items(), key=lambda item: (-item[1], item[0]))
        found += [_Trade(over, giver, taker) for taker, _ in ranked[:_LIGHTENS_PER_DOCTOR]]
    return _by_gain(found)


def trade(
    instance: Instance,
    chosen: set[Pair],
    value: int,
    stage: Stage,
    *,
    rules: frozenset[str],
    keep: frozenset[Pair] = frozenset(),
    until: float,
    params: SolverParams,
    deterministic_s: float | None = None,
    target: int = 0,
    stop: Callable[[], bool] | None = None,
    tracked: str | None = None,
) -> LnsOutcome:
    """Lower a summed deviation (``TRADED_STAGES``) or the soft penalty by re-planning pairs.

    A sum of distances to target falls where a doctor over target hands a duty to a colleague
    under it who can take it (:func:`_trades`); a neighbourhood drawn at random rarely holds
    those two. The soft penalty falls where a doctor with two duties close together hands one
    to a colleague clear of duties around it (:func:`_untangles`), or a doctor with a month
    over the monthly cap one of its duties to a colleague light that month (:func:`_lightens`).
    Each such pair is re-planned in turn, the largest gain first (the close duties' pairs
    before the months'), with the stage's part as its objective and everything the stage keeps
    (``_Part``); a pair that lowers it is kept. A pass over the pairs skips those with a doctor
    changed since they were listed, and the next pass lists them again; a pair that lowered
    nothing is not tried again until one of its doctors changes. After a soft pass of pairs
    that changed nothing, each doctor with close duties left is re-planned with several
    colleagues at once (:func:`_untangle_groups`); where that changed something, the pairs
    are listed again.
    Stops at ``until`` (or ``deterministic_s``), at ``target``, once ``stop()`` is true, or
    after a pass that changed nothing. The change of stage ``tracked``'s value is added up
    (``LnsOutcome.tracked``). (The 100-GP quarter's start was 772 centi-points above
    the rotation's summed deviation per tag; random neighbourhoods took 330 off in 6.8 s,
    three pairs took 874 in 0.1 s.)
    """
    neighbourhoods = Neighbourhoods(instance, params.random_seed)
    best, best_value = set(chosen), value
    outcome = LnsOutcome(best, best_value, 0, 0, changed=False)
    if stage.name not in (*TRADED_STAGES, "soft") or not neighbourhoods.applies():
        return outcome
    step_deterministic = None if deterministic_s is None else _STEP_DETERMINISTIC
    budget = _Budget(until, deterministic_s, stop)
    changed_at: dict[int, int] = {}
    """The step at which a doctor's roster last changed."""
    failed_at: dict[frozenset[int], int] = {}
    """The step at which a pair last lowered nothing."""
    moved, grouped = True, False
    caps = _Caps.of(instance, best)
    while moved and best_value > target and budget.left() >= _MIN_STEP_S:
        listed_at, moved = outcome.num_steps, False
        if stage.name != "soft":
            listed = _trades(instance, best, caps, stage.name) + (
                _exchanges(instance, best, caps) if stage.name == "deviation" else []
            )
        elif grouped:
            listed = _untangle_groups(instance, best)
        else:
            listed = _untangles(instance, best) + _lightens(instance, best)
        for pair in listed:
            doctors = frozenset().union(*(neighbourhoods.group(d) for d in pair.doctors))
            changed = max(changed_at.get(d, -1) for d in doctors)
            if changed >= listed_at or failed_at.get(doctors, -1) > changed:
                # Listed before one of them changed (listed again), or tried since.
                continue
            limit_s = budget.left()
            if limit_s < _MIN_STEP_S or best_value <= target:
                break
            seed = params.random_seed + outcome.num_steps
            part = _Part(instance, doctors, best, rules, keep, stage, caps)
            fixed, now = part.now(seed)
            code, solver = _search(part, limit_s, seed, step_deterministic, 1)
            step = outcome.num_steps
            outcome.num_steps += 1
            budget.charge(solver, fixed)
            if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or part.gain(fixed, solver) <= 0:
                failed_at[doctors] = step
                continue
            found = int(solver.value(part.expression))
            best = {p for p in best if p[0] not in doctors} | part.chosen(solver)
            best_value -= now - found
            outcome.tracked += part.change(tracked, fixed, solver)
            outcome.num_improving += 1
            changed_at.update(dict.fromkeys(doctors, step))
            moved = True
            # The caps are the roster's as it is now (for the next pair and the next listing):
            # what a later stage's sum may still grow by is what this pair left of it.
            caps = _Caps.of(instance, best)
        # A soft pass of pairs that changed nothing is followed by one of groups; pairs again
        # where that changed something.
        if stage.name == "soft" and not moved and not grouped:
            grouped = moved = True
        else:
            grouped = False
    outcome.chosen, outcome.value, outcome.changed = best, best_value, best != chosen
    outcome.spent_deterministic = budget.spent
    return outcome


def trade_summed(
    instance: Instance,
    chosen: set[Pair],
    *,
    rules: frozenset[str],
    until: float,
    params: SolverParams,
    deterministic_s: float | None = None,
    stop: Callable[[], bool] | None = None,
) -> set[Pair]:
    """Return ``chosen`` with its summed deviation per tag, then in total, lowered by pairs.

    :func:`trade` with every tag's largest deviation, the largest excess and the count at the
    largest deviations kept, and the soft penalty breaking ties (the staged solve's start:
    its summed deviations are what the stages from the soft one on keep, where a rotation's
    are not lower).
    """
    done: tuple[str, ...] = ("max_excess", "sum_excess", "spread", "at_spread")
    largest = _Caps.of(instance, chosen).tag_max
    for name in TRADED_STAGES:
        chosen = trade(
            instance,
            chosen,
            summed_deviations(instance, chosen)[name],
            Stage(name, done, largest, then="soft"),
            rules=rules,
            until=until,
            params=params,
            deterministic_s=deterministic_s,
            stop=stop,
        ).chosen
        done = (*done, name)
    return chosen


def _sums(instance: Instance, deviations: Sequence[int]) -> tuple[dict[int, int], dict[str, int]]:
    """Return each doctor's total deviation, and the summed deviations (``_Caps.summed``)."""
    totals: dict[int, int] = {}
    for row, deviation in zip(instance.targets, deviations, strict=True):
        totals[row.doctor_idx] = totals.get(row.doctor_idx, 0) + deviation
    summed = {
        "deviation": sum(abs(deviation) for deviation in deviations),
        "total": sum(abs(total) for total in totals.values()),
    }
    return totals, summed


def summed_deviations(instance: Instance, chosen: set[Pair]) -> dict[str, int]:
    """Return a roster's summed deviation per tag and in total (``deviation``, ``total``)."""
    return _sums(instance, row_deviations(instance, chosen))[1]


def summed_by_doctor(instance: Instance, chosen: set[Pair], name: str) -> dict[int, int]:
    """Return each doctor's part of a summed deviation (``TRADED_STAGES``) for a roster.

    Per doctor with a fairness row, as ``objective.doctor_parts`` in a solution: the summed
    deviation per tag, their rows' |points - target|; the summed total, |their total|.
    """
    deviations = row_deviations(instance, chosen)
    if name == "total":
        return {d_idx: abs(total) for d_idx, total in _sums(instance, deviations)[0].items()}
    parts: dict[int, int] = {}
    for row, deviation in zip(instance.targets, deviations, strict=True):
        parts[row.doctor_idx] = parts.get(row.doctor_idx, 0) + abs(deviation)
    return parts


def largest_figures(instance: Instance, chosen: set[Pair]) -> Figures:
    """Return a roster's figures that every neighbourhood keeps (``_Caps.figures``)."""
    return _Caps.of(instance, chosen).figures
