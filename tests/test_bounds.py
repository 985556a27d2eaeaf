"""Fairness per doctor against what their shifts can reach, and the bounds that prove stages."""

from tests.helpers import WEEKEND, scenario_of, solve_checked, tiny_doc
from wachtplanner.expand import expand_shifts
from wachtplanner.solver.bounds import fairness_bounds, reachable_totals
from wachtplanner.solver.instance import compile_instance


def test_reachable_totals_by_hand():
    """Two 79.30-point weekends and a 31.20-point Easter part: sums 0, 31.20, 79.30, 110.50,
    158.60 and 189.80; a 47.28-point target is nearest to 31.20 (16.08 away)."""
    totals = reachable_totals([7930, 7930, 3120], cap=20000)
    assert totals == [0, 3120, 7930, 11050, 15860, 18980]
    assert min(abs(t - 4728) for t in totals) == 1608


def _four_weekends():
    """Four doctors, the four weekends of February 2027 (79.3 points each: 61 h x 1.3), one
    doctor each; no spacing rule, so seats never run short."""
    doc = tiny_doc(
        4,
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
