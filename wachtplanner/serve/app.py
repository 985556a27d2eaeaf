"""The feed server: a small ASGI app, run by uvicorn.

- ``GET /feeds/<token>.ics``: the newest published feed of the token's doctor, area or post;
  ``text/calendar; charset=utf-8``, ``ETag`` + ``If-None-Match`` → 304, ``Last-Modified``,
  a short ``Cache-Control``. Unknown token → 404, revoked → 410. Tokens are looked up by hash
  and compared in constant time.
- ``GET /areas/<id>``: a read-only page of who is on duty today and this week in an area or post.
- Anything else → 404; there is no listing.

Nothing here logs a path: the request log (our own) shows ``/feeds/…`` without the token, and
uvicorn's access log is switched off by ``serve``.
"""

from __future__ import annotations

import html
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from wachtplanner.domain.scenario import Scenario
from wachtplanner.store.db import Store

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LOG = logging.getLogger("wachtplanner.serve")
FEED_PATH = re.compile(r"^/feeds/([A-Za-z0-9_-]{16,128})\.ics$")
AREA_PATH = re.compile(r"^/areas/([a-z0-9][a-z0-9-]*)$")


class FeedApp:
    """ASGI application serving feeds from the store."""

    def __init__(self, db_path: Path, scenario: Scenario) -> None:
        self.db_path = db_path
        self.scenario = scenario
        self.names = {d.id: d.name for d in scenario.doctors}
        self.units = {a.id: a.name for a in scenario.areas} | {p.id: p.name for p in scenario.posts}
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        """Return the store, opened on first use (in the server's thread)."""
        if self._store is None:
            self._store = Store(self.db_path)
        return self._store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        if scope.get("method") not in ("GET", "HEAD"):
            await self._send(send, 405, b"method not allowed\n", "text/plain; charset=utf-8")
            return
        try:
            status, body, content_type, extra = self._route(path, headers)
        except sqlite3.Error:
            LOG.exception("store error")
            status, body, content_type, extra = 503, b"try again\n", "text/plain", {}
        LOG.info("%s %s", status, _redacted(path))
        if scope.get("method") == "HEAD":
            body = b""
        await self._send(send, status, body, content_type, extra)

    def _route(self, path: str, headers: dict[str, str]) -> tuple[int, bytes, str, dict[str, str]]:
        feed = FEED_PATH.match(path)
        if feed:
            return self._feed(feed[1], headers)
        area = AREA_PATH.match(path)
        if area and area[1] in self.units:
            return 200, self._area_page(area[1]), "text/html; charset=utf-8", {}
        return 404, b"not found\n", "text/plain; charset=utf-8", {}

    def _feed(self, token: str, headers: dict[str, str]) -> tuple[int, bytes, str, dict[str, str]]:
        found = self.store.token_subject(token)
        if found is None:
            return 404, b"not found\n", "text/plain; charset=utf-8", {}
        subject, revoked = found
        if revoked:
            return 410, b"gone\n", "text/plain; charset=utf-8", {}
        version = self.store.latest_version()
        stored = self.store.feed(version, f"{subject}.ics") if version is not None else None
        if stored is None or version is None:
            return 404, b"not found\n", "text/plain; charset=utf-8", {}
        body, etag = stored
        extra = {
            "etag": etag,
            "last-modified": format_datetime(self.store.published_at(version), usegmt=True),
            "cache-control": "private, max-age=300",
        }
        if headers.get("if-none-match") == etag:
            return 304, b"", "text/calendar; charset=utf-8", extra
        return 200, body, "text/calendar; charset=utf-8", extra

    def _area_page(self, unit_id: str) -> bytes:
        version = self.store.latest_version()
        duties = self.store.duties(version) if version is not None else []
        now = datetime.now(tz=UTC)
        week_end = now + timedelta(days=7)
        rows = []
        for duty in duties:
            start, end = datetime.fromisoformat(duty.start), datetime.fromisoformat(duty.end)
            if f"/{unit_id}/" not in f"/{duty.shift_id}/" or end < now or start > week_end:
                continue
            marker = " (nu)" if start <= now <= end else ""
            rows.append(
                f"<tr><td>{start.astimezone(self.scenario.tz):%a %d/%m %H:%M}</td>"
                f"<td>{end.astimezone(self.scenario.tz):%a %d/%m %H:%M}</td>"
                f"<td>{html.escape(duty.shift_id.split('/')[0])}</td>"
                f"<td>{html.escape(self.names.get(duty.doctor_id, duty.doctor_id))}{marker}"
                "</td></tr>"
            )
        title = html.escape(self.units[unit_id])
        table = "".join(rows) or '<tr><td colspan="4">Geen diensten deze week.</td></tr>'
        return (
            f'<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>{title}</title>'
            f"</head><body><h1>Van wacht – {title}</h1><p>Vandaag en de komende 7 dagen.</p>"
            f"<table><tr><th>Begin</th><th>Einde</th><th>Dienst</th><th>Arts</th></tr>{table}"
            f"</table></body></html>"
        ).encode()

    @staticmethod
    async def _send(
        send: Send,
        status: int,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
        headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _redacted(path: str) -> str:
    """Return a path fit for logs: feed tokens replaced."""
    return "/feeds/…" if path.startswith("/feeds/") else path[:80]
