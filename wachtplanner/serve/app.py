"""The web app (Starlette + Jinja2), served by uvicorn through ``wachtplanner serve``.

- ``GET /feeds/<token>.ics``: the newest published feed of the token's doctor, area or post;
  ``text/calendar; charset=utf-8``, ``ETag`` and ``Last-Modified``, conditional requests per
  RFC 9110 (``If-None-Match`` with a list, weak tags or ``*``; ``If-Modified-Since``) → 304,
  ``HEAD`` with the same headers as ``GET``. Unknown token → 404, revoked → 410. Tokens are
  looked up by hash and compared in constant time.
- ``GET /areas/<id>[?date=YYYY-MM-DD]``: who is on duty in an area or post from that date (today
  by default) for 7 days. Ids are matched exactly against the scenario's units.
- ``/static/app.css``: the one stylesheet. Anything else → 404 (405 with ``Allow`` for a known
  path and another method); there is no listing.

What is logged and which headers every response carries: ``serve.middleware``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance, expand_shifts
from wachtplanner.serve.conditional import not_modified
from wachtplanner.serve.i18n import pick_language, translator
from wachtplanner.serve.middleware import Guard
from wachtplanner.store.db import Store

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
CALENDAR = "text/calendar; charset=utf-8"
DAYS_SHOWN = 7


@dataclass
class AppState:
    """What every request handler reads: the store, the scenario and its shifts."""

    store: Store
    scenario: Scenario
    shifts: dict[str, ShiftInstance]
    templates: Environment
    units: dict[str, str]


def templates() -> Environment:
    """Return the Jinja2 environment of the app's templates (autoescaped)."""
    return Environment(
        loader=PackageLoader("wachtplanner.serve", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.wachtplanner
    return state


def _not_found() -> Response:
    return PlainTextResponse("not found\n", status_code=404)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a template in the request's language."""
    language = pick_language(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    template = _state(request).templates.get_template(name)
    body = template.render(lang=language, t=translator(language), **context)
    return HTMLResponse(body, status_code=status_code)


async def feed(request: Request) -> Response:
    """Serve a feed by its secret token."""
    state = _state(request)
    token = str(request.path_params["token"])
    if not TOKEN.match(token):
        return _not_found()
    found = state.store.token_subject(token)
    if found is None:
        return _not_found()
    subject, revoked = found
    if revoked:
        return PlainTextResponse("gone\n", status_code=410)
    version = state.store.latest_version()
    stored = state.store.feed(version, f"{subject}.ics") if version is not None else None
    if stored is None or version is None:
        return _not_found()
    body, etag = stored
    modified = state.store.published_at(version)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
        "Cache-Control": "private, max-age=300",
    }
    if not_modified(
        request.headers.get("if-none-match"),
        request.headers.get("if-modified-since"),
        etag,
        modified,
    ):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=CALENDAR, headers=headers)


async def area(request: Request) -> Response:
    """Who is on duty in an area or post from a date, for 7 days."""
    state = _state(request)
    unit_id = str(request.path_params["unit_id"])
    if unit_id not in state.units:
        return _not_found()
    tz = state.scenario.tz
    raw = request.query_params.get("date")
    language = pick_language(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    try:
        first = date.fromisoformat(raw) if raw else datetime.now(tz=tz).date()
    except ValueError:
        message = translator(language)("bad_date", value=raw[:40] if raw else "")
        return PlainTextResponse(message + "\n", status_code=400)
    last = first + timedelta(days=DAYS_SHOWN - 1)
    window_start = datetime.combine(first, time(0), tzinfo=tz)
    window_end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    version = state.store.latest_version()
    duties = state.store.duties(version) if version is not None else []
    names = {d.id: d.name for d in state.scenario.doctors}
    now = datetime.now(tz=UTC)
    rows = []
    for duty in duties:
        shift = state.shifts.get(duty.shift_id)
        if shift is None or shift.scope_id != unit_id:
            continue
        if shift.end <= window_start or shift.start >= window_end:
            continue
        rows.append(
            {
                "start": f"{shift.start.astimezone(tz):%a %d/%m %H:%M}",
                "end": f"{shift.end.astimezone(tz):%a %d/%m %H:%M}",
                "label": shift.label,
                "doctor": names.get(duty.doctor_id, duty.doctor_id),
                "now": shift.start <= now < shift.end,
                "sort": shift.start,
            }
        )
    rows.sort(key=lambda row: (row["sort"], row["label"], row["doctor"]))
    return render(
        request, "area.html", unit_name=state.units[unit_id], first=first, last=last, rows=rows
    )


def create_app(store: Store, scenario: Scenario) -> Guard:
    """Return the ASGI app serving a store's feeds and pages for a scenario."""
    app = Starlette(
        routes=[
            Route("/feeds/{token}.ics", feed, methods=["GET", "HEAD"], name="feed"),
            Route("/areas/{unit_id}", area, methods=["GET", "HEAD"], name="area"),
            Mount(
                "/static",
                app=StaticFiles(directory=Path(__file__).parent / "static"),
                name="static",
            ),
        ],
    )
    units = {a.id: a.name for a in scenario.areas} | {p.id: p.name for p in scenario.posts}
    app.state.wachtplanner = AppState(
        store=store,
        scenario=scenario,
        shifts={s.shift_id: s for s in expand_shifts(scenario)},
        templates=templates(),
        units=units,
    )
    return Guard(app)
