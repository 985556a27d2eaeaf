"""The tables coordinators and boards read, computed with pandas from a checked roster.

- ``doctors``: SPEC §3 columns, one row per doctor. ``share`` is the doctor's part of the
  circle's target points (all tags), ``target_points``/``points``/``deviation`` sum the tags,
  ``nights`` counts weeknight-type duties (overnight, not weekend, no holiday), ``weekends``
  weekend blocks, ``holidays`` duties touching a holiday, ``min_days_between_duties`` the
  shortest real gap from the end of one duty to the start of the next, ``fee_eur`` the
  availability fee (``qualifying_hours`` x the year's rate).
- ``units``: per scope unit (area, post, ...) and month of local start: seats needed and
  filled, duties, hours, points.
- ``fairness``: per tag the largest |deviation|, range, standard deviation, Gini of points per
  unit of share, doctors outside the band, and weekend pairs closer than the spacing rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise

import numpy as np
import pandas as pd

from wachtplanner.domain.roster import Roster
from wachtplanner.domain.rules import FeePolicy
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.objective import Evaluation
from wachtplanner.expand import ShiftInstance
from wachtplanner.stats.quality import RosterQuality, roster_quality

DOCTOR_COLUMNS = [
    "doctor_id",
    "fte",
    "share",
    "target_points",
    "points",
    "deviation",
    "hours",
    "nights",
    "weekends",
    "holidays",
    "min_days_between_duties",
    "fee_eur",
    "name",
    "area",
]
"""SPEC §3's columns in order, then the doctor's name and area (for readable tables)."""


@dataclass(frozen=True)
class Statistics:
    """All statistics of one roster."""

    doctors: pd.DataFrame
    units: pd.DataFrame
    fairness: pd.DataFrame
    gaps_days: tuple[float, ...]
    """Every real gap between consecutive duties of a doctor, in days (for the histogram)."""
    duties_per_month: pd.DataFrame
    """Doctors x months, number of duties (for the heat map)."""
    quality: RosterQuality
    """The coordinator's figures: bunching, streaks, hours per month, balance, holidays."""


def _hours_between(a: datetime, b: datetime) -> float:
    return (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds() / 3600


def _period_of(instant: datetime, tz: tzinfo, fees: FeePolicy, holidays: frozenset[date]) -> str:
    """Return the RIZIV fee period a moment falls in: weekend, holiday, night or none.

    The weekend runs Friday 19:00 to Monday 08:00 (night window edges) and wins over a holiday
    on a Saturday or Sunday: that is one period, not two. A holiday on a weekday is the day
    itself, 00:00-24:00. Otherwise the weekday evening and night window (19:00-08:00).
    """
    local = instant.astimezone(tz)
    opens, closes = fees.night_window
    weekday, clock = local.weekday(), local.time()
    in_weekend = (
        (weekday == 4 and clock >= opens) or weekday in (5, 6) or (weekday == 0 and clock < closes)
    )
    if in_weekend:
        return "weekend"
    if local.date() in holidays:
        return "holiday"
    if clock >= opens or clock < closes:
        return "night"
    return "none"


def qualifying_hours(shift: ShiftInstance, fees: FeePolicy) -> float:
    """Return the hours of a duty that earn the availability fee (domain.md §3).

    Each moment of the duty belongs to one RIZIV period (:func:`_period_of`): weekend hours
    count up to ``weekend_max_hours`` per weekend, holiday hours up to ``holiday_max_hours`` per
    holiday, weekday evening and night hours all, day hours none. So a stand-alone holiday block
    (eve 19:00 to the day after 08:00) earns the eve's evening and the next night as weekday
    night hours besides the holiday's 24 h, and a holiday on a Saturday adds nothing to its
    weekend. Real elapsed time: a night over a DST change counts 12 or 14 h.
    """
    tz = shift.start.tzinfo
    assert tz is not None  # expand makes every instant aware
    holidays = frozenset(shift.holidays)
    opens, closes = fees.night_window
    cuts = {shift.start, shift.end}
    day = shift.start.astimezone(tz).date() - timedelta(days=1)
    while day <= shift.end.astimezone(tz).date():
        for clock in (time(0), opens, closes):
            instant = datetime.combine(day, clock, tzinfo=tz)
            if shift.start < instant < shift.end:
                cuts.add(instant)
        day += timedelta(days=1)
    ordered = sorted(cuts, key=lambda moment: moment.astimezone(UTC))
    minutes: dict[tuple[str, date], float] = defaultdict(float)
    for begin, finish in pairwise(ordered):
        period = _period_of(begin, tz, fees, holidays)
        local = begin.astimezone(tz).date()
        # A weekend is keyed by its Monday, a holiday by its date, nights all together.
        key = local + timedelta(days=(7 - local.weekday()) % 7) if period == "weekend" else local
        minutes[period, key if period != "night" else date.min] += _hours_between(begin, finish)
    total = 0.0
    for (period, _), hours in minutes.items():
        if period == "weekend":
            total += min(hours, fees.weekend_max_hours)
        elif period == "holiday":
            total += min(hours, fees.holiday_max_hours)
        elif period == "night":
            total += hours
    return round(total, 4)


def _gini(values: np.ndarray) -> float:
    if len(values) == 0 or float(values.sum()) == 0:
        return 0.0
    ordered = np.sort(values)
    n = len(ordered)
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * ordered).sum()) / (n * ordered.sum()) - (n + 1) / n)


def compute_statistics(
    scenario: Scenario,
    instances: Sequence[ShiftInstance],
    roster: Roster,
    evaluation: Evaluation,
) -> Statistics:
    """Return the statistics of a roster the checker has evaluated."""
    by_id = {i.shift_id: i for i in instances}
    fees = scenario.rules.fees
    duties: dict[str, list[ShiftInstance]] = defaultdict(list)
    for a in roster.assignments:
        duties[a.doctor_id].append(by_id[a.shift_id])
    rows = pd.DataFrame(
        [
            {"doctor_id": r.doctor_id, "tag": r.tag, "target": r.target, "points": r.points}
            for r in evaluation.fairness
        ],
        columns=["doctor_id", "tag", "target", "points"],
    )
    totals = rows.groupby("doctor_id")[["target", "points"]].sum()
    circle_target = float(totals["target"].sum()) or 1.0
    doctor_rows, gaps = [], []
    for doctor in scenario.doctors:
        mine = sorted(duties.get(doctor.id, []), key=lambda s: s.start)
        between = [_hours_between(a.end, b.start) / 24 for a, b in pairwise(mine)]
        gaps.extend(between)
        target = float(totals["target"].get(doctor.id, 0.0))
        points = round(sum(s.points for s in mine), 2)
        doctor_rows.append(
            {
                "doctor_id": doctor.id,
                "fte": doctor.fte,
                "share": round(target / circle_target, 6),
                "target_points": round(target, 2),
                "points": points,
                "deviation": round(points - target, 2),
                "hours": round(sum(s.hours for s in mine), 2),
                "nights": sum(
                    1
                    for s in mine
                    if not s.weekend and not s.holidays and s.end.date() > s.start.date()
                ),
                "weekends": sum(1 for s in mine if s.weekend),
                "holidays": sum(1 for s in mine if s.holidays),
                "min_days_between_duties": round(min(between), 2) if between else None,
                "fee_eur": round(
                    sum(qualifying_hours(s, fees) * fees.rate_for(s.start.year) for s in mine), 2
                ),
                "name": doctor.name,
                "area": scenario.area_of(doctor),
            }
        )
    doctors = pd.DataFrame(doctor_rows, columns=DOCTOR_COLUMNS)
    return Statistics(
        doctors=doctors,
        units=_units(instances, roster),
        fairness=_fairness(scenario, evaluation, duties),
        gaps_days=tuple(round(g, 3) for g in gaps),
        duties_per_month=_duties_per_month(scenario, duties),
        quality=roster_quality(instances, roster, evaluation),
    )


def _units(instances: Sequence[ShiftInstance], roster: Roster) -> pd.DataFrame:
    filled: dict[str, int] = defaultdict(int)
    for a in roster.assignments:
        filled[a.shift_id] += 1
    frame = pd.DataFrame(
        [
            {
                "scope": s.scope,
                "scope_id": s.scope_id,
                "month": f"{s.start_date:%Y-%m}",
                "seats": s.need,
                "filled": filled[s.shift_id],
                "duties": filled[s.shift_id],
                "hours": s.hours * filled[s.shift_id],
                "points": s.points * filled[s.shift_id],
            }
            for s in instances
        ],
        columns=["scope", "scope_id", "month", "seats", "filled", "duties", "hours", "points"],
    )
    table = frame.groupby(["scope", "scope_id", "month"], as_index=False).sum()
    table["coverage"] = (table["filled"] / table["seats"]).round(4)
    return table.round({"hours": 2, "points": 2})


def _fairness(
    scenario: Scenario, evaluation: Evaluation, duties: dict[str, list[ShiftInstance]]
) -> pd.DataFrame:
    spacing = scenario.rules.min_days_between_weekends
    close_pairs = 0
    if spacing is not None:
        for mine in duties.values():
            weekends = sorted(s.start_date for s in mine if s.weekend)
            close_pairs += sum(1 for a, b in pairwise(weekends) if (b - a).days < spacing.days)
    out = []
    rows = pd.DataFrame([r.__dict__ for r in evaluation.fairness])
    if rows.empty:
        return pd.DataFrame(columns=["tag"])
    for tag, group in rows.groupby("tag"):
        positive = group[group["share"] > 0]
        per_share = (positive["points"] / positive["share"]).to_numpy(dtype=float)
        out.append(
            {
                "tag": tag,
                "doctors": len(group),
                "largest_abs_deviation": round(float(group["deviation"].abs().max()), 2),
                "deviation_range": round(
                    float(group["deviation"].max() - group["deviation"].min()), 2
                ),
                "deviation_std": round(float(group["deviation"].std(ddof=0)), 2),
                "gini_points_per_share": round(_gini(per_share), 4),
                "outside_band": int((group["excess"] > 0).sum()),
                "band": float(group["band"].max()),
            }
        )
    frame = pd.DataFrame(out)
    frame["weekend_pairs_closer_than_rule"] = close_pairs
    return frame


def _duties_per_month(scenario: Scenario, duties: dict[str, list[ShiftInstance]]) -> pd.DataFrame:
    counts = pd.DataFrame(
        [
            {"doctor_id": doctor_id, "month": f"{s.start_date:%Y-%m}"}
            for doctor_id, mine in duties.items()
            for s in mine
        ],
        columns=["doctor_id", "month"],
    )
    table = counts.value_counts().unstack(fill_value=0)
    # Every month of the horizon, in calendar order (value_counts orders by frequency).
    months = pd.period_range(scenario.horizon.start, scenario.horizon.end, freq="M")
    return table.reindex(
        index=[d.id for d in scenario.doctors],
        columns=[f"{m.year:04d}-{m.month:02d}" for m in months],
        fill_value=0,
    )
