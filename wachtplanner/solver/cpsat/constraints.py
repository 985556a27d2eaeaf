"""One builder per rule (``RULE_BUILDERS``): hard rules add constraints, soft rules penalties.

Scope, role, unavailability, exemption and the supervisor's absence are not here: they remove
variables instead (``solver.instance.PAIR_FILTERS``). Every auxiliary variable a soft rule adds
is tied to the ``x`` in both directions, so its value in any solution is the checker's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date

from ortools.sat.python import cp_model

from wachtplanner.calendar import weekend_of
from wachtplanner.domain.rules import Rule
from wachtplanner.evaluation.fairness import period_index
from wachtplanner.solver.cpsat.variables import BuildContext, Penalty
from wachtplanner.solver.instance import interval_cliques, touched_dates


def build_coverage(ctx: BuildContext) -> None:
    """Every shift s: sum over eligible doctors d of x[d, s] == need(s)."""
    for s_idx, shift in enumerate(ctx.instance.shifts):
        ctx.model.add(
            cp_model.LinearExpr.sum([ctx.x[d, s_idx] for d in ctx.instance.doctors_of_shift[s_idx]])
            == shift.need
        )


def _at_most_one_per_clique(ctx: BuildContext, slack_min: int) -> None:
    inst = ctx.instance
    for d_idx in range(len(inst.doctors)):
        for group in interval_cliques(
            ctx.eligible(d_idx), inst.start_min, inst.end_min, slack=slack_min
        ):
            ctx.model.add_at_most_one(ctx.x[d_idx, s] for s in group)


def build_overlap(ctx: BuildContext) -> None:
    """Per doctor, at most one of any set of shifts that share a moment.

    With a rest rule the rest cliques contain every overlap clique, so this adds nothing then.
    """
    if ctx.instance.scenario.rules.min_rest_hours == 0:
        _at_most_one_per_clique(ctx, 0)


def build_rest(ctx: BuildContext) -> None:
    """Per doctor, at most one of any set of shifts whose ``[start, end + rest)`` share a moment.

    Two duties a and b (a first) then satisfy start(b) >= end(a) + rest.
    """
    rest_min = round(ctx.instance.scenario.rules.min_rest_hours * 60)
    if rest_min > 0:
        _at_most_one_per_clique(ctx, rest_min)


def build_supervision(ctx: BuildContext) -> None:
    """A trainee's shift t excludes every other shift of the supervisor that overlaps t.

    For each overlap group G of the trainee's and supervisor's shifts and each trainee shift
    i in G: x[trainee, i] + sum over j in G, j != i, of x[supervisor, j] <= 1.
    """
    inst = ctx.instance
    index = inst.doctor_index()
    for t_idx, trainee in enumerate(inst.doctors):
        if trainee.role != "trainee" or trainee.supervisor is None:
            continue
        s_idx = index[trainee.supervisor]
        own, theirs = set(ctx.eligible(t_idx)), set(ctx.eligible(s_idx))
        for group in interval_cliques(sorted(own | theirs), inst.start_min, inst.end_min):
            for i in group:
                if i not in own:
                    continue
                others = [ctx.x[s_idx, j] for j in group if j != i and j in theirs]
                if others:
                    ctx.model.add(cp_model.LinearExpr.sum([ctx.x[t_idx, i], *others]) <= 1)


def _both(ctx: BuildContext, literals: Sequence[cp_model.IntVar]) -> cp_model.IntVar:
    """Return a Boolean equal to the AND of ``literals`` (exact both ways)."""
    both = ctx.model.new_bool_var("")
    for literal in literals:
        ctx.model.add_implication(both, literal)
    ctx.model.add_bool_or([*(literal.Not() for literal in literals), both])
    return both


def night_rows(ctx: BuildContext, d_idx: int, length: int) -> list[list[int]]:
    """Return every sequence of ``length`` eligible shifts of a doctor on consecutive nights.

    Shift b follows shift a when b's first night is the day after a's last night.
    """
    inst = ctx.instance
    by_first: dict[int, list[int]] = defaultdict(list)
    for s in ctx.eligible(d_idx):
        if inst.night_days[s]:
            by_first[inst.night_days[s][0]].append(s)
    rows = [[s] for s in ctx.eligible(d_idx) if inst.night_days[s]]
    for _ in range(length - 1):
        rows = [
            [*row, nxt]
            for row in rows
            for nxt in by_first.get(inst.night_days[row[-1]][-1] + 1, ())
        ]
    return rows


def build_consecutive_nights(ctx: BuildContext) -> None:
    """At most ``count`` duties in a row on consecutive nights.

    For every row r of count + 1 shifts on consecutive nights: sum of x over r <= count (hard),
    or z = AND of r with cost weight x z (soft; a longer row of k duties holds k - count rows).
    """
    rule = ctx.instance.scenario.rules.max_consecutive_nights
    if rule is None or (not rule.hard and rule.weight == 0):
        return
    for d_idx in range(len(ctx.instance.doctors)):
        for row in night_rows(ctx, d_idx, rule.count + 1):
            literals = [ctx.x[d_idx, s] for s in row]
            if rule.hard:
                ctx.model.add(cp_model.LinearExpr.sum(literals) <= rule.count)
            else:
                ctx.penalties[Rule.CONSECUTIVE_NIGHTS].append(
                    Penalty(rule.weight, _both(ctx, literals), d_idx)
                )


def build_monthly_cap(ctx: BuildContext) -> None:
    """Cap duty minutes per doctor and month of local start.

    Hard: sum of minutes <= cap. Soft: over = ceil(max(0, minutes - cap) / 60), cost
    weight_per_hour * over.
    """
    rule = ctx.instance.scenario.rules.max_hours_per_month
    if rule is None:
        return
    inst = ctx.instance
    cap_min = round(rule.hours * 60)
    for d_idx in range(len(inst.doctors)):
        for shifts in inst.by_month(ctx.eligible(d_idx)).values():
            minutes = [inst.minutes_of(s) for s in shifts]
            if sum(minutes) <= cap_min:
                continue
            load = cp_model.LinearExpr.weighted_sum([ctx.x[d_idx, s] for s in shifts], minutes)
            if rule.hard:
                ctx.model.add(load <= cap_min)
                continue
            excess_min = ctx.model.new_int_var(0, sum(minutes) - cap_min, "")
            ctx.model.add_max_equality(excess_min, [0, load - cap_min])
            over = ctx.model.new_int_var(0, -(-(sum(minutes) - cap_min) // 60), "")
            ctx.model.add(60 * over >= excess_min)
            ctx.model.add(60 * over <= excess_min + 59)
            ctx.penalties[Rule.MONTHLY_CAP].append(Penalty(rule.weight_per_hour, over, d_idx))


def build_weekend_spacing(ctx: BuildContext) -> None:
    """Space a doctor's weekends at least ``days`` apart (weekends by their Friday).

    Per doctor and weekend w: worked_w = OR of x over the doctor's weekend shifts of w (exact:
    worked_w >= each x, worked_w <= their sum). For two weekends closer than ``days``: not both
    (hard), or z = worked_a AND worked_b with cost weight * z (soft).
    """
    rule = ctx.instance.scenario.rules.min_days_between_weekends
    if rule is None or (not rule.hard and rule.weight == 0):
        return
    inst = ctx.instance
    for d_idx in range(len(inst.doctors)):
        by_weekend: dict[date, list[int]] = defaultdict(list)
        for s in ctx.eligible(d_idx):
            if inst.shifts[s].weekend:
                by_weekend[weekend_of(inst.shifts[s].start_date)].append(s)
        weekends = sorted(by_weekend)
        worked: dict[date, cp_model.IntVar] = {}
        for weekend in weekends:
            shifts = [ctx.x[d_idx, s] for s in by_weekend[weekend]]
            if len(shifts) == 1:
                worked[weekend] = shifts[0]
                continue
            any_of = ctx.model.new_bool_var("")
            for literal in shifts:
                ctx.model.add_implication(literal, any_of)
            ctx.model.add_bool_or([*shifts, any_of.Not()])
            worked[weekend] = any_of
        for position, a in enumerate(weekends):
            for b in weekends[position + 1 :]:
                if (b - a).days >= rule.days:
                    break
                if rule.hard:
                    ctx.model.add_bool_or([worked[a].Not(), worked[b].Not()])
                else:
                    ctx.penalties[Rule.WEEKEND_SPACING].append(
                        Penalty(rule.weight, _both(ctx, [worked[a], worked[b]]), d_idx)
                    )


def build_duties_per_7_days(ctx: BuildContext) -> None:
    """At most ``count`` duty starts in any 7 days of the horizon.

    Per doctor and window w of 7 days with starts S_w: S_w <= count (hard), or
    over_w = max(0, S_w - count) with cost weight x over_w (soft).
    """
    rule = ctx.instance.scenario.rules.max_duties_per_7_days
    if rule is None or (not rule.hard and rule.weight == 0):
        return
    for d_idx in range(len(ctx.instance.doctors)):
        for first_day in ctx.windows(7):
            count = ctx.count_within(d_idx, first_day, 7)
            if count <= rule.count:
                continue
            starts = ctx.starts_within(d_idx, first_day, 7)
            if rule.hard:
                ctx.model.add(starts <= rule.count)
                continue
            over = ctx.model.new_int_var(0, count - rule.count, "")
            ctx.model.add_max_equality(over, [0, starts - rule.count])
            ctx.penalties[Rule.DUTIES_PER_7_DAYS].append(Penalty(rule.weight, over, d_idx))


def _excess_over_one(ctx: BuildContext, count: int, starts: cp_model.LinearExpr) -> cp_model.IntVar:
    """Return a variable equal to max(0, S - 1) for a window's starts S of ``count`` eligible.

    max(0, S - 1) = S - 1 + e with e = [S == 0]: over = S - 1 + e (so S = 0 forces e = 1, as
    over >= 0) and (n - 1) e + over <= n - 1 (so S >= 1, where over = S - 1 + e, forces e = 0):
    both exact, and only the first constraint holds the window's starts.
    """
    empty = ctx.model.new_bool_var("")
    # The excess as a variable of its own keeps constants out of the objective (with several
    # workers CP-SAT reported an objective off by those constants).
    over = ctx.model.new_int_var(0, count - 1, "")
    ctx.model.add(starts + empty - over == 1)
    ctx.model.add((count - 1) * empty + over <= count - 1)
    return over


def build_min_gap(ctx: BuildContext) -> None:
    """Soft minimum gap: per window of a doctor's L days, cost weight x max(0, S_w - 1)."""
    rule = ctx.instance.scenario.rules.min_days_between_duties
    if rule is None or rule.weight == 0:
        return
    inst = ctx.instance
    for d_idx, doctor in enumerate(inst.doctors):
        length = inst.load.min_gap_days.get(doctor.id)
        if length is None:
            continue
        for first_day in ctx.windows(length):
            count = ctx.count_within(d_idx, first_day, length)
            if count > 1:
                over = _excess_over_one(ctx, count, ctx.starts_within(d_idx, first_day, length))
                ctx.penalties[Rule.MIN_GAP].append(Penalty(rule.weight, over, d_idx))


def build_close_duties(ctx: BuildContext) -> None:
    """Soft: per window of ``close_days`` + 1 days, cost close_weight x max(0, H_w - 1).

    H_w: the doctor's duties holding a day of the window, from their start day to their last
    night's (``BuildContext.held_in``), so a weekend block and the Tuesday night after it are
    two days apart (Sunday's night to Tuesday's), not four (Friday to Tuesday).
    """
    rule = ctx.instance.scenario.rules.min_days_between_duties
    if rule is None or rule.close_days == 0 or rule.close_weight == 0:
        return
    length = rule.close_days + 1
    for d_idx in range(len(ctx.instance.doctors)):
        for first_day in ctx.windows(length):
            held = ctx.held_in(d_idx, first_day, length)
            if len(held) > 1:
                inside = cp_model.LinearExpr.sum([ctx.x[d_idx, s] for s in held])
                over = _excess_over_one(ctx, len(held), inside)
                ctx.penalties[Rule.CLOSE_DUTIES].append(Penalty(rule.close_weight, over, d_idx))


def build_even_load(ctx: BuildContext) -> None:
    """Soft: weight x floor(|cumulative points - pro-rata target| / 1 point) per period end.

    cum_m = cum_(m-1) + points started in period m; |cum_m - target_m| by an exact absolute
    value, whole points q by 100 q <= |.| <= 100 q + 99.
    """
    rule = ctx.instance.scenario.rules.even_load
    if rule is None or rule.weight == 0:
        return
    inst = ctx.instance
    horizon = inst.scenario.horizon
    period_of = [period_index(horizon.start, s.start_date, rule.period) for s in inst.shifts]
    for d_idx, doctor in enumerate(inst.doctors):
        marks = inst.load.cumulative_centi.get(doctor.id)
        if not marks:
            continue
        by_period: dict[int, list[int]] = defaultdict(list)
        for s in ctx.eligible(d_idx):
            by_period[period_of[s]].append(s)
        reach = sum(inst.shifts[s].points_centi for s in ctx.eligible(d_idx))
        running: cp_model.IntVar | None = None
        for slot, mark in enumerate(marks):
            period_points = cp_model.LinearExpr.weighted_sum(
                [ctx.x[d_idx, s] for s in by_period.get(slot, ())],
                [inst.shifts[s].points_centi for s in by_period.get(slot, ())],
            )
            cumulative = ctx.model.new_int_var(0, reach, "")
            if running is None:
                ctx.model.add(cumulative == period_points)
            else:
                ctx.model.add(cumulative == running + period_points)
            running = cumulative
            distance = ctx.model.new_int_var(0, max(reach, mark), "")
            ctx.model.add_abs_equality(distance, cumulative - mark)
            whole = ctx.model.new_int_var(0, max(reach, mark) // 100, "")
            ctx.model.add(100 * whole <= distance)
            ctx.model.add(distance <= 100 * whole + 99)
            ctx.penalties[Rule.EVEN_LOAD].append(Penalty(rule.weight, whole, d_idx))


def min_duty_doctors(ctx: BuildContext) -> list[tuple[int, int]]:
    """Return (doctor, duties asked) for every GP the minimum-duties rule asks something of."""
    inst = ctx.instance
    rule = inst.scenario.rules.min_duties_per_year
    if rule is None:
        return []
    asked = rule.required(inst.num_days)
    start = inst.scenario.horizon.start
    out = []
    for d_idx, doctor in enumerate(inst.doctors):
        age = doctor.age_on(start)
        if doctor.role != "gp" or (age is not None and age >= rule.below_age):
            continue
        wanted = min(asked, inst.num_eligible(d_idx))
        if wanted > 0:
            out.append((d_idx, wanted))
    return out


def build_min_duties(ctx: BuildContext) -> None:
    """Soft: weight x max(0, asked - duties) per GP below the age limit (pro rata a year)."""
    rule = ctx.instance.scenario.rules.min_duties_per_year
    if rule is None or rule.weight == 0:
        return
    for d_idx, wanted in min_duty_doctors(ctx):
        duties = cp_model.LinearExpr.sum([ctx.x[d_idx, s] for s in ctx.eligible(d_idx)])
        short = ctx.model.new_int_var(0, wanted, "")
        ctx.model.add_max_equality(short, [0, wanted - duties])
        ctx.penalties[Rule.MIN_DUTIES].append(Penalty(rule.weight, short, d_idx))


def build_holiday_rotation(ctx: BuildContext) -> None:
    """Soft: weight x x[d, s] when s covers a holiday doctor d did last year."""
    rule = ctx.instance.scenario.rules.holiday_rotation
    if rule is None or rule.weight == 0:
        return
    inst = ctx.instance
    for d_idx, doctor in enumerate(inst.doctors):
        last_year = set(doctor.carry_over.holidays)
        if not last_year:
            continue
        for s in ctx.eligible(d_idx):
            if not last_year.isdisjoint(inst.holiday_keys[s]):
                ctx.penalties[Rule.HOLIDAY_ROTATION].append(
                    Penalty(rule.weight, ctx.x[d_idx, s], d_idx)
                )


def build_holiday_share(ctx: BuildContext) -> None:
    """Soft: over = max(0, duties touching a holiday - fair number), cost weight x over."""
    rule = ctx.instance.scenario.rules.holiday_share
    if rule is None or rule.weight == 0:
        return
    inst = ctx.instance
    for d_idx, doctor in enumerate(inst.doctors):
        on_holidays = [ctx.x[d_idx, s] for s in ctx.eligible(d_idx) if inst.shifts[s].holidays]
        fair = inst.load.fair_holiday_duties(doctor.id)
        if len(on_holidays) <= fair:
            continue
        over = ctx.model.new_int_var(0, len(on_holidays) - fair, f"holiday_over[{d_idx}]")
        ctx.model.add_max_equality(over, [0, cp_model.LinearExpr.sum(on_holidays) - fair])
        ctx.penalties[Rule.HOLIDAY_SHARE].append(Penalty(rule.weight, over, d_idx))


def build_avoid(ctx: BuildContext) -> None:
    """Cost ``avoid_weight`` for x[d, s] when shift s touches one of doctor d's avoid dates."""
    weight = ctx.instance.scenario.rules.avoid_weight
    inst = ctx.instance
    for d_idx, doctor in enumerate(inst.doctors):
        if not doctor.avoid or weight == 0:
            continue
        avoid = set(doctor.avoid)
        for s in ctx.eligible(d_idx):
            if not avoid.isdisjoint(touched_dates(inst.shifts[s])):
                ctx.penalties[Rule.AVOID].append(Penalty(weight, ctx.x[d_idx, s], d_idx))


def build_prefer(ctx: BuildContext) -> None:
    """Cost ``prefer_weight`` for a weekend duty on none of the doctor's ``prefer`` dates.

    Only doctors who gave preferred dates pay it.
    """
    weight = ctx.instance.scenario.rules.prefer_weight
    inst = ctx.instance
    for d_idx, doctor in enumerate(inst.doctors):
        if not doctor.prefer or weight == 0:
            continue
        wanted = set(doctor.prefer)
        for s in ctx.eligible(d_idx):
            if inst.shifts[s].weekend and wanted.isdisjoint(touched_dates(inst.shifts[s])):
                ctx.penalties[Rule.PREFER].append(Penalty(weight, ctx.x[d_idx, s], d_idx))


RULE_BUILDERS: dict[Rule, Callable[[BuildContext], None]] = {
    Rule.COVERAGE: build_coverage,
    Rule.OVERLAP: build_overlap,
    Rule.REST: build_rest,
    Rule.SUPERVISION: build_supervision,
    Rule.CONSECUTIVE_NIGHTS: build_consecutive_nights,
    Rule.MONTHLY_CAP: build_monthly_cap,
    Rule.WEEKEND_SPACING: build_weekend_spacing,
    Rule.DUTIES_PER_7_DAYS: build_duties_per_7_days,
    Rule.MIN_GAP: build_min_gap,
    Rule.CLOSE_DUTIES: build_close_duties,
    Rule.MIN_DUTIES: build_min_duties,
    Rule.EVEN_LOAD: build_even_load,
    Rule.HOLIDAY_ROTATION: build_holiday_rotation,
    Rule.HOLIDAY_SHARE: build_holiday_share,
    Rule.AVOID: build_avoid,
    Rule.PREFER: build_prefer,
}
