"""Plain-text summaries shared by commands."""

from __future__ import annotations

from collections import defaultdict

import click

from wachtplanner.evaluation.objective import Evaluation


def echo_fairness(evaluation: Evaluation) -> None:
    """Print, per fairness tag, the largest deviation from target and who is outside the band."""
    by_tag = defaultdict(list)
    for row in evaluation.fairness:
        by_tag[row.tag].append(row)
    click.echo("Fairness per tag (points; band = one shift):")
    click.echo(
        f"  {'tag':<12}{'doctors':>8}{'points':>11}{'max |dev|':>11}{'band':>8}{'outside':>9}"
    )
    for tag, rows in sorted(by_tag.items()):
        worst = max(rows, key=lambda r: abs(r.deviation))
        outside = sum(1 for r in rows if r.excess > 0)
        click.echo(
            f"  {tag:<12}{len(rows):>8}{sum(r.points for r in rows):>11.1f}"
            f"{abs(worst.deviation):>11.1f}{worst.band:>8.1f}{outside:>9}"
        )
    for row in evaluation.rows_outside_band[:10]:
        click.echo(
            f"  outside band: {row.doctor_id} {row.tag}: {row.points:g} points, "
            f"target {row.target:g} (excess {row.excess:g})"
        )


def echo_penalties(evaluation: Evaluation) -> None:
    """Print the soft penalties by rule."""
    if not evaluation.penalties_by_rule:
        click.echo("Soft penalties: none.")
        return
    parts = ", ".join(
        f"{rule} {value}" for rule, value in sorted(evaluation.penalties_by_rule.items())
    )
    click.echo(f"Soft penalties: {parts} (total {evaluation.terms.soft_penalty}).")
