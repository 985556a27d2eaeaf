"""Cheap counting checks before CP-SAT, with reasons a coordinator can act on."""

from __future__ import annotations

from collections import Counter, defaultdict

from wachtplanner.evaluation.checks import describe_instance
from wachtplanner.exceptions import ScenarioInfeasibleError
from wachtplanner.solver.instance import (
    EXCLUSION_REASONS,
    Instance,
    exclusion_reason,
    interval_cliques,
    pair_context,
)

_MAX_NAMED = 5
_MAX_REASONS = 20


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_NAMED])
    return shown + (f", … {len(ids) - _MAX_NAMED} more" if len(ids) > _MAX_NAMED else "")


def explain_shift(instance: Instance, s_idx: int) -> str:
    """Return why a shift has too few eligible doctors: who is eligible, why the others are out."""
    shift = instance.shifts[s_idx]
    eligible = [instance.doctors[d].id for d in instance.doctors_of_shift[s_idx]]
    ctx = pair_context(instance.scenario)
    out: dict[str, list[str]] = defaultdict(list)
    for doctor in instance.doctors:
        reason = exclusion_reason(ctx, doctor, shift)
        if reason is not None:
            out[reason].append(doctor.id)
    parts = [
        f"{len(ids)} {EXCLUSION_REASONS[rule]}"
        + (f" ({_names(ids)})" if rule != "scope" else f" (not in {shift.scope} {shift.scope_id})")
        for rule, ids in out.items()
    ]
    who = f" ({_names(eligible)})" if eligible else ""
    return (
        f"{describe_instance(shift)} needs {shift.need} doctor(s); {len(eligible)} eligible{who}. "
        f"The others are out: {'; '.join(parts) or 'none'}."
    )


def check_feasible_counts(instance: Instance) -> None:
    """Raise with reasons if counting alone shows that no roster exists.

    Raises
    ------
    ScenarioInfeasibleError
        If a shift has fewer eligible doctors than it needs, a fixed assignment is not allowed,
        or shifts at the same moment need more doctors than are eligible for them together.
    """
    reasons: list[str] = []
    for d_idx, s_idx in instance.fixed:
        if d_idx not in instance.doctors_of_shift[s_idx]:
            rule = instance.excluded.get((d_idx, s_idx), "scope")
            reasons.append(
                f"{instance.doctors[d_idx].id} is fixed on {instance.shifts[s_idx].shift_id} but "
                f"is {EXCLUSION_REASONS[rule]} for it."
            )
    for s_idx, shift in enumerate(instance.shifts):
        if len(instance.doctors_of_shift[s_idx]) < shift.need:
            reasons.append(explain_shift(instance, s_idx))
    if not reasons:
        everything = range(len(instance.shifts))
        for group in interval_cliques(everything, instance.start_min, instance.end_min):
            need = sum(instance.shifts[s].need for s in group)
            pool = {d for s in group for d in instance.doctors_of_shift[s]}
            if len(pool) < need:
                ids = ", ".join(instance.shifts[s].shift_id for s in group)
                reasons.append(
                    f"{ids} run at the same time and need {need} doctors together; only "
                    f"{len(pool)} are eligible for any of them."
                )
    if reasons:
        extra = len(reasons) - _MAX_REASONS
        shown = reasons[:_MAX_REASONS]
        if extra > 0:
            counts = Counter(r.split(" ", 1)[0].split("/", 1)[0] for r in reasons)
            shown.append(f"… and {extra} more (by shift type: {dict(counts)}).")
        raise ScenarioInfeasibleError(shown)
