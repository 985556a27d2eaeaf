"""Publish roster versions, record swaps, undo, issue tokens: each one write transaction.

An unchanged assignment keeps its UID, SEQUENCE and last-modified time across versions, a
changed one (other times) gets SEQUENCE + 1, a removed one disappears from the feeds, and a
doctor whose duties did not change keeps a byte-identical feed (and ETag). Changes to duties that
start within 48 hours are listed as urgent: subscribed calendars may refresh only daily, so the
coordinator must tell the GP directly.

Every function here reads the latest version *inside* its write transaction (the store's write
lock is taken first), so concurrent swaps and publishes are applied one after the other.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, text

from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.checks import Violation
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.exceptions import StoreError
from wachtplanner.expand import ShiftInstance
from wachtplanner.export.ical import duty_versions, feeds
from wachtplanner.result import scenario_hash
from wachtplanner.store.db import (
    Store,
    StoredDuty,
    audit,
    audit_alone,
    now_utc,
    token_hash,
)

URGENT_WITHIN = timedelta(hours=48)
TOKEN_BYTES = 32
"""256-bit tokens (the issue asks for at least 128)."""

after_assignments_written: Callable[[], None] = lambda: None  # noqa: E731
"""Test seam: called inside the publish transaction, to prove a kill there loses nothing."""


class RefusedError(Exception):
    """A roster that breaks a hard rule is never published; ``violations`` say which and why."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.rule}: {v.message}" for v in violations))


class SwapRefusedError(RefusedError):
    """A swap that would break a hard rule."""


class SwapError(StoreError):
    """A swap that cannot be made as asked (no such duty, a doctor swapping with themself)."""


@dataclass(frozen=True)
class DroppedSwap:
    """A swap recorded after the version a roster is based on, which the roster would undo."""

    version: int
    shift_id: str
    from_doctor: str
    to_doctor: str
    reason: str


class DroppedSwapsError(StoreError):
    """Publishing would silently undo swaps recorded since the roster's base version."""

    def __init__(self, dropped: Sequence[DroppedSwap], base: int | None) -> None:
        self.dropped = tuple(dropped)
        self.base = base
        super().__init__(
            f"the roster would undo {len(dropped)} swap(s) recorded since version {base}"
        )


@dataclass(frozen=True)
class UrgentChange:
    """A change to a duty that starts within 48 hours of publishing."""

    kind: str  # new | removed | changed
    shift_id: str
    doctor_id: str
    start: str


@dataclass(frozen=True)
class Published:
    """What a publish did."""

    version: int
    num_assignments: int
    kept: int
    changed: int
    added: int
    removed: int
    urgent: tuple[UrgentChange, ...]
    first: bool
    """The store's first version (nothing to compare with)."""
    changed_feeds: tuple[str, ...] = ()
    """Feeds whose bytes differ from the previous version's."""


def _roster_of(duties: Sequence[StoredDuty]) -> Roster:
    return Roster(
        assignments=tuple(Assignment(shift_id=d.shift_id, doctor_id=d.doctor_id) for d in duties)
    )


def latest_roster(store: Store) -> Roster:
    """Return the newest published roster (empty if none)."""
    with store.read() as db:
        version = store.latest_version(db)
        return Roster() if version is None else _roster_of(store.duties(version, db))


def version_roster(store: Store, version: int) -> Roster:
    """Return the roster of a published version."""
    return _roster_of(store.duties(version))


def _base_version(db: Connection) -> int | None:
    """Return the newest version a coordinator published whole (not made by a swap)."""
    value = db.exec_driver_sql(
        "SELECT MAX(id) FROM versions WHERE kind IN ('publish', 'undo')"
    ).scalar()
    return int(value) if value is not None else None


def dropped_swaps(
    store: Store, db: Connection, roster: Roster, base: int | None
) -> list[DroppedSwap]:
    """Return the swaps recorded after ``base`` still in force but missing from ``roster``."""
    latest = store.latest_version(db)
    if latest is None:
        return []
    current = {(d.shift_id, d.doctor_id) for d in store.duties(latest, db)}
    proposed = roster.pairs()
    rows = db.execute(
        text(
            "SELECT version_id, shift_id, from_doctor, to_doctor, reason FROM swaps "
            "WHERE version_id > :base ORDER BY id"
        ),
        {"base": base if base is not None else 0},
    ).all()
    return [
        DroppedSwap(int(v), s, g, t, r)
        for v, s, g, t, r in rows
        if (s, t) in current and (s, t) not in proposed
    ]


def _publish_in(
    store: Store,
    db: Connection,
    scenario: Scenario,
    shifts: Sequence[ShiftInstance],
    roster: Roster,
    *,
    actor: str,
    note: str,
    now: datetime,
    kind: str,
    based_on: int | None,
    also: Callable[[Connection, int], None] | None = None,
) -> Published:
    previous_version = store.latest_version(db)
    previous = store.duties(previous_version, db) if previous_version is not None else []
    history = {
        (d.shift_id, d.doctor_id): (d.start, d.end, d.sequence, d.modified) for d in previous
    }
    versions = duty_versions(shifts, roster, now, history)
    by_id = {s.shift_id: s for s in shifts}
    fingerprint = scenario_hash(scenario)
    calendars = feeds(scenario, shifts, roster, versions)
    old = {(d.shift_id, d.doctor_id): d for d in previous}
    urgent: list[UrgentChange] = []
    counts = {"kept": 0, "changed": 0, "added": 0}
    soon = now + URGENT_WITHIN
    first = previous_version is None
    for a in roster.assignments:
        key = (a.shift_id, a.doctor_id)
        shift = by_id[a.shift_id]
        if key not in old:
            counts["added"] += 0 if first else 1
            change = "new"
        elif versions[key].sequence != old[key].sequence:
            counts["changed"] += 1
            change = "changed"
        else:
            counts["kept"] += 1
            continue
        if not first and now <= shift.end and shift.start <= soon:
            urgent.append(UrgentChange(change, a.shift_id, a.doctor_id, shift.start.isoformat()))
    current = roster.pairs()
    removed = [d for key, d in old.items() if key not in current]
    for duty in removed:
        start = datetime.fromisoformat(duty.start)
        if now <= datetime.fromisoformat(duty.end) and start <= soon:
            urgent.append(UrgentChange("removed", duty.shift_id, duty.doctor_id, duty.start))
    old_etags: dict[str, str] = {}
    if previous_version is not None:
        old_etags = {
            str(name): str(etag)
            for name, etag in db.execute(
                text("SELECT name, etag FROM feeds WHERE version_id = :v"),
                {"v": previous_version},
            ).all()
        }
    version = int(
        db.execute(
            text(
                "INSERT INTO versions (published_at, scenario_hash, note, kind, based_on, actor) "
                "VALUES (:at, :hash, :note, :kind, :base, :actor) RETURNING id"
            ),
            {
                "at": now.isoformat(),
                "hash": fingerprint,
                "note": note,
                "kind": kind,
                "base": based_on,
                "actor": actor,
            },
        ).scalar_one()
    )
    db.execute(
        text(
            "INSERT INTO scenarios (hash, document) VALUES (:h, :d) ON CONFLICT (hash) DO NOTHING"
        ),
        {
            "h": fingerprint,
            "d": json.dumps(scenario.model_dump(by_alias=True, mode="json", exclude_unset=True)),
        },
    )
    if roster.assignments:
        db.execute(
            text(
                "INSERT INTO assignments (version_id, shift_id, doctor_id, uid, sequence, "
                'modified, start, "end") VALUES (:v, :s, :d, :u, :q, :m, :a, :b)'
            ),
            [
                {
                    "v": version,
                    "s": a.shift_id,
                    "d": a.doctor_id,
                    "u": versions[a.shift_id, a.doctor_id].uid,
                    "q": versions[a.shift_id, a.doctor_id].sequence,
                    "m": versions[a.shift_id, a.doctor_id].modified.isoformat(),
                    "a": by_id[a.shift_id].start.isoformat(),
                    "b": by_id[a.shift_id].end.isoformat(),
                }
                for a in roster.assignments
            ],
        )
    after_assignments_written()
    etags = {name: f'"{hashlib.sha256(body).hexdigest()[:32]}"' for name, body in calendars.items()}
    db.execute(
        text("INSERT INTO feeds (version_id, name, body, etag) VALUES (:v, :n, :b, :e)"),
        [{"v": version, "n": n, "b": b, "e": etags[n]} for n, b in calendars.items()],
    )
    if also is not None:
        also(db, version)
    audit(db, actor, kind, f"version {version}: {len(roster.assignments)} duties. {note}".strip())
    return Published(
        version,
        len(roster.assignments),
        counts["kept"],
        counts["changed"],
        counts["added"],
        len(removed),
        tuple(sorted(urgent, key=lambda u: u.start)),
        first,
        tuple(sorted(n for n, e in etags.items() if old_etags.get(n) != e)),
    )


def publish(
    store: Store,
    scenario: Scenario,
    shifts: Sequence[ShiftInstance],
    roster: Roster,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
    based_on: int | None = None,
    force: bool = False,
    kind: str = "publish",
) -> Published:
    """Check the roster, then store it as a new immutable version with its feeds, atomically.

    ``based_on`` is the version the roster was made from (default: the newest version the
    coordinator published whole); swaps recorded after it that the roster would undo are
    refused unless ``force``, and a forced publish names them in the audit log.

    Raises
    ------
    RefusedError
        When the independent checker finds a broken hard rule; nothing is stored.
    DroppedSwapsError
        When the roster would undo swaps (without ``force``); nothing is stored.
    """
    broken = evaluate_roster(scenario, shifts, roster).hard_violations
    if broken:
        audit_alone(store, actor, f"{kind} refused", f"{broken[0].rule}: {broken[0].message}")
        raise RefusedError(broken)
    now = now or now_utc()
    with store.write() as db:
        base = based_on if based_on is not None else _base_version(db)
        dropped = dropped_swaps(store, db, roster, base)
        if dropped and not force:
            raise DroppedSwapsError(dropped, base)
        if dropped:
            undone = ", ".join(f"{d.shift_id} {d.from_doctor}->{d.to_doctor}" for d in dropped)
            audit(db, actor, "forced: swaps undone", f"based on version {base}: {undone}")
        return _publish_in(
            store, db, scenario, shifts, roster,
            actor=actor, note=note, now=now, kind=kind, based_on=base,
        )  # fmt: skip


def swapped(roster: Roster, moves: Sequence[tuple[str, str, str]]) -> Roster:
    """Return the roster with each (shift_id, from_doctor, to_doctor) applied.

    Raises
    ------
    SwapError
        When a giver has no such duty, or giver and taker are the same doctor.
    """
    pairs = [(a.shift_id, a.doctor_id) for a in roster.assignments]
    for shift_id, giver, taker in moves:
        if giver == taker:
            raise SwapError(f"{giver} cannot swap {shift_id} with themself; name a colleague.")
        if (shift_id, giver) not in pairs:
            raise SwapError(f"{giver} has no duty {shift_id} in the published roster.")
        if (shift_id, taker) in pairs:
            raise SwapError(f"{taker} already has {shift_id}.")
        pairs[pairs.index((shift_id, giver))] = (shift_id, taker)
    return Roster(assignments=tuple(Assignment(shift_id=s, doctor_id=d) for s, d in pairs))


def swap_violations(
    scenario: Scenario,
    shifts: Sequence[ShiftInstance],
    current: Roster,
    moves: Sequence[tuple[str, str, str]],
) -> list[Violation]:
    """Return the hard rules a swap would break that the current roster does not."""
    before = {
        (v.rule, v.shift_id, v.doctor_id)
        for v in evaluate_roster(scenario, shifts, current).hard_violations
    }
    return [
        v
        for v in evaluate_roster(scenario, shifts, swapped(current, moves)).hard_violations
        if (v.rule, v.shift_id, v.doctor_id) not in before
    ]


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
    """Check a swap against every hard rule on the latest version; if it keeps them, publish.

    The latest version is read inside the write transaction, so two swaps at once both land.

    Raises
    ------
    SwapRefusedError
        With the hard rules the swapped roster would break (only those the swap causes).
    SwapError
        When the swap cannot be made as asked.
    """
    now = now or now_utc()
    note = f"{kind}: " + ", ".join(f"{s} {g} -> {t}" for s, g, t in moves) + f" ({reason})"
    with store.write() as db:
        latest = store.latest_version(db)
        if latest is None:
            raise SwapError("nothing is published yet; publish a roster first.")
        current = _roster_of(store.duties(latest, db))
        caused = swap_violations(scenario, shifts, current, moves)
        if caused:
            refused = SwapRefusedError(caused)
        else:

            def record(conn: Connection, version: int) -> None:
                conn.execute(
                    text(
                        "INSERT INTO swaps (at, kind, shift_id, from_doctor, to_doctor, actor, "
                        "reason, version_id) VALUES (:at, :k, :s, :g, :t, :a, :r, :v)"
                    ),
                    [
                        {
                            "at": now.isoformat(),
                            "k": kind,
                            "s": s,
                            "g": g,
                            "t": t,
                            "a": actor,
                            "r": reason,
                            "v": version,
                        }
                        for s, g, t in moves
                    ],
                )

            return _publish_in(
                store, db, scenario, shifts, swapped(current, moves),
                actor=actor, note=note, now=now, kind="swap", based_on=latest, also=record,
            )  # fmt: skip
    audit_alone(store, actor, "swap refused", f"{note}: {refused.violations[0].message}")
    raise refused


def undo(
    store: Store,
    scenario: Scenario,
    shifts: Sequence[ShiftInstance],
    version: int,
    *,
    actor: str,
    reason: str,
) -> Published:
    """Publish a new version equal to an older one (the record of every version stays).

    Raises
    ------
    StoreError
        When there is no such version.
    RefusedError
        When that roster breaks a hard rule of today's scenario.
    """
    known = {v.id for v in store.versions()}
    if version not in known:
        raise StoreError(f"there is no version {version}; `wachtplanner versions` lists them.")
    return publish(
        store,
        scenario,
        shifts,
        version_roster(store, version),
        actor=actor,
        note=f"undo: back to version {version} ({reason})",
        based_on=version,
        force=True,
        kind="undo",
    )


def issue_token(store: Store, subject: str, *, actor: str, rotate: bool = False) -> str:
    """Create a feed token for a doctor or a unit; only its hash is stored.

    ``rotate`` revokes the subject's earlier tokens first (old URLs then answer 410 Gone).
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    when = now_utc().isoformat()
    with store.write() as db:
        if rotate:
            db.execute(
                text("UPDATE tokens SET revoked_at = :w WHERE subject = :s AND revoked_at IS NULL"),
                {"w": when, "s": subject},
            )
        db.execute(
            text("INSERT INTO tokens (subject, token_hash, created_at) VALUES (:s, :h, :w)"),
            {"s": subject, "h": token_hash(token), "w": when},
        )
        audit(db, actor, "token rotate" if rotate else "token issue", subject)
    return token


def revoke_tokens(store: Store, subject: str, *, actor: str) -> int:
    """Revoke every live token of a subject; return how many."""
    with store.write() as db:
        result = db.execute(
            text("UPDATE tokens SET revoked_at = :w WHERE subject = :s AND revoked_at IS NULL"),
            {"w": now_utc().isoformat(), "s": subject},
        )
        audit(db, actor, "token revoke", subject)
    return int(result.rowcount)
