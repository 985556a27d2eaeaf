"""Assemble the model of an instance: variables, every enabled rule, fairness terms, objectives.

Shared by the whole model (``model.CpSatModel``) and each neighbourhood's own small model
(``lns``), so both are built by the same builders and give a roster the same values.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ortools.sat.python import cp_model

from wachtplanner.solver.cpsat.constraints import RULE_BUILDERS
from wachtplanner.solver.cpsat.objective import (
    Expr,
    FairnessTerms,
    build_fairness,
    stage_objectives,
)
from wachtplanner.solver.cpsat.variables import BuildContext, Pair, assignment_vars
from wachtplanner.solver.instance import Instance


@dataclass
class Assembled:
    """A built model and the handles the stages use."""

    model: cp_model.CpModel
    x: dict[Pair, cp_model.IntVar]
    ctx: BuildContext
    fairness: FairnessTerms
    objectives: dict[str, Expr]
    """Every stage's expression but ``at_spread`` (built when its stage starts)."""


def assemble(
    instance: Instance,
    rules: Collection[str],
    keep: Collection[Pair],
    *,
    running_sums: bool = False,
) -> Assembled:
    """Build the model of ``instance`` with ``rules`` enabled and ``keep`` as published pairs.

    ``running_sums``: long windows sum as differences of running counts (a smaller model,
    quicker to build and load, but slower to search; see ``BuildContext.starts_within``).
    """
    model = cp_model.CpModel()
    x = assignment_vars(model, instance)
    ctx = BuildContext(model, instance, x, running_sums=running_sums)
    for name, build in RULE_BUILDERS.items():
        if name in rules:
            build(ctx)
    for pair in instance.fixed:
        if pair in x:
            model.add(x[pair] == 1)
    fairness = build_fairness(ctx)
    return Assembled(model, x, ctx, fairness, stage_objectives(ctx, fairness, keep))
