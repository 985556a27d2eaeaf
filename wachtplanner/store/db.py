"""The store: versions, assignments with feed identity, swaps, tokens, audit log.

One code path for two databases, through SQLAlchemy Core: an SQLite file by default
(``<scenario>.wachtplanner.db`` next to the scenario, or ``--db PATH``), PostgreSQL where a circle
hosts the app centrally (``--db postgresql://user@host/db``).

**Every write is one transaction that reads and writes.** :meth:`Store.write` opens it with the
write lock taken first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-level advisory
lock), so a writer reads the latest version *inside* the lock: two swaps at once are applied one
after the other, never one over the other. A writer that cannot get the lock within
:data:`LOCK_WAIT_S` gets :class:`StoreBusyError` (a clear message, exit 1 in the CLI) and
nothing is written.

**Schema changes** are numbered migrations, applied inside the same write lock (two processes
opening a new store at once apply them once). A store is only created by a command that writes
(``publish``); every other command needs an existing store (:class:`StoreMissingError`).

Published versions are immutable (triggers refuse updates and deletes); feed tokens are kept as
hashes only.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from wachtplanner.exceptions import StoreError

LOCK_WAIT_S = 30.0
"""How long a writer waits for another writer before giving up."""
_PG_LOCK_KEY = 727_274_001
"""The advisory lock every PostgreSQL write transaction takes (one writer at a time)."""


class StoreMissingError(StoreError):
    """No store at the given place (a mistyped ``--db`` must not create an empty one)."""


class StoreBusyError(StoreError):
    """Another command held the store's write lock for too long."""


metadata = MetaData()

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("published_at", Text, nullable=False),
    Column("scenario_hash", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
)
assignments = Table(
    "assignments",
    metadata,
    Column("version_id", Integer, ForeignKey("versions.id"), primary_key=True),
    Column("shift_id", Text, primary_key=True),
    Column("doctor_id", Text, primary_key=True),
    Column("uid", Text, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("modified", Text, nullable=False),
    Column("start", Text, nullable=False),
    Column("end", Text, nullable=False),
)
feeds = Table(
    "feeds",
    metadata,
    Column("version_id", Integer, ForeignKey("versions.id"), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("etag", Text, nullable=False),
)
swaps = Table(
    "swaps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("shift_id", Text, nullable=False),
    Column("from_doctor", Text, nullable=False),
    Column("to_doctor", Text, nullable=False),
    Column("other_shift_id", Text),
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id")),
)
tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)
audit_log = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("detail", Text, nullable=False),
)

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions "
    "BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END",
    "CREATE TRIGGER assignments_immutable BEFORE UPDATE ON assignments "
    "BEGIN SELECT RAISE(ABORT, 'published assignments are immutable'); END",
    "CREATE TRIGGER assignments_kept BEFORE DELETE ON assignments "
    "BEGIN SELECT RAISE(ABORT, 'published assignments are immutable'); END",
)
_PG_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION wachtplanner_immutable() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'published versions are immutable'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER versions_immutable BEFORE UPDATE OR DELETE ON versions "
    "FOR EACH ROW EXECUTE FUNCTION wachtplanner_immutable()",
    "CREATE TRIGGER assignments_immutable BEFORE UPDATE OR DELETE ON assignments "
    "FOR EACH ROW EXECUTE FUNCTION wachtplanner_immutable()",
)


def _initial_schema(connection: Connection) -> None:
    metadata.create_all(connection, tables=[versions, assignments, feeds, swaps, tokens, audit_log])
    triggers = _SQLITE_TRIGGERS if connection.dialect.name == "sqlite" else _PG_TRIGGERS
    for statement in triggers:
        connection.exec_driver_sql(statement)


def _version_kinds(connection: Connection) -> None:
    """Versions say what made them (publish, swap, undo) and which version they replace."""
    connection.exec_driver_sql(
        "ALTER TABLE versions ADD COLUMN kind TEXT NOT NULL DEFAULT 'publish'"
    )
    connection.exec_driver_sql("ALTER TABLE versions ADD COLUMN based_on INTEGER")
    connection.exec_driver_sql("ALTER TABLE versions ADD COLUMN actor TEXT NOT NULL DEFAULT ''")


def _app_tables(connection: Connection) -> None:
    """Migration 3: token kinds, wishes, swap requests, settings, background jobs."""
    connection.exec_driver_sql("ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'feed'")
    serial = "INTEGER PRIMARY KEY" if connection.dialect.name == "sqlite" else "SERIAL PRIMARY KEY"
    connection.exec_driver_sql(
        f"""CREATE TABLE wishes (
            id {serial},
            doctor_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            deleted_at TEXT
        )"""
    )
    connection.exec_driver_sql(
        f"""CREATE TABLE swap_requests (
            id {serial},
            created_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            shift_id TEXT NOT NULL,
            from_doctor TEXT NOT NULL,
            to_doctor TEXT,
            other_shift_id TEXT,
            reason TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            decided_by TEXT,
            decided_at TEXT,
            version_id INTEGER,
            message TEXT NOT NULL DEFAULT ''
        )"""
    )
    connection.exec_driver_sql("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    connection.exec_driver_sql(
        f"""CREATE TABLE jobs (
            id {serial},
            created_at TEXT NOT NULL,
            status TEXT NOT NULL,
            progress TEXT NOT NULL DEFAULT '',
            scenario TEXT NOT NULL DEFAULT '',
            roster TEXT,
            error TEXT
        )"""
    )


def _scenario_documents(connection: Connection) -> None:
    """Migration 4: the scenario each version was published with, by its hash.

    So the app can show and check a roster of another period than the file it was started with.
    """
    connection.exec_driver_sql(
        "CREATE TABLE scenarios (hash TEXT PRIMARY KEY, document TEXT NOT NULL)"
    )


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _initial_schema,
    _version_kinds,
    _app_tables,
    _scenario_documents,
)
"""Numbered schema changes, in order; ``schema_migrations`` records the last one applied."""


def token_hash(token: str) -> str:
    """Return the stored form of a token (SHA-256, hex)."""
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


@dataclass(frozen=True)
class VersionInfo:
    """One published version: when, what made it, which version it was based on, why."""

    id: int
    published_at: datetime
    kind: str
    based_on: int | None
    actor: str
    note: str
    num_duties: int


def database_url(target: str | Path) -> str:
    """Return the SQLAlchemy URL of a store given as a file path or a database URL."""
    value = str(target)
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).absolute()}"


def describe(target: str | Path) -> str:
    """Return a store's name fit for messages (no password)."""
    value = str(target)
    if "://" in value and "@" in value:
        scheme, rest = value.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return value


class Store:
    """A store, migrated to the current schema on open.

    Parameters
    ----------
    target
        An SQLite file path or a PostgreSQL URL.
    create
        Create the SQLite file if it does not exist (only ``publish`` does).
    """

    def __init__(self, target: str | Path, *, create: bool = False) -> None:
        self.target = target
        url = database_url(target)
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = Path(url.removeprefix("sqlite:///"))
            if not path.exists() and not create:
                raise StoreMissingError(
                    f"{target}: no store here; `wachtplanner publish` creates one with the "
                    "first roster (check the --db path)."
                )
        self.engine: Engine = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool if self.is_sqlite else None,
            connect_args={"timeout": LOCK_WAIT_S} if self.is_sqlite else {},
        )
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            self._migrate()
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreError(f"{describe(target)}: cannot open the store ({exc.orig}).") from None

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Transactions.

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """Run one read-and-write transaction holding the store's write lock."""
        with self.engine.connect() as connection:
            self._begin_locked(connection)
            try:
                yield connection
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Run one read-only transaction (a consistent snapshot)."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.exec_driver_sql("ROLLBACK")

    def _begin_locked(self, connection: Connection) -> None:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                if self.is_sqlite:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    connection.exec_driver_sql("BEGIN")
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                    )
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                    raise StoreBusyError(
                        f"{describe(self.target)}: another command is writing to the store; "
                        f"gave up after {LOCK_WAIT_S:g} s. Try again."
                    ) from None
                time.sleep(0.05)

    def _migrate(self) -> None:
        with self.write() as db:
            db.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL)"
            )
            current = db.exec_driver_sql("SELECT MAX(version) FROM schema_migrations").scalar()
            if current is None:
                current = self._legacy_version(db)
            for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
                migration(db)
                db.execute(
                    text("INSERT INTO schema_migrations (version) VALUES (:n)"), {"n": number}
                )

    def _legacy_version(self, db: Connection) -> int:
        """Stores made before ``schema_migrations`` kept their version in PRAGMA user_version."""
        if not self.is_sqlite:
            return 0
        version = int(db.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        if version:
            db.execute(text("INSERT INTO schema_migrations (version) VALUES (:n)"), {"n": version})
        return version

    # Reads (each in its own snapshot unless a connection is given).

    @contextmanager
    def _conn(self, db: Connection | None) -> Iterator[Connection]:
        if db is not None:
            yield db
            return
        with self.read() as fresh:
            yield fresh

    def scenario_document(self, version: int, db: Connection | None = None) -> str | None:
        """Return the scenario (JSON) a version was published with, when it was kept."""
        with self._conn(db) as conn:
            value = conn.execute(
                text(
                    "SELECT s.document FROM versions v JOIN scenarios s "
                    "ON s.hash = v.scenario_hash WHERE v.id = :v"
                ),
                {"v": version},
            ).scalar()
        return None if value is None else str(value)

    def latest_version(self, db: Connection | None = None) -> int | None:
        """Return the newest published version's number."""
        with self._conn(db) as conn:
            value = conn.exec_driver_sql("SELECT MAX(id) FROM versions").scalar()
        return int(value) if value is not None else None

    def duties(self, version: int, db: Connection | None = None) -> list[StoredDuty]:
        """Return a version's assignments."""
        with self._conn(db) as conn:
            rows = conn.execute(
                text(
                    'SELECT shift_id, doctor_id, uid, sequence, modified, start, "end" '
                    "FROM assignments WHERE version_id = :v ORDER BY start, shift_id, doctor_id"
                ),
                {"v": version},
            ).all()
        return [
            StoredDuty(s, d, u, q, datetime.fromisoformat(m), a, b) for s, d, u, q, m, a, b in rows
        ]

    def feed(self, version: int, name: str) -> tuple[bytes, str] | None:
        """Return a feed's body and ETag in a version."""
        with self.read() as conn:
            row = conn.execute(
                text("SELECT body, etag FROM feeds WHERE version_id = :v AND name = :n"),
                {"v": version, "n": name},
            ).first()
        return (bytes(row[0]), str(row[1])) if row else None

    def published_at(self, version: int) -> datetime:
        """Return when a version was published."""
        with self.read() as conn:
            value = conn.execute(
                text("SELECT published_at FROM versions WHERE id = :v"), {"v": version}
            ).scalar_one()
        return datetime.fromisoformat(str(value))

    def versions(self) -> list[VersionInfo]:
        """Return every published version, oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT v.id, v.published_at, v.kind, v.based_on, v.actor, v.note, "
                    "(SELECT COUNT(*) FROM assignments a WHERE a.version_id = v.id) "
                    "FROM versions v ORDER BY v.id"
                )
            ).all()
        return [
            VersionInfo(int(i), datetime.fromisoformat(p), k, b, a, n, int(c))
            for i, p, k, b, a, n, c in rows
        ]

    def audit_entries(self) -> list[tuple[str, str, str, str]]:
        """Return the audit log: (at, actor, action, detail), oldest first."""
        with self.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT at, actor, action, detail FROM audit ORDER BY id"
            ).all()
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]

    def token_subject(self, token: str) -> tuple[str, bool] | None:
        """Return (subject, revoked) of a token, comparing hashes in constant time."""
        wanted = token_hash(token)
        with self.read() as conn:
            rows = conn.execute(
                text("SELECT subject, token_hash, revoked_at FROM tokens WHERE token_hash = :h"),
                {"h": wanted},
            ).all()
        for subject, stored, revoked in rows:
            if hmac.compare_digest(str(stored), wanted):
                return str(subject), revoked is not None
        return None


def audit(db: Connection, actor: str, action: str, detail: str) -> None:
    """Record who did what, when and why (inside the caller's transaction)."""
    db.execute(
        text("INSERT INTO audit (at, actor, action, detail) VALUES (:at, :actor, :a, :d)"),
        {"at": now_utc().isoformat(), "actor": actor, "a": action, "d": detail},
    )


def audit_alone(store: Store, actor: str, action: str, detail: str) -> None:
    """Record an audit entry in a transaction of its own (e.g. a refusal)."""
    with store.write() as db:
        audit(db, actor, action, detail)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_S * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked" at once
    # instead of waiting on the busy timeout; so wait here (two commands creating one store).
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    cursor.close()
