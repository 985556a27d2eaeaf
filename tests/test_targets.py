"""Fairness targets worked out by hand: FTE, halving from 60, exemptions, carry-over, band."""

from tests.helpers import scenario_of, tiny_doc
from wachtplanner.evaluation.fairness import compute_targets
from wachtplanner.expand import expand_shifts


def _targets(**changes):
    """Four weeknights of 13 h x 1.0 point (Mon 8 - Thu 11 Feb 2027), 3 doctors in one area."""
    doc = tiny_doc(3)
    doc["doctors"][0]["fte"] = 1.0
    doc["doctors"][1]["fte"] = 0.5
    doc["doctors"][2]["birth_date"] = "1960-01-01"  # 67 in February 2027: halved
    for key, value in changes.items():
        index, field = key.split("__")
        doc["doctors"][int(index[1:])][field] = value
    scenario = scenario_of(doc)
    targets = compute_targets(scenario, expand_shifts(scenario))
    return {d: (t.target_centi, t.band_centi, t.carry_centi) for (d, _), t in targets.items()}


def test_fte_and_halving():
    """Weights 1.0, 0.5 (fte) and 0.5 (halved from 60): shares 1/2, 1/4, 1/4 of 4 x 13 = 52
    points: 26, 13 and 13 points. The band is the largest shift: 13 points."""
    assert _targets() == {"d0": (2600, 1300, 0), "d1": (1300, 1300, 0), "d2": (1300, 1300, 0)}


def test_carry_over_is_subtracted():
    """d0 did 6.5 points more than their share last year: 26 - 6.5 = 19.5 points."""
    assert _targets(d0__carry_over={"points": 6.5})["d0"] == (1950, 1300, 650)


def test_carry_over_never_drives_a_target_below_zero():
    """A carry-over of 40 points against a 13-point share leaves a target of 0."""
    assert _targets(d1__carry_over={"points": 40})["d1"][0] == 0


def test_exemption_moves_the_exempt_night_to_the_others():
    """d1 exempt on Tuesday 9 Feb: that covers Monday's night too (it runs into Tuesday 08:00).
    Mon and Tue: weights 1, 0, 0.5 give 13 x 2/3 = 8.667 and 13 x 1/3 = 4.333 each.
    Wed and Thu: weights 1, 0.5, 0.5 give 6.5, 3.25 and 3.25 each.
    d0: 2 x 8.667 + 2 x 6.5 = 30.333 -> 3033; d1: 2 x 3.25 = 6.5 -> 650;
    d2: 2 x 4.333 + 2 x 3.25 = 15.167 -> 1517. Together 52 points, as before."""
    exemption = [{"reason": "health", "from": "2027-02-09", "to": "2027-02-09"}]
    targets = _targets(d1__exemptions=exemption)
    assert {d: t[0] for d, t in targets.items()} == {"d0": 3033, "d1": 650, "d2": 1517}


def test_the_compiled_instance_holds_the_checkers_own_targets_and_load():
    """The solver judges rosters with the targets and expected load the instance was compiled
    with: the checker's terms and violations with them equal those it computes afresh (on a
    generated circle quarter with exemptions, ages and part-timers)."""
    from benchmarks.generate import generate
    from wachtplanner.evaluation.objective import evaluate_roster
    from wachtplanner.solver.greedy import greedy_roster
    from wachtplanner.solver.instance import compile_instance

    scenario = scenario_of(generate(12, 2, 2027, quarter=1, seed=1))
    shifts = expand_shifts(scenario)
    instance = compile_instance(scenario, shifts)
    roster = instance.roster_of(greedy_roster(instance).chosen)
    fresh = evaluate_roster(scenario, shifts, roster)
    held = evaluate_roster(scenario, shifts, roster, instance.fairness_targets, instance.load)
    assert held == fresh
    assert fresh.terms.soft_penalty > 0  # the load's gaps and cumulative marks are in play
