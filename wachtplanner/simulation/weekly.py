"""Week-by-week continuity simulation: who has a GP, and what acute demand stays unmet.

Each week, from the first event (or the horizon start):

1. Events dated in the week apply: a lost or retiring doctor's GMD patients become unattached
   (remembering their practice and area); ``patient_stop``/``accepting_change`` set a practice's
   intake; ``doctor_join`` adds a doctor with room.
2. Unattached patients are re-homed by a min-cost flow (OR-Tools ``SimpleMinCostFlow``) to
   doctors with room ``min(gmd_capacity_per_fte x fte - gmd, intake_per_week_per_fte x fte)``
   (half the intake for ``conditional`` practices, none for ``closed``), preferring the same
   practice (cost 1), then the same area (cost 10), then anywhere in the circle (cost 100);
   whoever cannot be placed stays unattached (the flow's bypass, cost 10 000).
3. All demand of the unattached counts: ``unattached x contacts_per_patient_per_year / 52``
   consultations a week, of which ``acute_share`` is acute. Emergency points open that week
   serve the unattached of their own area (and ``areas``): acute consultations first, then, for
   a point that ``serves: all`` (as Noodpunt 2060), the others, up to ``sessions_per_week x
   consults_per_session``. Overflow duty takes the acute consultations left (up to
   ``overflow_consults_per_week``). The rest is unmet, acute or not.
4. GPs who absorbed patients carry more: their contacts a week (GMD x contacts / 52) are in the
   timeline, as is GMD per FTE per practice.

Also: retiring GPs take no new patients ``stop_intake_months_before_retirement`` before they
leave; ``fte_change`` events change a GP's capacity and intake; ``initial_unattached`` and
``newcomers_per_week`` put citizens without a GP in the areas; each week the areas below the
GP-poor threshold (Impulseo: GPs under 65 per 100 000 inhabitants below 90, or 120 where the
density is under 125/km²) are listed.

Patients are conserved: attached + unattached = the start's patients + newcomers, every week.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from ortools.graph.python import min_cost_flow

from wachtplanner.domain.continuity import (
    AcceptingChange,
    DoctorJoin,
    DoctorLoss,
    FteChange,
    PatientStop,
    RetirementWave,
)
from wachtplanner.domain.people import Doctor
from wachtplanner.domain.scenario import Scenario

COST_SAME_PRACTICE = 1
COST_SAME_AREA = 10
COST_CIRCLE = 100
COST_UNPLACED = 10_000
GP_ROLES = ("gp", "replacement")


@dataclass
class _GP:
    id: str
    practice: str | None
    area: str
    fte: float
    gmd: int
    birth_date: date | None = None
    active: bool = True
    no_intake_from: date | None = None
    absorbed: int = 0


@dataclass(frozen=True)
class WeekRow:
    """One week of the timeline."""

    week: int
    start: date
    attached: int
    unattached: int
    acute_demand: float
    served_overflow: float
    served_emergency: float
    unmet: float
    rehomed: int
    gmd_per_fte: dict[str, float] = field(default_factory=dict)
    contacts_demand: float = 0.0
    """All consultations a week of the unattached (acute and not)."""
    unmet_acute: float = 0.0
    contacts_per_week: dict[str, float] = field(default_factory=dict)
    """Per GP who absorbed patients: consultations a week of their whole list."""
    gp_poor: tuple[str, ...] = ()


@dataclass(frozen=True)
class Simulation:
    """The timeline and the figures a board acts on."""

    rows: tuple[WeekRow, ...]
    gmd_per_fte_before: dict[str, float]
    gmd_per_fte_after: dict[str, float]
    gp_poor_before: tuple[str, ...]
    gp_poor_after: tuple[str, ...]
    departures: tuple[tuple[str, date], ...]

    @property
    def weeks_until_all_attached(self) -> int | None:
        """Return the first week from which nobody is without a GP for the rest of the timeline.

        0 when nobody ever is; None when patients are still unattached in the last week.
        """
        if not self.rows or self.rows[-1].unattached > 0:
            return None if self.rows else 0
        last_unattached = max((r.week for r in self.rows if r.unattached > 0), default=-1)
        return last_unattached + 1

    @property
    def peak_unattached(self) -> int:
        """Return the most patients without a GP in any week."""
        return max((r.unattached for r in self.rows), default=0)

    @property
    def peak_unmet(self) -> float:
        """Return the largest weekly unmet acute demand (consultations)."""
        return max((r.unmet for r in self.rows), default=0.0)

    @property
    def total_unmet(self) -> float:
        """Return the unmet consultations (acute and not) summed over all weeks."""
        return sum(r.unmet for r in self.rows)

    @property
    def gp_poor_weeks(self) -> int:
        """Return the weeks in which at least one area is GP-poor."""
        return sum(1 for r in self.rows if r.gp_poor)

    def first_gp_poor_week(self) -> dict[str, int]:
        """Return per area the first week it is GP-poor (areas never GP-poor are left out)."""
        first: dict[str, int] = {}
        for row in self.rows:
            for area in row.gp_poor:
                first.setdefault(area, row.week)
        return first


def retirement_dates(
    scenario: Scenario, wave: RetirementWave, origin: date
) -> list[tuple[str, date]]:
    """Return (doctor, date) for a wave: the oldest first, spread evenly over the years."""
    start = wave.start or origin
    sizes: dict[str, int] = defaultdict(int)
    for doctor in scenario.doctors:
        if doctor.practice is not None and doctor.role in GP_ROLES:
            sizes[doctor.practice] += 1
    leaving = [
        d
        for d in scenario.doctors
        if d.role in GP_ROLES
        and (d.age_on(start) or 0) >= wave.min_age
        and (not wave.solo_only or (d.practice is not None and sizes[d.practice] == 1))
    ]
    leaving.sort(key=lambda d: (d.birth_date or date.max, d.id))
    span_days = 365 * wave.within_years
    return [
        (d.id, start + timedelta(days=round(span_days * (n + 1) / (len(leaving) + 1))))
        for n, d in enumerate(leaving)
    ]


def _gp(scenario: Scenario, doctor: Doctor) -> _GP:
    area = doctor.area
    if area is None and doctor.practice is not None:
        area = next(p.area for p in scenario.practices if p.id == doctor.practice)
    return _GP(doctor.id, doctor.practice, area or "", doctor.fte, doctor.gmd, doctor.birth_date)


def _age(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, 28))


def _gmd_per_fte(gps: dict[str, _GP]) -> dict[str, float]:
    gmd: dict[str, float] = defaultdict(float)
    fte: dict[str, float] = defaultdict(float)
    for gp in gps.values():
        if gp.active and gp.practice is not None:
            gmd[gp.practice] += gp.gmd
            fte[gp.practice] += gp.fte
    return {p: round(gmd[p] / fte[p], 1) for p in sorted(fte) if fte[p] > 0}


def gp_poor_areas(
    scenario: Scenario, gps: dict[str, _GP], day: date | None = None
) -> tuple[str, ...]:
    """Return the areas below 90 GPs per 100 000 (120 where density < 125/km²).

    Counted as Impulseo counts: active GPs under ``gp_poor_age_limit`` (65) on ``day``.
    """
    limit = scenario.continuity.gp_poor_age_limit
    when = day or scenario.horizon.start
    heads: dict[str, int] = defaultdict(int)
    for gp in gps.values():
        age = _age(gp.birth_date, when)
        if gp.active and (age is None or age < limit):
            heads[gp.area] += 1
    poor = []
    for area in scenario.areas:
        if not area.population:
            continue
        threshold = 90.0
        if area.area_km2 and area.population / area.area_km2 < 125:
            threshold = 120.0
        if heads[area.id] * 100_000 / area.population < threshold:
            poor.append(area.id)
    return tuple(poor)


def _rehome(
    pools: dict[tuple[str | None, str], int],
    gps: dict[str, _GP],
    room: dict[str, int],
) -> int:
    """Move unattached patients to doctors with room by min-cost flow; return how many."""
    groups = [(key, count) for key, count in pools.items() if count > 0]
    takers = [gp for gp in gps.values() if gp.active and room.get(gp.id, 0) > 0]
    total = sum(count for _, count in groups)
    if not groups or not takers or total == 0:
        return 0
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    group_node = {key: 2 + n for n, (key, _) in enumerate(groups)}
    gp_node = {gp.id: 2 + len(groups) + n for n, gp in enumerate(takers)}
    for key, count in groups:
        flow.add_arc_with_capacity_and_unit_cost(source, group_node[key], count, 0)
        practice, area = key
        for gp in takers:
            if gp.practice is not None and gp.practice == practice:
                cost = COST_SAME_PRACTICE
            elif gp.area == area:
                cost = COST_SAME_AREA
            else:
                cost = COST_CIRCLE
            flow.add_arc_with_capacity_and_unit_cost(group_node[key], gp_node[gp.id], count, cost)
    for gp in takers:
        flow.add_arc_with_capacity_and_unit_cost(gp_node[gp.id], sink, room[gp.id], 0)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, total, COST_UNPLACED)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("the re-homing flow has no optimal solution")  # cannot happen
    moved = 0
    for arc in range(flow.num_arcs()):
        tail, head, amount = flow.tail(arc), flow.head(arc), flow.flow(arc)
        if amount == 0 or (tail == source and head == sink):
            continue
        if head == sink:  # doctor -> sink: patients this doctor takes on
            taker = gps[takers[tail - 2 - len(groups)].id]
            taker.gmd += amount
            taker.absorbed += amount
            moved += amount
        elif tail == source:  # source -> group: patients of this group placed
            pools[groups[head - 2][0]] -= amount
    return moved


def _serve(
    scenario: Scenario, start: date, unattached_by_area: dict[str, int]
) -> tuple[float, float, float, float, float]:
    """Return (contacts, acute, served by emergency points, served by overflow, unmet acute)."""
    params = scenario.continuity
    per_week = params.contacts_per_patient_per_year / 52
    contacts = {a: n * per_week for a, n in unattached_by_area.items()}
    acute = {a: c * params.acute_share for a, c in contacts.items()}
    other = {a: contacts[a] - acute[a] for a in contacts}
    served_emergency = 0.0
    for point in sorted(scenario.emergency_points, key=lambda e: e.id):
        open_now = (point.start is None or point.start <= start + timedelta(days=6)) and (
            point.until is None or point.until >= start
        )
        if not open_now:
            continue
        capacity = point.sessions_per_week * point.consults_per_session
        for area in (point.area, *point.areas):
            for demand in (acute, other) if point.serves == "all" else (acute,):
                taken = min(capacity, demand.get(area, 0.0))
                demand[area] = demand.get(area, 0.0) - taken
                capacity -= taken
                served_emergency += taken
    acute_left = sum(acute.values())
    served_overflow = min(acute_left, params.overflow_consults_per_week)
    return (
        sum(contacts.values()),
        sum(contacts.values()) * params.acute_share,
        served_emergency,
        served_overflow,
        acute_left - served_overflow,
    )


def simulate(scenario: Scenario, *, weeks: int | None = None) -> Simulation:
    """Run the weekly simulation over ``weeks``.

    The default is the horizon's length, or a retirement wave's years when longer.
    """
    params = scenario.continuity
    gps = {d.id: _gp(scenario, d) for d in scenario.doctors if d.role in GP_ROLES}
    accepting = {p.id: p.accepting for p in scenario.practices}
    origin = scenario.horizon.start
    departures: list[tuple[str, date]] = []
    dated: list[tuple[date, DoctorLoss | PatientStop | AcceptingChange | DoctorJoin | FteChange]]
    dated = []
    horizon_weeks = (scenario.horizon.end - origin).days // 7 + 1
    for event in scenario.events:
        if isinstance(event, RetirementWave):
            for doctor_id, day in retirement_dates(scenario, event, origin):
                dated.append((day, DoctorLoss(type="doctor_loss", doctor=doctor_id, date=day)))
                if doctor_id in gps:
                    months = params.stop_intake_months_before_retirement
                    gps[doctor_id].no_intake_from = _months_before(day, months)
            horizon_weeks = max(horizon_weeks, 52 * event.within_years + 4)
        else:
            dated.append((event.date, event))
    first = min((day for day, _ in dated), default=origin)
    first = max(first, origin) - timedelta(days=max(first, origin).weekday())
    num_weeks = weeks or horizon_weeks
    before = _gmd_per_fte(gps)
    poor_before = gp_poor_areas(scenario, gps, first)
    pools: dict[tuple[str | None, str], int] = defaultdict(int)
    for area, count in params.initial_unattached.items():
        pools[None, area] += count
    arrived: dict[str, float] = defaultdict(float)
    rows: list[WeekRow] = []
    for week in range(num_weeks):
        start = first + timedelta(weeks=week)
        for area, per_week in params.newcomers_per_week.items():
            arrived[area] += per_week
            whole = int(arrived[area])
            pools[None, area] += whole
            arrived[area] -= whole
        for day, happening in sorted(dated, key=lambda item: item[0]):
            if not start <= day < start + timedelta(days=7) and not (week == 0 and day < start):
                continue
            if (
                isinstance(happening, DoctorLoss)
                and happening.doctor in gps
                and gps[happening.doctor].active
            ):
                gp = gps[happening.doctor]
                gp.active = False
                pools[gp.practice, gp.area] += gp.gmd
                gp.gmd = 0
                departures.append((gp.id, day))
            elif isinstance(happening, PatientStop):
                accepting[happening.practice] = "closed"
            elif isinstance(happening, AcceptingChange):
                accepting[happening.practice] = happening.accepting
            elif isinstance(happening, DoctorJoin):
                gps[happening.doctor.id] = _gp(scenario, happening.doctor)
            elif isinstance(happening, FteChange) and happening.doctor in gps:
                gps[happening.doctor].fte = happening.fte
        room = {}
        for gp in gps.values():
            status = accepting.get(gp.practice or "", "open")
            if not gp.active or status == "closed":
                continue
            if gp.no_intake_from is not None and start >= gp.no_intake_from:
                continue
            intake = params.intake_per_week_per_fte * gp.fte
            if status == "conditional":
                intake /= 2
            room[gp.id] = max(
                0, min(int(params.gmd_capacity_per_fte * gp.fte) - gp.gmd, int(intake))
            )
        rehomed = _rehome(pools, gps, room)
        unattached = sum(pools.values())
        by_area: dict[str, int] = defaultdict(int)
        for (_, area), count in pools.items():
            by_area[area] += count
        attached = sum(gp.gmd for gp in gps.values() if gp.active)
        contacts, acute, served_emergency, served_overflow, unmet_acute = _serve(
            scenario, start, by_area
        )
        per_week = params.contacts_per_patient_per_year / 52
        rows.append(
            WeekRow(
                week=week,
                start=start,
                attached=attached,
                unattached=unattached,
                acute_demand=round(acute, 2),
                served_overflow=round(served_overflow, 2),
                served_emergency=round(served_emergency, 2),
                unmet=round(contacts - served_emergency - served_overflow, 2),
                rehomed=rehomed,
                gmd_per_fte=_gmd_per_fte(gps),
                contacts_demand=round(contacts, 2),
                unmet_acute=round(unmet_acute, 2),
                contacts_per_week={
                    gp.id: round(gp.gmd * per_week, 1)
                    for gp in sorted(gps.values(), key=lambda g: g.id)
                    if gp.absorbed and gp.active
                },
                gp_poor=gp_poor_areas(scenario, gps, start),
            )
        )
    return Simulation(
        rows=tuple(rows),
        gmd_per_fte_before=before,
        gmd_per_fte_after=_gmd_per_fte(gps),
        gp_poor_before=poor_before,
        gp_poor_after=gp_poor_areas(scenario, gps, first + timedelta(weeks=num_weeks)),
        departures=tuple(departures),
    )
