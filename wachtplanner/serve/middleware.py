"""ASGI middleware: request targets, header checks, security headers, a log without paths.

* **Absolute-form targets** (``GET http://host/feeds/T.ics``, RFC 9112 §3.2.2) are reduced to
  their path, so they are routed like any other request (a valid token answers 200).
* **Header bytes** that are not UTF-8 get 400 at once (they used to end in a 500 per request).
* **Security headers** on every response: ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: no-referrer`` (secret links must never leave in a Referer); HTML pages
  also get a strict ``Content-Security-Policy`` (no scripts, styles from this site only, forms
  post here only, no framing).
* **Access log**: method, the *name* of the route that matched (``feed``, ``area``, …) or
  ``unmatched``, status and duration. Never the raw path or query, which may hold a token in
  any spelling (``//feeds/T``, ``/FEEDS/T``, ``/areas/../feeds/T``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOG = logging.getLogger("wachtplanner.serve")
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class Guard:
    """The outermost middleware: normalise, check, log, add security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = str(scope.get("path", ""))
        if "://" in path:
            # Absolute form: keep only the path after the authority.
            after = path.split("://", 1)[1]
            scope["path"] = "/" + after.split("/", 1)[1] if "/" in after else "/"
            scope["raw_path"] = scope["path"].encode()
        status = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                content_type = dict(headers).get(b"content-type", b"")
                if (
                    content_type.startswith(b"text/html")
                    and b"content-security-policy" not in names
                ):
                    headers.append((b"content-security-policy", CSP.encode()))
                message["headers"] = headers
            await send(message)

        if not _headers_are_utf8(scope):
            await _plain(send_with_headers, 400, b"bad request: header bytes are not UTF-8\n")
        else:
            await self.app(scope, receive, send_with_headers)
        endpoint = scope.get("endpoint")
        route = getattr(endpoint, "__name__", None) or "unmatched"
        LOG.info(
            "%s %s %d %.1f ms",
            scope.get("method", "?"),
            route,
            status["code"],
            (time.perf_counter() - started) * 1000,
        )


def _headers_are_utf8(scope: Scope) -> bool:
    try:
        for name, value in scope.get("headers", []):
            name.decode("utf-8")
            value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
