"""Minimal-change re-plan: minimality against brute force, checker on every re-planned roster,
and the kept duties keep their feed identity."""

import itertools

from tests.helpers import FAST, evaluate, scenario_of, tiny_doc
from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.solver.replan import replan

NIGHTS = ["2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"]


def tiny_loss():
    """Weeknights Mon-Thu 8-11 Feb 2027, 3 GPs, 24 h rest (no two nights in a row).

    Published: d0 Mon and Wed, d1 Tue, d2 Thu. d0 is lost from Tue 9 Feb: Wed must move, and
    neither neighbour can take it without another duty moving too, so at least 2 changes.
    """
    doc = tiny_doc(3, rules={"min_rest_hours": 24})
    doc["events"] = [{"type": "doctor_loss", "doctor": "d0", "date": "2027-02-09"}]
    published = Roster(
        assignments=tuple(
            Assignment(shift_id=f"weeknight/noord/{day}", doctor_id=doctor)
            for day, doctor in zip(NIGHTS, ["d0", "d1", "d0", "d2"], strict=True)
        )
    )
    return scenario_of(doc), published


def brute_force_fewest_changes(scenario, published):
    """Try every roster of the nights after the loss; return the fewest changed published duties."""
    old = {(a.shift_id, a.doctor_id) for a in published.assignments}
    first_night = f"weeknight/noord/{NIGHTS[0]}"
    best = None
    for doctors in itertools.product(["d0", "d1", "d2"], repeat=3):
        pairs = [(first_night, "d0")] + [
            (f"weeknight/noord/{day}", d) for day, d in zip(NIGHTS[1:], doctors, strict=True)
        ]
        if evaluate(scenario, pairs).hard_violations:
            continue
        changed = sum(1 for p in old if p[0] != first_night and p not in pairs)
        best = changed if best is None else min(best, changed)
    return best


def test_replan_changes_provably_the_fewest_duties():
    """The re-plan's number of changes equals the brute-force minimum and is proven (bound)."""
    scenario, published = tiny_loss()
    outcome = replan(scenario, published, FAST)
    assert outcome.proven_minimal
    assert outcome.num_changed == outcome.changed_bound == 2
    assert brute_force_fewest_changes(outcome.scenario, published) == 2


def test_replanned_roster_passes_the_checker_and_freezes_the_past():
    """Every re-planned roster keeps the hard rules; duties before the loss stay as published;
    the lost doctor has nothing from the loss date on."""
    scenario, published = tiny_loss()
    outcome = replan(scenario, published, FAST)
    pairs = [(a.shift_id, a.doctor_id) for a in outcome.result.roster.assignments]
    assert not evaluate(outcome.scenario, pairs).hard_violations
    assert ("weeknight/noord/2027-02-08", "d0") in pairs
    assert not [p for p in pairs if p[1] == "d0" and p[0] > "weeknight/noord/2027-02-08"]
    kinds = sorted(c.kind for c in outcome.changes)
    assert kinds.count("moved") == 2
    assert kinds.count("kept") == 2
