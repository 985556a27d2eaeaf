"""Lower bounds on the fairness stages, computed before CP-SAT searches (no OR-Tools here).

CP-SAT's linear relaxation spreads blocks fractionally, so on a year roster its bound on the
fairness stages stays far below what any roster reaches: a 61-hour weekend cannot be split. The
bounds here use what the relaxation forgets:

* **Reachable totals.** A doctor's points on a tag are a sum of a subset of their eligible
  shifts' points, so they can only land on a *reachable total*; the nearest one to the target
  is the row's floor (a doctor with a 47-point weekend target and only 79-point weekends can
  end 32 or 47 points off, never closer).
* **Seat counts.** Within a group of doctors sharing a tag's shifts (an area's weeknights, the
  post's weekends), the doctors' points add up to exactly the points of those shifts. If every
  doctor must stay within M of target, the group's smallest and largest reachable totals within
  M must straddle that sum; 160 doctors with a weekend target of 47 points and 156 weekend seats
  force at least four of them to end 47 points below.

The smallest M for which every group passes is a lower bound on a tag's largest deviation
(binary search; feasibility grows with M). Bounds are valid for every roster that keeps the
hard rules, so a stage whose value meets its bound is proven optimal.

The largest total deviation of a doctor is a figure a coordinator reads, not a stage; at given
largest deviations per tag ``largest_total_bound`` bounds it from below the same way, per
doctor and per shift of several tags (an Easter weekend's seats).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from wachtplanner.solver.instance import Instance


@dataclass(frozen=True)
class FairnessBounds:
    """Lower bounds per stage (centi-points, or a count for ``at_spread``)."""

    max_excess: int
    sum_excess: int
    spread: int
    spread_by_tag: dict[str, int]
    deviation: int
    deviation_by_tag: dict[str, int]
    total: int
    floors: tuple[int, ...]
    """Per fairness row, the distance from its target to the nearest reachable total."""

    def of_stage(self, stage: str) -> int:
        """Return the bound of a stage (0 where none is known)."""
        return {
            "max_excess": self.max_excess,
            "sum_excess": self.sum_excess,
            "spread": self.spread,
            "deviation": self.deviation,
            "total": self.total,
        }.get(stage, 0)

    def at_spread(self, instance: Instance, largest: Mapping[str, int]) -> int:
        """Return a bound on the rows at their tag's largest deviation, given those values."""
        return sum(self.at_spread_by_tag(instance, largest).values())

    def at_spread_by_tag(self, instance: Instance, largest: Mapping[str, int]) -> dict[str, int]:
        """Per tag, a bound on its rows at its largest deviation.

        Those whose floor is there (no reachable total is nearer), and one at least.
        """
        forced: dict[str, int] = defaultdict(int)
        for row, floor in zip(instance.targets, self.floors, strict=True):
            if floor >= largest.get(row.tag, 0):
                forced[row.tag] += 1
        return {tag: max(1, forced[tag]) for tag in largest}


def reachable_totals(points: list[int], cap: int) -> list[int]:
    """Return every sum of a subset of ``points`` up to ``cap``, sorted (bitset DP)."""
    mask = (1 << (cap + 1)) - 1
    bits = 1
    for value in points:
        if value <= cap:
            bits |= (bits << value) & mask
    text = bin(bits)[2:][::-1]
    return [n for n, bit in enumerate(text) if bit == "1"]


def _eligible_points(instance: Instance, d_idx: int, tag: str) -> list[int]:
    """Return the tag's points of every shift the doctor is eligible for."""
    return [
        instance.tag_points[s][tag]
        for s in instance.shifts_of_doctor[d_idx]
        if tag in instance.tag_points[s]
    ]


def _nearest(totals: list[int], target: int) -> int:
    at = bisect_left(totals, target)
    candidates = [abs(totals[i] - target) for i in (at - 1, at) if 0 <= i < len(totals)]
    return min(candidates)


@dataclass
class _Row:
    target: int
    totals: list[int]


def _groups(instance: Instance, tag: str) -> list[tuple[list[int], int]]:
    """Return (row indices, points to share) per group of doctors sharing the tag's shifts."""
    return [
        (
            list(group.rows),
            sum(instance.tag_points[s][tag] * instance.shifts[s].need for s in group.shifts),
        )
        for group in instance.tag_groups(tag)
    ]


def _group_feasible(rows: list[_Row], total: int, within: int) -> bool:
    low = high = 0
    for row in rows:
        first = bisect_left(row.totals, row.target - within)
        last = bisect_right(row.totals, row.target + within) - 1
        if first > last:
            return False
        low += row.totals[first]
        high += row.totals[last]
    return low <= total <= high


def fairness_bounds(instance: Instance) -> FairnessBounds:
    """Return lower bounds on every fairness stage from reachable totals and seat counts."""
    floors: list[int] = [0] * len(instance.targets)
    spread_by_tag: dict[str, int] = {}
    band_of_tag: dict[str, int] = {}
    deviation_by_tag: dict[str, int] = defaultdict(int)
    tags = sorted({row.tag for row in instance.targets})
    for tag in tags:
        largest_needed = 0
        for rows_idx, total in _groups(instance, tag):
            rows: list[_Row] = []
            for r in rows_idx:
                target_row = instance.targets[r]
                band_of_tag[tag] = target_row.band_centi
                points = _eligible_points(instance, target_row.doctor_idx, tag)
                cap = min(sum(points), 2 * target_row.target_centi + max(points, default=0))
                totals = reachable_totals(points, cap)
                floors[r] = _nearest(totals, target_row.target_centi)
                rows.append(_Row(target_row.target_centi, totals))
            low = max(floors[r] for r in rows_idx)
            high = max(max(row.target, row.totals[-1] - row.target) for row in rows)
            if not _group_feasible(rows, total, high):
                # Only when the shifts of the group exceed every target twice over; no bound.
                largest_needed = max(largest_needed, low)
                continue
            while low < high:
                middle = (low + high) // 2
                if _group_feasible(rows, total, middle):
                    high = middle
                else:
                    low = middle + 1
            largest_needed = max(largest_needed, low)
            shared_gap = abs(total - sum(row.target for row in rows))
            deviation_by_tag[tag] += max(sum(floors[r] for r in rows_idx), shared_gap)
        spread_by_tag[tag] = largest_needed
    all_points = sum(
        points * shift.need
        for shift, tags_of in zip(instance.shifts, instance.tag_points, strict=True)
        for points in tags_of.values()
    )
    all_targets = sum(row.target_centi for row in instance.targets)
    return FairnessBounds(
        max_excess=max((max(0, spread_by_tag[t] - band_of_tag.get(t, 0)) for t in tags), default=0),
        sum_excess=sum(
            max(0, floor - row.band_centi)
            for row, floor in zip(instance.targets, floors, strict=True)
        ),
        spread=sum(spread_by_tag.values()),
        spread_by_tag=spread_by_tag,
        deviation=sum(deviation_by_tag.values()),
        deviation_by_tag=dict(deviation_by_tag),
        total=abs(all_points - all_targets),
        floors=tuple(floors),
    )


def largest_total_bound(instance: Instance, levels: Mapping[str, int]) -> int:
    """Return a lower bound on the largest |total deviation| at the tags' largest deviations.

    Valid for every roster that keeps the hard rules with each row within ``levels`` of its
    tag's target (centi-points). A row's points are a reachable total of its doctor's eligible
    shifts (``reachable_totals``) within its level of target, so a doctor's total deviation
    lies between the sums of their rows' lowest and highest such totals: a doctor whose lowest
    sum is over target (or whose highest is under) is that far off at least. A shift lifts
    each of its holders' rows to its points at least (an Easter weekend: 61.10 weekend and
    55.50 holiday points), and its ``need`` seats go to as many different doctors: the
    ``need``-th smallest lowest sum with it, over the doctors who can hold it within the
    levels, is a bound too.
    """
    rows: dict[int, dict[str, tuple[int, list[int]]]] = defaultdict(dict)
    """Per doctor and tag: the row's target and its reachable deviations within the level."""
    for row in instance.targets:
        level = levels.get(row.tag)
        if level is None:
            return 0
        points = _eligible_points(instance, row.doctor_idx, row.tag)
        target = row.target_centi
        totals = reachable_totals(points, max(0, target + level))
        window = [total - target for total in totals if total >= target - level]
        if not window:
            return 0  # no roster keeps this row within its level
        rows[row.doctor_idx][row.tag] = (target, window)
    lowest = {d: sum(window[0] for _, window in own.values()) for d, own in rows.items()}
    highest = {d: sum(window[-1] for _, window in own.values()) for d, own in rows.items()}
    bound = max((max(0, lowest[d], -highest[d]) for d in rows), default=0)
    for s_idx, tags in enumerate(instance.tag_points):
        with_it = []
        for d_idx in instance.doctors_of_shift[s_idx]:
            own = rows.get(d_idx, {})
            total: int | None = lowest.get(d_idx, 0)
            for tag, lifted in tags.items():
                if tag not in own or total is None:
                    continue
                target, window = own[tag]
                at = bisect_left(window, lifted - target)
                # Past the window: the shift alone takes the row over its level.
                total = None if at == len(window) else total + window[at] - window[0]
            if total is not None:
                with_it.append(total)
        need = instance.shifts[s_idx].need
        if len(with_it) >= need:
            bound = max(bound, sorted(with_it)[need - 1])
    return bound
