"""Fairness per doctor against what their shifts can reach, and the bounds that prove stages."""

import time
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

from benchmarks.generate import generate
from tests.helpers import FAST, WEEKEND, WEEKNIGHT, scenario_of, solve_checked, tiny_doc
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.expand import expand_shifts
from wachtplanner.io.scenario_files import load_scenario
from wachtplanner.result import SolveStatus
from wachtplanner.solver.bounds import fairness_bounds, largest_total_bound, reachable_totals
from wachtplanner.solver.cpsat import relaxation
from wachtplanner.solver.cpsat import staged as staged_module
from wachtplanner.solver.cpsat.lns import _Caps
from wachtplanner.solver.cpsat.model import CpSatModel
from wachtplanner.solver.cpsat.relaxation import tag_bound, total_bound
from wachtplanner.solver.cpsat.staged import StagedSolve
from wachtplanner.solver.greedy import greedy_roster
from wachtplanner.solver.instance import compile_instance
from wachtplanner.stats.quality import roster_quality


def test_reachable_totals_by_hand():
    """Two 79.30-point weekends and a 31.20-point Easter part: sums 0, 31.20, 79.30, 110.50,
    158.60 and 189.80; a 47.28-point target is nearest to 31.20 (16.08 away)."""
    totals = reachable_totals([7930, 7930, 3120], cap=20000)
    assert totals == [0, 3120, 7930, 11050, 15860, 18980]
    assert min(abs(t - 4728) for t in totals) == 1608


def _four_weekends(doctors: int = 4) -> Scenario:
    """The four weekends of February 2027 (79.3 points each: 61 h x 1.3), one doctor each,
    among ``doctors`` doctors; no spacing rule, so no doctor is kept from a second one."""
    doc = tiny_doc(
        doctors,
        horizon={"start": "2027-02-01", "end": "2027-02-28"},
        shift_types=[dict(WEEKEND)],
        rules={"min_days_between_weekends": None},
    )
    return scenario_of(doc)


def test_every_doctor_ends_at_the_total_nearest_their_target():
    """Per doctor, not per band: each target is 79.3 (a quarter of 4 x 79.3), the nearest
    reachable total is one weekend, and the solved roster gives each doctor exactly that
    (deviation 0 = their floor). A roster giving one doctor none and another two would still be
    "within one shift" of target, which is why the band alone proves little on weekends."""
    scenario = _four_weekends()
    result = solve_checked(scenario)
    assert result.evaluation is not None
    instance = compile_instance(scenario, expand_shifts(scenario))
    floors = fairness_bounds(instance).floors
    for row, floor in zip(
        sorted(result.evaluation.fairness, key=lambda r: (r.doctor_id, r.tag)), floors, strict=True
    ):
        assert round(abs(row.deviation) * 100) == floor == 0


def test_bounds_never_exceed_what_a_roster_reaches(demo_solved):
    """On the demo: each row's floor is at most its deviation, each stage's bound at most its
    value, and the spread stage is within 2 % of its bound."""
    scenario, result = demo_solved
    assert result.evaluation is not None
    instance = compile_instance(scenario, result.shifts)
    bounds = fairness_bounds(instance)
    rows = {(r.doctor_id, r.tag): r for r in result.evaluation.fairness}
    for target, floor in zip(instance.targets, bounds.floors, strict=True):
        row = rows[instance.doctors[target.doctor_idx].id, target.tag]
        assert floor <= round(abs(row.deviation) * 100)
    for stage in result.stages:
        assert stage.bound <= stage.objective
    spread = next(s for s in result.stages if s.name == "spread")
    assert bounds.spread <= spread.bound
    assert spread.gap <= 0.02


def test_the_largest_total_bound_by_hand():
    """On the 100-GP benchmark quarter at its start's largest deviations per tag (day 5.99,
    holiday 53.77, night 8.62, weekend 53.95 points). The Easter weekend (61.10 weekend and
    55.50 holiday points) needs 2 doctors. A holder's holiday row is 55.50 - target over, so
    at most 53.77 only with a holiday target of 1.73 or more: 4 doctors. Each one's lowest
    total with it, their other rows at the lowest total within the level:

    - charlotte-maes (day 28.03, night 37.84, weekend 36.31, holiday 2.16): day at least
      22.04, so 24 (3 x 8): -4.03; night at least 29.22, so 39 (3 x 13): +1.16; weekend
      61.10: +24.79; holiday 55.50: +53.34; in all 75.26;
    - tom-peeters (day 23.28, night 31.42, weekend 30.15, holiday 1.80): day 24: +0.72;
      night at least 22.80, so 26: -5.42; weekend +30.95; holiday +53.70; in all 79.95;
    - filip-peeters and olivia-peeters-72: 84.41 and 88.21 (the start's holder).

    Two different doctors hold the seats, so one of them is 79.95 over at least."""
    path = Path(__file__).parents[1] / "benchmarks" / "instances" / "circle-100-2027-q1.yaml"
    scenario = load_scenario(path)
    instance = compile_instance(scenario, expand_shifts(scenario))
    levels = {"day": 599, "holiday": 5377, "night": 862, "weekend": 5395}
    assert largest_total_bound(instance, levels) == 7995


@pytest.mark.parametrize("roster", ["solved", "rotation", "literal rotation"])
def test_the_largest_total_bound_never_exceeds_what_a_roster_reaches(demo_solved, roster):
    """At a roster's own largest deviation per tag, the bound is at most its largest total,
    both read from the checker (on the demo's rotations it is their largest total exactly:
    72.41 and 62.61 points, measured)."""
    scenario, result = demo_solved
    instance = compile_instance(scenario, result.shifts)
    if roster == "solved":
        checked = result.roster
    else:
        rotation = greedy_roster(instance, literal=roster == "literal rotation")
        checked = instance.roster_of(rotation.chosen)
    evaluation = evaluate_roster(scenario, result.shifts, checked)
    assert evaluation.hard_violations == ()
    levels: dict[str, int] = {}
    for row in evaluation.fairness:
        levels[row.tag] = max(levels.get(row.tag, 0), round(abs(row.deviation) * 100))
    largest = roster_quality(result.shifts, checked, evaluation).largest_total_deviation
    bound = largest_total_bound(instance, levels)
    assert 0 < bound <= round(largest * 100)


def test_the_at_spread_relaxation_counts_the_doctors_seats_leave_without():
    """By hand: each target is 4 x 79.30 / 6 = 52.87 points. A weekend puts a doctor 26.43
    above, none 52.87 below, two 105.73 above; so with the largest deviation held at 52.87
    every doctor does at most one weekend, and the four seats leave two doctors with none:
    two rows at 52.87. Each row's floor is 26.43 (one weekend), so the floors alone only say
    one (whoever sits at the largest value)."""
    scenario = _four_weekends(6)
    instance = compile_instance(scenario, expand_shifts(scenario))
    (target,) = {row.target_centi for row in instance.targets}
    assert target == 5287
    bounds = fairness_bounds(instance)
    assert bounds.at_spread_by_tag(instance, {"weekend": target}) == {"weekend": 1}
    relaxed = tag_bound(
        instance,
        "weekend",
        objective="at",
        cap=target,
        deadline=time.perf_counter() + 10,
        num_workers=1,
    )
    assert relaxed == 2


def test_the_pattern_relaxation_by_hand():
    """The six doctors of four weekends, target 52.87 points each. A doctor's patterns: no
    weekend (52.87 below), one (26.43 above), two (105.73 above), three (184.03 above). Each
    row's floor is 26.43 (its nearest pattern); with four seats for six doctors two end with
    none, so the largest is 52.87 (the seat count says so too), found by the probes whether
    held within the roster's 52.87 (one probe at 26.43: infeasible) or within 200 points
    (descending from 184.03).
    The sum within 52.87: four rows at 26.43 and two at 52.87, 4 x 2 643 + 2 x 5 287 =
    21 146."""
    scenario = _four_weekends(6)
    instance = compile_instance(scenario, expand_shifts(scenario))
    assert set(fairness_bounds(instance).floors) == {2643}

    def bound(objective: str, *, cap: int | None = None, within: int | None = None) -> int:
        deadline = time.perf_counter() + 10
        return tag_bound(
            instance,
            "weekend",
            objective=objective,
            deadline=deadline,
            num_workers=1,
            cap=cap,
            within=within,
        )

    assert bound("max", within=5287) == 5287
    assert bound("max", within=20000) == 5287
    assert bound("sum", cap=5287) == 21146


def test_the_patterns_and_the_counts_are_one_relaxation():
    """Two statements of the same relaxation (one block-count pattern per row, or a count per
    block size) must agree where both are proven: every tag group of a 20-GP year (two areas:
    two groups of days, two of nights, one of holidays, one of weekends), its largest, its sum
    and its count at the largest within the tag's largest. The counts' largest is not held."""
    scenario = scenario_of(generate(20, 2, 2027, seed=2))
    instance = compile_instance(scenario, expand_shifts(scenario))
    rotation = _Caps.of(instance, set(greedy_roster(instance).chosen)).tag_max
    compared = 0
    for tag, within in sorted(rotation.items()):
        largest = tag_bound(
            instance,
            tag,
            objective="max",
            deadline=time.perf_counter() + 30,
            num_workers=1,
            within=within,
        )
        assert largest <= within
        for group in instance.tag_groups(tag):
            if not group.shifts:
                continue
            for objective in ("max", "sum", "at"):
                assert relaxation._group_patterns(instance, tag, group, largest) is not None
                cap = None if objective == "max" else largest
                patterns = relaxation._group_bound_patterns(
                    instance,
                    tag,
                    group,
                    objective=objective,
                    cap=cap,
                    within=largest,
                    time_limit_s=30.0,
                    num_workers=1,
                    deterministic_s=None,
                )
                counts = relaxation._group_bound_counts(
                    instance,
                    tag,
                    group,
                    objective=objective,
                    cap=cap,
                    time_limit_s=30.0,
                    num_workers=1,
                    deterministic_s=None,
                )
                assert patterns == counts, (tag, objective)
                compared += 1
    assert compared == 3 * 6


def test_the_total_relaxation_evens_a_doctor_out_across_tags_by_hand():
    """Two doctors, the week of 1 February 2027: four weeknights of 13 points and one weekend
    of 79.30. Targets: 26 night points and 39.65 weekend points each. Whoever has the weekend
    ends 39.65 above on it, the other 39.65 below. Giving the weekend's doctor fewer nights
    evens both totals out as far as the nights' largest deviation allows:

    * nights within 26 (none against four): totals 39.65 - 26 = 13.65 and -13.65, sum 27.30;
    * within 13 (one against three): 26.65 and -26.65, sum 53.30;
    * within 0 (two each): 39.65 and -39.65, sum 79.30.

    The summed deviation held at 2 x 39.65 + 2 x 13 = 105.30 also keeps the nights within 13.
    With no time left it proves nothing (0).
    """
    doc = tiny_doc(
        2,
        horizon={"start": "2027-02-01", "end": "2027-02-07"},
        shift_types=[dict(WEEKNIGHT), dict(WEEKEND)],
        rules={"min_days_between_weekends": None},
    )
    scenario = scenario_of(doc)
    instance = compile_instance(scenario, expand_shifts(scenario))
    assert sorted({(row.tag, row.target_centi) for row in instance.targets}) == [
        ("night", 2600),
        ("weekend", 3965),
    ]

    def bound(night: int, summed: int) -> int:
        return total_bound(
            instance,
            {"night": night, "weekend": 3965},
            summed,
            deadline=time.perf_counter() + 10,
            num_workers=1,
        )

    assert bound(2600, 100_000) == 2730
    assert bound(1300, 100_000) == 5330
    assert bound(0, 100_000) == 7930
    assert bound(2600, 10530) == 5330
    # Out of time: no model built, no bound.
    late = {"night": 2600, "weekend": 3965}
    assert total_bound(instance, late, 100_000, deadline=time.perf_counter(), num_workers=1) == 0


def test_the_total_stage_is_bounded_by_what_the_stages_before_hold(monkeypatch):
    """In a solve of a 20-GP quarter the total stage's relaxation is asked with each tag's
    largest deviation as the at-spread stage pinned it and the summed deviation as the
    deviation stage left it, and the stage reports its bound (or a higher one); the checker
    agrees on the roster's terms."""
    asked: list[tuple[dict[str, int], int, int]] = []

    def recorded(instance, largest, summed, **kwargs):
        bound = total_bound(instance, largest, summed, **kwargs)
        asked.append((dict(largest), summed, bound))
        return bound

    monkeypatch.setattr(staged_module, "total_bound", recorded)
    result = solve_checked(scenario_of(generate(20, 2, 2027, quarter=1, seed=2)))
    stages = {stage.name: stage for stage in result.stages}
    ((largest, summed, bound),) = asked
    assert summed == stages["deviation"].objective >= result.terms["deviation_centi"]
    assert sum(largest.values()) == stages["spread"].objective
    total = stages["total"]
    assert bound > 0
    assert bound <= total.bound <= total.objective


def test_the_at_spread_stage_is_proven_by_its_relaxation(monkeypatch):
    """The solve of the six doctors: spread 52.87 (proven by the floors and seat counts), and
    two doctors at it, proven by the at-spread relaxation (the floors alone prove one) with no
    search of the stage; the checker agrees on the roster's terms."""
    run = CpSatModel.run

    def no_at_spread_search(self, expression, budget_s, params, callback, *args, **kwargs):
        if callback.stage == "at_spread":
            raise AssertionError("the at-spread stage was searched")
        return run(self, expression, budget_s, params, callback, *args, **kwargs)

    monkeypatch.setattr(CpSatModel, "run", no_at_spread_search)
    result = solve_checked(_four_weekends(6))
    stages = {stage.name: stage for stage in result.stages}
    assert (stages["spread"].objective, stages["spread"].bound) == (5287, 5287)
    at_spread = stages["at_spread"]
    assert (at_spread.status, at_spread.objective, at_spread.bound) == (
        SolveStatus.OPTIMAL,
        2,
        2,
    )
    assert result.terms["at_spread"] == 2


def _february() -> Scenario:
    doc = tiny_doc(
        4,
        horizon={"start": "2027-02-01", "end": "2027-02-28"},
        shift_types=[dict(WEEKNIGHT), dict(WEEKEND)],
        rules={"min_days_between_weekends": None},
    )
    return scenario_of(doc)


def _unbalanced_february() -> tuple[CpSatModel, list[tuple[int, int]]]:
    """Four doctors in February 2027: 16 weeknights (Mon-Thu) of 13 points, 4 weekends.

    Each doctor's targets are 4 nights (52 points) and one weekend; the roster gives every
    doctor one weekend, and the nights in turn but with d1's first night going to d0, so d0
    does 5 and d1 3. By hand: the weekend's largest deviation is 0, its combinatorial bound
    (one weekend each reaches every target), so only the night tag is left to relax; the
    night's is 13 points (1300 centi-points) against a bound of 0.
    Returns the model and the roster as (doctor, shift) pairs.
    """
    scenario = _february()
    instance = compile_instance(scenario, expand_shifts(scenario))
    nights = [s for s, sh in enumerate(instance.shifts) if "night" in instance.tag_points[s]]
    weekends = [s for s in range(len(instance.shifts)) if s not in nights]
    assert (len(nights), len(weekends)) == (16, 4)
    chosen = [(n % 4, s) for n, s in enumerate(weekends)]
    turns = [n % 4 for n in range(16)]
    turns[1] = 0
    chosen += list(zip(turns, nights, strict=True))
    model = CpSatModel(instance)
    assert model.by_tag(chosen, summed=False) == {"night": 1300, "weekend": 0}
    assert model.bounds.spread_by_tag == {"night": 0, "weekend": 0}
    return model, chosen


def test_only_tags_above_their_combinatorial_bound_are_relaxed(monkeypatch):
    """The weekend already meets its bound: its relaxation would only take time."""
    model, chosen = _unbalanced_february()
    asked: list[str] = []

    def recorded(instance, tag, **kwargs):
        asked.append(tag)
        return tag_bound(instance, tag, **kwargs)

    monkeypatch.setattr(staged_module, "tag_bound", recorded)
    bound = StagedSolve(model)._relaxed_bound(
        "spread", 0, chosen, 1300, time.perf_counter() + 5, FAST
    )
    # Every doctor can do exactly 4 nights: the night relaxation proves 0, no more.
    assert (asked, bound) == (["night"], 0)


def test_open_tags_share_the_relaxations_time_by_how_far_they_are_above_their_bound(
    monkeypatch,
):
    """The roster of ``_unbalanced_february`` with d1's weekend given to d0 as well: d0 ends
    79.30 weekend points above target and d1 79.30 below, so the weekend is 7 930 above its
    bound of 0 and the night 1 300 above its bound of 0. The night goes first with
    1 300 / 9 230 of the time (5 s x 0.1408 = 0.70 s), the weekend then gets what is left
    (4.30 s and whatever the night did not use: here all 5 s, the stub returns at once).
    With FAST's deterministic budget, 2.0 / 7 stages x 0.8 = 0.2286 units, split 0.0322 and
    0.1964 the same way."""
    model, chosen = _unbalanced_february()
    weekends = sorted(s for d, s in chosen if "weekend" in model.instance.tag_points[s])
    d1_weekend = next(s for d, s in chosen if d == 1 and s in weekends)
    chosen = [(0, s) if s == d1_weekend else (d, s) for d, s in chosen]
    assert model.by_tag(chosen, summed=False) == {"night": 1300, "weekend": 7930}
    asked: list[tuple[str, float, float | None]] = []

    def recorded(instance, tag, *, deadline, deterministic_s=None, **kwargs):
        asked.append((tag, deadline - time.perf_counter(), deterministic_s))
        return 0

    monkeypatch.setattr(staged_module, "tag_bound", recorded)
    wall = FAST.model_copy(update={"deterministic_time": None})
    StagedSolve(model)._relaxed_bound("spread", 0, chosen, 9230, time.perf_counter() + 5, wall)
    (night, night_s, _), (weekend, weekend_s, _) = asked
    assert (night, weekend) == ("night", "weekend")
    assert night_s == pytest.approx(5 * 1300 / 9230, abs=0.05)
    # The stub returns at once: the night's unused time goes to the weekend, all 5 s.
    assert weekend_s == pytest.approx(5, abs=0.05)
    asked.clear()
    StagedSolve(model)._relaxed_bound("spread", 0, chosen, 9230, time.perf_counter() + 5, FAST)
    units = [(tag, round(deterministic or 0, 4)) for tag, _, deterministic in asked]
    assert units == [("night", 0.0322), ("weekend", 0.1964)]


def test_a_spread_stage_that_will_not_search_gives_its_relaxations_all_its_time(monkeypatch):
    """On a model too large for the spread search (here: any model), the stage's relaxations
    get its whole share of the time left, 0.15 x (60 s - 1 s kept back) = 8.85 s, not the
    0.8 of it (7.08 s) they get before a search; the stage reports the time they took."""
    model, chosen = _unbalanced_february()
    monkeypatch.setattr(staged_module, "_SPREAD_SEARCH_UP_TO", 0)
    asked: list[float] = []

    def recorded(instance, tag, *, deadline, **kwargs):
        asked.append(deadline - time.perf_counter())
        time.sleep(0.2)
        return 0

    monkeypatch.setattr(staged_module, "tag_bound", recorded)
    solved = StagedSolve(model).solve(FAST, stages=("spread",), start=chosen)
    (stage,) = solved.stages
    (budget,) = asked
    assert budget == pytest.approx(0.15 * 59, abs=0.3)
    assert (stage.objective, stage.bound) == (1300, 0)
    assert stage.wall_time_s >= 0.2


def test_a_stage_within_the_gap_of_its_bound_is_not_searched(monkeypatch):
    """A relaxation proving 12.90 night points against the roster's 13: within 1 % (0.77 %),
    so the spread stage keeps the roster without a search, reporting that bound. With the
    real relaxation (bound 0) the same stage is searched."""
    model, chosen = _unbalanced_february()
    monkeypatch.setattr(staged_module, "tag_bound", lambda instance, tag, **kwargs: 1290)

    def no_search(*args, **kwargs):
        raise AssertionError("the stage was searched")

    monkeypatch.setattr(CpSatModel, "run", no_search)
    solved = StagedSolve(model).solve(FAST, stages=("spread",), start=chosen)
    (stage,) = solved.stages
    assert (stage.status, stage.objective, stage.bound) == (SolveStatus.FEASIBLE, 1300, 1290)
    assert sorted(solved.roster.pairs()) == sorted(model.instance.roster_of(chosen).pairs())
    monkeypatch.setattr(staged_module, "tag_bound", tag_bound)
    with pytest.raises(AssertionError, match="searched"):
        StagedSolve(CpSatModel(model.instance)).solve(FAST, stages=("spread",), start=chosen)


def test_the_spread_stage_first_asks_for_every_tag_at_its_bound(monkeypatch):
    """The night's relaxation proves 0 (each doctor can do exactly 4 of the 16 nights), so the
    spread stage first searches, without the LP, for a roster with each tag's largest
    deviation cut to its bound: it finds one (d1 takes back its night) and the stage is
    proven at 0 without the search that minimises the sum of the largest values. The cut is
    on the model only during that search."""
    model, chosen = _unbalanced_february()
    night_max = model.model.proto.variables[model.fairness.tag_max["night"].index]
    domain_before = list(night_max.domain)
    asked: list[tuple[bool, list[int]]] = []
    run = CpSatModel.run

    def recorded(self, *args, linear=True, **kwargs):
        asked.append((linear, list(night_max.domain)))
        return run(self, *args, linear=linear, **kwargs)

    monkeypatch.setattr(CpSatModel, "run", recorded)
    solved = StagedSolve(model).solve(FAST, stages=("spread",), start=chosen)
    (stage,) = solved.stages
    assert (stage.status, stage.objective, stage.bound) == (SolveStatus.OPTIMAL, 0, 0)
    assert asked == [(False, [0, 0])]
    assert list(night_max.domain) == domain_before
    # The independent checker: no rule broken, every doctor at their targets (0 deviation).
    scenario = _february()
    evaluation = evaluate_roster(scenario, expand_shifts(scenario), solved.roster)
    assert evaluation.hard_violations == ()
    assert {row.deviation for row in evaluation.fairness} == {0}


def test_the_spread_stage_searches_on_where_no_roster_at_the_bounds_is_found(monkeypatch):
    """Where the search at the bounds finds nothing in its time, the stage's own search (with
    the LP) runs with the rest of the stage's time and lowers the night spread to 0."""
    model, chosen = _unbalanced_february()
    asked: list[bool] = []
    run = CpSatModel.run

    def nothing_at_bounds(self, *args, linear=True, **kwargs):
        asked.append(linear)
        if not linear:
            return cp_model.UNKNOWN, None
        return run(self, *args, linear=linear, **kwargs)

    monkeypatch.setattr(CpSatModel, "run", nothing_at_bounds)
    solved = StagedSolve(model).solve(FAST, stages=("spread",), start=chosen)
    (stage,) = solved.stages
    assert asked == [False, True]
    assert (stage.status, stage.objective, stage.bound) == (SolveStatus.OPTIMAL, 0, 0)


def test_the_stages_keep_back_what_reading_the_start_took():
    """Reading every value of a solution takes 0.93 s on the 500-GP year; the stages end early
    enough for 1.5 times the start's reading, where that is over the fixed 1.0 s."""
    model, chosen = _unbalanced_february()
    assert model.reading_s == 0.0
    assert model.evaluate(chosen, FAST, both_ways=False) is not None
    assert model.reading_s > 0.0
    # Under 1.0 / 1.5 s of reading the fixed reserve holds: 100 - 1.0 - 1.5 x 2.0 = 96.0.
    model.reading_s = 0.5
    assert StagedSolve(model)._deadline(0.0, 100.0, after_s=2.0) == pytest.approx(96.0)
    # 1.5 x 2.4 = 3.6 s kept back for reading: 100 - 3.6 - 1.5 x 2.0 = 93.4.
    model.reading_s = 2.4
    assert StagedSolve(model)._deadline(0.0, 100.0, after_s=2.0) == pytest.approx(93.4)
