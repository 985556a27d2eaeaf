"""The SQLite store: versions, assignments with feed identity, swaps, tokens, audit log.

Feed tokens are kept as hashes only.

One file (``<scenario>.wachtplanner.db`` next to the scenario, or ``--db PATH``). Schema changes
are numbered migrations applied in order and recorded in ``PRAGMA user_version``. Every publish
is one transaction: a process killed half-way leaves the previous version as it was and no
half version visible. Published versions are immutable (triggers refuse updates and deletes).
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        published_at TEXT NOT NULL,
        scenario_hash TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE assignments (
        version_id INTEGER NOT NULL REFERENCES versions(id),
        shift_id TEXT NOT NULL,
        doctor_id TEXT NOT NULL,
        uid TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        modified TEXT NOT NULL,
        start TEXT NOT NULL,
        "end" TEXT NOT NULL,
        PRIMARY KEY (version_id, shift_id, doctor_id)
    );
    CREATE TABLE feeds (
        version_id INTEGER NOT NULL REFERENCES versions(id),
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        etag TEXT NOT NULL,
        PRIMARY KEY (version_id, name)
    );
    CREATE TABLE swaps (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        shift_id TEXT NOT NULL,
        from_doctor TEXT NOT NULL,
        to_doctor TEXT NOT NULL,
        other_shift_id TEXT,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        version_id INTEGER REFERENCES versions(id)
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
        BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
    CREATE TRIGGER assignments_immutable BEFORE UPDATE ON assignments
        BEGIN SELECT RAISE(ABORT, 'published assignments are immutable'); END;
    CREATE TRIGGER assignments_kept BEFORE DELETE ON assignments
        BEGIN SELECT RAISE(ABORT, 'published assignments are immutable'); END;
    """,
)


def token_hash(token: str) -> str:
    """Return the stored form of a feed token (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def now_utc() -> datetime:
    """Return the current time, to the second."""
    return datetime.now(tz=UTC).replace(microsecond=0)


@dataclass(frozen=True)
class StoredDuty:
    """An assignment as published."""

    shift_id: str
    doctor_id: str
    uid: str
    sequence: int
    modified: datetime
    start: str
    end: str


class Store:
    """A connection to the store file, migrated to the current schema on open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _migrate(self) -> None:
        current = self.connection.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.transaction():
                for statement in _statements(script):
                    self.connection.execute(statement)
                self.connection.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically: all of them or none."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def audit(self, actor: str, action: str, detail: str) -> None:
        """Record who did what, when and why."""
        self.connection.execute(
            "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)",
            (now_utc().isoformat(), actor, action, detail),
        )

    def latest_version(self) -> int | None:
        """Return the newest published version's number."""
        row = self.connection.execute("SELECT MAX(id) FROM versions").fetchone()
        return int(row[0]) if row[0] is not None else None

    def duties(self, version: int) -> list[StoredDuty]:
        """Return a version's assignments."""
        rows = self.connection.execute(
            'SELECT shift_id, doctor_id, uid, sequence, modified, start, "end" FROM assignments '
            "WHERE version_id = ? ORDER BY start, shift_id, doctor_id",
            (version,),
        ).fetchall()
        return [
            StoredDuty(s, d, u, q, datetime.fromisoformat(m), a, b) for s, d, u, q, m, a, b in rows
        ]

    def feed(self, version: int, name: str) -> tuple[bytes, str] | None:
        """Return a feed's body and ETag in a version."""
        row = self.connection.execute(
            "SELECT body, etag FROM feeds WHERE version_id = ? AND name = ?", (version, name)
        ).fetchone()
        return (bytes(row[0]), str(row[1])) if row else None

    def published_at(self, version: int) -> datetime:
        """Return when a version was published."""
        row = self.connection.execute(
            "SELECT published_at FROM versions WHERE id = ?", (version,)
        ).fetchone()
        return datetime.fromisoformat(row[0])

    def token_subject(self, token: str) -> tuple[str, bool] | None:
        """Return (subject, revoked) of a token, comparing hashes in constant time."""
        wanted = token_hash(token)
        for subject, stored, revoked in self.connection.execute(
            "SELECT subject, token_hash, revoked_at FROM tokens WHERE token_hash = ?", (wanted,)
        ):
            if hmac.compare_digest(stored, wanted):
                return str(subject), revoked is not None
        return None


def _statements(script: str) -> list[str]:
    """Split a migration into statements (triggers keep their inner semicolons)."""
    statements, buffer = [], ""
    for line in script.strip().splitlines():
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    return statements
