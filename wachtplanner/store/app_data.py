"""What GPs and the coordinator enter through the web app, kept in the store.

Wishes, swap requests, settings, personal links and background solves; every write is one
locked transaction (``Store.write``).

- **Personal links**: a GP's page token (``/gp/<token>``) and the coordinator's login token are
  kept as hashes only, like feed tokens, in the same table with their ``kind``; each is
  revocable and separate from the feed token.
- **Wishes** for the next roster period: ``unavailable`` (a range, with a private reason only
  the GP and the coordinator see), ``avoid`` (a date) and ``prefer`` (a weekend the GP would
  rather work). ``wachtplanner collect`` folds them into the next period's scenario.
- **Swap requests**: ``offer`` (a duty for anyone), ``request`` (a colleague's duty), ``swap``
  (two duties traded). A colleague accepts, the coordinator approves (or ``auto_approve``), and
  the swap is then published as a new version by ``store.publish.record_swap``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text

from wachtplanner.store.db import Store, audit, now_utc, token_hash

TOKEN_BYTES = 32
WISH_KINDS = ("unavailable", "avoid", "prefer")
SWAP_KINDS = ("offer", "request", "swap")
OPEN_STATES = ("open", "accepted")


@dataclass(frozen=True)
class Wish:
    """One wish of a GP for the next period."""

    id: int
    doctor_id: str
    kind: str
    start: date
    end: date
    reason: str


@dataclass(frozen=True)
class SwapRequest:
    """A swap on the market, with where it stands."""

    id: int
    created_at: datetime
    kind: str
    shift_id: str
    from_doctor: str
    to_doctor: str | None
    other_shift_id: str | None
    reason: str
    status: str
    version_id: int | None
    message: str

    def moves(self) -> list[tuple[str, str, str]]:
        """Return the (shift, giver, taker) moves the swap makes."""
        assert self.to_doctor is not None
        if self.kind == "request":
            return [(self.shift_id, self.to_doctor, self.from_doctor)]
        moves = [(self.shift_id, self.from_doctor, self.to_doctor)]
        if self.kind == "swap" and self.other_shift_id:
            moves.append((self.other_shift_id, self.to_doctor, self.from_doctor))
        return moves


# Personal links.


def issue_link(store: Store, subject: str, kind: str, *, actor: str, rotate: bool = True) -> str:
    """Create a personal page (``gp``) or coordinator (``coordinator``) token; hash stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    when = now_utc().isoformat()
    with store.write() as db:
        if rotate:
            db.execute(
                text(
                    "UPDATE tokens SET revoked_at = :w WHERE subject = :s AND kind = :k "
                    "AND revoked_at IS NULL"
                ),
                {"w": when, "s": subject, "k": kind},
            )
        db.execute(
            text(
                "INSERT INTO tokens (subject, token_hash, created_at, kind) VALUES (:s, :h, :w, :k)"
            ),
            {"s": subject, "h": token_hash(token), "w": when, "k": kind},
        )
        audit(db, actor, f"{kind} link issued", subject)
    return token


def link_subject(store: Store, token: str, kind: str) -> str | None:
    """Return the subject of a live token of this kind (None when unknown or revoked)."""
    with store.read() as db:
        row = db.execute(
            text(
                "SELECT subject FROM tokens WHERE token_hash = :h AND kind = :k "
                "AND revoked_at IS NULL"
            ),
            {"h": token_hash(token), "k": kind},
        ).first()
    return None if row is None else str(row[0])


def revoke_links(store: Store, subject: str, kind: str, *, actor: str) -> int:
    """Revoke a subject's live tokens of a kind; return how many."""
    with store.write() as db:
        result = db.execute(
            text(
                "UPDATE tokens SET revoked_at = :w WHERE subject = :s AND kind = :k "
                "AND revoked_at IS NULL"
            ),
            {"w": now_utc().isoformat(), "s": subject, "k": kind},
        )
        audit(db, actor, f"{kind} link revoked", subject)
    return int(result.rowcount)


# Settings.


def get_setting(store: Store, key: str, default: str = "") -> str:
    """Return a setting (``next_start``, ``next_end``, ``auto_approve``, ``secret``)."""
    with store.read() as db:
        value = db.execute(text("SELECT value FROM settings WHERE key = :k"), {"k": key}).scalar()
    return default if value is None else str(value)


def set_setting(store: Store, key: str, value: str, *, actor: str) -> None:
    """Set a setting (audited, except the app secret)."""
    with store.write() as db:
        db.execute(text("DELETE FROM settings WHERE key = :k"), {"k": key})
        db.execute(
            text("INSERT INTO settings (key, value) VALUES (:k, :v)"), {"k": key, "v": value}
        )
        if key != "secret":
            audit(db, actor, "setting", f"{key} = {value}")


def next_period(store: Store, default: tuple[date, date]) -> tuple[date, date]:
    """Return the next roster period the coordinator set (settings), else ``default``."""
    start = get_setting(store, "next_start")
    end = get_setting(store, "next_end")
    if start and end:
        return date.fromisoformat(start), date.fromisoformat(end)
    return default


def app_secret(store: Store) -> str:
    """Return the app's signing secret (made once, kept in the store)."""
    with store.write() as db:
        value = db.execute(text("SELECT value FROM settings WHERE key = 'secret'")).scalar()
        if value is None:
            value = secrets.token_urlsafe(32)
            db.execute(
                text("INSERT INTO settings (key, value) VALUES ('secret', :v)"), {"v": value}
            )
    return str(value)


# Wishes.


def add_wish(store: Store, doctor_id: str, kind: str, start: date, end: date, reason: str) -> int:
    """Record a wish; return its id."""
    with store.write() as db:
        wish_id = db.execute(
            text(
                'INSERT INTO wishes (doctor_id, kind, start, "end", reason, created_at) '
                "VALUES (:d, :k, :s, :e, :r, :at) RETURNING id"
            ),
            {
                "d": doctor_id,
                "k": kind,
                "s": start.isoformat(),
                "e": end.isoformat(),
                "r": reason,
                "at": now_utc().isoformat(),
            },
        ).scalar_one()
        audit(db, doctor_id, f"wish {kind}", f"{start.isoformat()}..{end.isoformat()}")
    return int(wish_id)


def delete_wish(store: Store, doctor_id: str, wish_id: int) -> bool:
    """Withdraw one of a doctor's own wishes; False when it is not theirs (or gone)."""
    with store.write() as db:
        result = db.execute(
            text(
                "UPDATE wishes SET deleted_at = :w WHERE id = :i AND doctor_id = :d "
                "AND deleted_at IS NULL"
            ),
            {"w": now_utc().isoformat(), "i": wish_id, "d": doctor_id},
        )
        if result.rowcount:
            audit(db, doctor_id, "wish withdrawn", str(wish_id))
    return bool(result.rowcount)


def wishes(store: Store, doctor_id: str | None = None) -> list[Wish]:
    """Return the live wishes, of one doctor or of all."""
    query = 'SELECT id, doctor_id, kind, start, "end", reason FROM wishes WHERE deleted_at IS NULL'
    params: dict[str, str] = {}
    if doctor_id is not None:
        query += " AND doctor_id = :d"
        params["d"] = doctor_id
    with store.read() as db:
        rows = db.execute(text(query + " ORDER BY start, id"), params).all()
    return [
        Wish(int(i), str(d), str(k), date.fromisoformat(s), date.fromisoformat(e), str(r))
        for i, d, k, s, e, r in rows
    ]


# Swap requests.

_SWAP_COLUMNS = (
    "id, created_at, kind, shift_id, from_doctor, to_doctor, other_shift_id, reason, status, "
    "version_id, message"
)


def _swap(row: tuple[object, ...]) -> SwapRequest:
    i, at, kind, shift, giver, taker, other, reason, status, version, message = row
    return SwapRequest(
        int(i),  # type: ignore[call-overload]
        datetime.fromisoformat(str(at)),
        str(kind),
        str(shift),
        str(giver),
        None if taker is None else str(taker),
        None if other is None else str(other),
        str(reason),
        str(status),
        None if version is None else int(version),  # type: ignore[call-overload]
        str(message),
    )


def add_swap_request(
    store: Store,
    kind: str,
    shift_id: str,
    from_doctor: str,
    to_doctor: str | None,
    other_shift_id: str | None,
    reason: str,
) -> int:
    """Put a swap on the market; return its id."""
    with store.write() as db:
        request_id = db.execute(
            text(
                "INSERT INTO swap_requests (created_at, kind, shift_id, from_doctor, to_doctor, "
                "other_shift_id, reason, status) VALUES (:at, :k, :s, :g, :t, :o, :r, 'open') "
                "RETURNING id"
            ),
            {
                "at": now_utc().isoformat(),
                "k": kind,
                "s": shift_id,
                "g": from_doctor,
                "t": to_doctor,
                "o": other_shift_id,
                "r": reason,
            },
        ).scalar_one()
        audit(db, from_doctor, f"swap {kind} proposed", f"{shift_id} ({reason})")
    return int(request_id)


def swap_request(store: Store, request_id: int) -> SwapRequest | None:
    """Return one swap request."""
    with store.read() as db:
        row = db.execute(
            text(f"SELECT {_SWAP_COLUMNS} FROM swap_requests WHERE id = :i"), {"i": request_id}
        ).first()
    return None if row is None else _swap(tuple(row))


def swap_requests(store: Store, *, states: tuple[str, ...] | None = None) -> list[SwapRequest]:
    """Return swap requests, newest first (all, or those in ``states``)."""
    with store.read() as db:
        rows = db.execute(text(f"SELECT {_SWAP_COLUMNS} FROM swap_requests ORDER BY id DESC")).all()
    found = [_swap(tuple(r)) for r in rows]
    return [r for r in found if states is None or r.status in states]


def set_swap_state(
    store: Store,
    request_id: int,
    status: str,
    *,
    actor: str,
    to_doctor: str | None = None,
    version_id: int | None = None,
    message: str = "",
    expect: tuple[str, ...] = OPEN_STATES,
) -> bool:
    """Move a request to ``status`` if it is still in ``expect``; False when someone was first."""
    with store.write() as db:
        current = db.execute(
            text("SELECT status FROM swap_requests WHERE id = :i"), {"i": request_id}
        ).scalar()
        if current not in expect:
            return False
        db.execute(
            text(
                "UPDATE swap_requests SET status = :st, decided_by = :a, decided_at = :at, "
                "to_doctor = COALESCE(:t, to_doctor), version_id = COALESCE(:v, version_id), "
                "message = :m WHERE id = :i"
            ),
            {
                "st": status,
                "a": actor,
                "at": now_utc().isoformat(),
                "t": to_doctor,
                "v": version_id,
                "m": message,
                "i": request_id,
            },
        )
        audit(db, actor, f"swap {status}", f"request {request_id}. {message}".strip())
    return True


# Background solves.


def add_job(store: Store, scenario_yaml: str) -> int:
    """Record a background solve of a scenario; return its id."""
    with store.write() as db:
        job_id = db.execute(
            text(
                "INSERT INTO jobs (created_at, status, scenario) VALUES (:at, 'running', :s) "
                "RETURNING id"
            ),
            {"at": now_utc().isoformat(), "s": scenario_yaml},
        ).scalar_one()
    return int(job_id)


def update_job(
    store: Store,
    job_id: int,
    *,
    status: str | None = None,
    progress: str | None = None,
    roster: str | None = None,
    error: str | None = None,
) -> None:
    """Record a job's progress or outcome."""
    with store.write() as db:
        db.execute(
            text(
                "UPDATE jobs SET status = COALESCE(:st, status), progress = COALESCE(:p, progress),"
                " roster = COALESCE(:r, roster), error = COALESCE(:e, error) WHERE id = :i"
            ),
            {"st": status, "p": progress, "r": roster, "e": error, "i": job_id},
        )


def job(store: Store, job_id: int) -> dict[str, str | None] | None:
    """Return a job's status, progress, roster (JSON) and error."""
    with store.read() as db:
        row = db.execute(
            text("SELECT status, progress, roster, error, scenario FROM jobs WHERE id = :i"),
            {"i": job_id},
        ).first()
    if row is None:
        return None
    status, progress, roster, error, scenario = row
    return {
        "status": status,
        "progress": progress,
        "roster": roster,
        "error": error,
        "scenario": scenario,
    }
