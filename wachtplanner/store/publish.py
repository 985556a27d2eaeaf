"""Publish roster versions, record swaps, issue feed tokens.

An unchanged assignment keeps its UID, SEQUENCE and last-modified time across versions, a
changed one (other times) gets SEQUENCE + 1, a removed one disappears from the feeds. Changes to
duties that start within 48 hours are listed as urgent: subscribed calendars may refresh only
daily, so the coordinator must tell the GP directly.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.checks import Violation
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.expand import ShiftInstance
from wachtplanner.export.ical import duty_versions, feeds
from wachtplanner.result import scenario_hash
from wachtplanner.store.db import Store, now_utc, token_hash

URGENT_WITHIN = timedelta(hours=48)
TOKEN_BYTES = 32
"""256-bit feed tokens (the issue asks for at least 128)."""

after_assignments_written: Callable[[], None] = lambda: None  # noqa: E731
"""Test seam: called inside the publish transaction, to prove a kill there loses nothing."""


class RefusedError(Exception):
    """A roster that breaks a hard rule is never published; ``violations`` say which and why."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.rule}: {v.message}" for v in violations))


@dataclass(frozen=True)
class UrgentChange:
    """A change to a duty that starts within 48 hours of publishing."""

    kind: str  # new | removed | changed
    shift_id: str
    doctor_id: str
    start: str


@dataclass(frozen=True)
class Published:
    """What ``publish`` did."""

    version: int
    num_assignments: int
    kept: int
    changed: int
    added: int
    removed: int
    urgent: tuple[UrgentChange, ...]


def publish(
    store: Store,
    scenario: Scenario,
    shifts: Sequence[ShiftInstance],
    roster: Roster,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
    also: Callable[[sqlite3.Connection, int], None] | None = None,
) -> Published:
    """Check the roster, then store it as a new immutable version with its feeds, atomically.

    ``also`` runs inside the same transaction with the new version's number (e.g. to record the
    swap that caused it), so both land or neither does.

    Raises
    ------
    RefusedError
        When the independent checker finds a broken hard rule; nothing is stored.
    """
    broken = evaluate_roster(scenario, shifts, roster).hard_violations
    if broken:
        store.audit(actor, "publish refused", f"{broken[0].rule}: {broken[0].message}")
        raise RefusedError(broken)
    now = now or now_utc()
    previous_version = store.latest_version()
    previous = store.duties(previous_version) if previous_version is not None else []
    history = {
        (d.shift_id, d.doctor_id): (d.start, d.end, d.sequence, d.modified) for d in previous
    }
    versions = duty_versions(shifts, roster, now, history)
    by_id = {s.shift_id: s for s in shifts}
    fingerprint = scenario_hash(scenario)
    calendars = feeds(
        scenario,
        shifts,
        roster,
        versions,
        fingerprint=fingerprint,
        version_time=now,
    )
    old = {(d.shift_id, d.doctor_id): d for d in previous}
    urgent: list[UrgentChange] = []
    counts = {"kept": 0, "changed": 0, "added": 0}
    soon = now + URGENT_WITHIN
    for a in roster.assignments:
        key = (a.shift_id, a.doctor_id)
        shift = by_id[a.shift_id]
        if key not in old:
            counts["added"] += 1 if previous_version is not None else 0
            kind = "new"
        elif versions[key].sequence != old[key].sequence:
            counts["changed"] += 1
            kind = "changed"
        else:
            counts["kept"] += 1
            continue
        if previous_version is not None and now <= shift.end and shift.start <= soon:
            urgent.append(UrgentChange(kind, a.shift_id, a.doctor_id, shift.start.isoformat()))
    current = {(a.shift_id, a.doctor_id) for a in roster.assignments}
    removed = [d for key, d in old.items() if key not in current]
    for duty in removed:
        start = datetime.fromisoformat(duty.start)
        if now <= datetime.fromisoformat(duty.end) and start <= soon:
            urgent.append(UrgentChange("removed", duty.shift_id, duty.doctor_id, duty.start))
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO versions (published_at, scenario_hash, note) VALUES (?, ?, ?)",
            (now.isoformat(), fingerprint, note),
        )
        version = int(cursor.lastrowid or 0)
        db.executemany(
            "INSERT INTO assignments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    version,
                    a.shift_id,
                    a.doctor_id,
                    versions[a.shift_id, a.doctor_id].uid,
                    versions[a.shift_id, a.doctor_id].sequence,
                    versions[a.shift_id, a.doctor_id].modified.isoformat(),
                    by_id[a.shift_id].start.isoformat(),
                    by_id[a.shift_id].end.isoformat(),
                )
                for a in roster.assignments
            ],
        )
        after_assignments_written()
        db.executemany(
            "INSERT INTO feeds VALUES (?, ?, ?, ?)",
            [
                (version, name, body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
                for name, body in calendars.items()
            ],
        )
        if also is not None:
            also(db, version)
        store.audit(
            actor, "publish", f"version {version}: {len(roster.assignments)} duties. {note}"
        )
    return Published(
        version,
        len(roster.assignments),
        counts["kept"],
        counts["changed"],
        counts["added"],
        len(removed),
        tuple(sorted(urgent, key=lambda u: u.start)),
    )


def latest_roster(store: Store) -> Roster:
    """Return the newest published roster (empty if none)."""
    version = store.latest_version()
    if version is None:
        return Roster()
    return Roster(
        assignments=tuple(
            Assignment(shift_id=d.shift_id, doctor_id=d.doctor_id) for d in store.duties(version)
        )
    )


class SwapRefusedError(RefusedError):
    """A swap that would break a hard rule."""


def swapped(roster: Roster, moves: Sequence[tuple[str, str, str]]) -> Roster:
    """Return the roster with each (shift_id, from_doctor, to_doctor) applied."""
    pairs = [(a.shift_id, a.doctor_id) for a in roster.assignments]
    for shift_id, giver, taker in moves:
        if (shift_id, giver) not in pairs:
            raise KeyError(f"{giver} has no duty {shift_id} in the published roster")
        pairs[pairs.index((shift_id, giver))] = (shift_id, taker)
    return Roster(assignments=tuple(Assignment(shift_id=s, doctor_id=d) for s, d in pairs))


def record_swap(
    store: Store,
    scenario: Scenario,
    shifts: Sequence[ShiftInstance],
    moves: Sequence[tuple[str, str, str]],
    *,
    kind: str,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> Published:
    """Check a swap against every hard rule; if it keeps them, publish it as a new version.

    Raises
    ------
    SwapRefusedError
        With the hard rules the swapped roster would break (only those the swap causes).
    """
    current = latest_roster(store)
    before = {
        (v.rule, v.shift_id, v.doctor_id)
        for v in evaluate_roster(scenario, shifts, current).hard_violations
    }
    proposal = swapped(current, moves)
    caused = [
        v
        for v in evaluate_roster(scenario, shifts, proposal).hard_violations
        if (v.rule, v.shift_id, v.doctor_id) not in before
    ]
    if caused:
        store.audit(actor, "swap refused", f"{kind} {moves}: {caused[0].message} ({reason})")
        raise SwapRefusedError(caused)
    note = f"{kind}: " + ", ".join(f"{s} {g} -> {t}" for s, g, t in moves) + f" ({reason})"

    def record(db: sqlite3.Connection, version: int) -> None:
        db.executemany(
            "INSERT INTO swaps (at, kind, shift_id, from_doctor, to_doctor, actor, reason, "
            "version_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ((now or now_utc()).isoformat(), kind, s, g, t, actor, reason, version)
                for s, g, t in moves
            ],
        )

    return publish(store, scenario, shifts, proposal, actor=actor, note=note, now=now, also=record)


def issue_token(store: Store, subject: str, *, actor: str, rotate: bool = False) -> str:
    """Create a feed token for a doctor or a unit; only its hash is stored.

    ``rotate`` revokes the subject's earlier tokens first (old URLs then answer 410 Gone).
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    when = now_utc().isoformat()
    with store.transaction() as db:
        if rotate:
            db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL",
                (when, subject),
            )
        db.execute(
            "INSERT INTO tokens (subject, token_hash, created_at) VALUES (?, ?, ?)",
            (subject, token_hash(token), when),
        )
        store.audit(actor, "token rotate" if rotate else "token issue", subject)
    return token


def revoke_tokens(store: Store, subject: str, *, actor: str) -> int:
    """Revoke every live token of a subject; return how many."""
    with store.transaction() as db:
        cursor = db.execute(
            "UPDATE tokens SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL",
            (now_utc().isoformat(), subject),
        )
        store.audit(actor, "token revoke", subject)
    return cursor.rowcount
