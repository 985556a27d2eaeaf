"""Every rule has a solver side (a builder or a pair filter) and a checker."""

from wachtplanner.evaluation.checks import RULE_CHECKS
from wachtplanner.solver.cpsat.constraints import RULE_BUILDERS
from wachtplanner.solver.instance import PAIR_FILTERS


def test_every_rule_has_both_sides():
    """The solver's rules and the checker's rules are the same set."""
    assert set(RULE_BUILDERS) | set(PAIR_FILTERS) == set(RULE_CHECKS)


def test_every_rule_has_a_test_file():
    """One test file per rule under tests/rules/."""
    from pathlib import Path

    files = {
        p.stem.removeprefix("test_") for p in (Path(__file__).parent / "rules").glob("test_*.py")
    }
    assert set(RULE_CHECKS) <= files
