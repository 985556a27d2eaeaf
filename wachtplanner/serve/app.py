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

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from wachtplanner.domain.events import apply_roster_events
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance, expand_shifts
from wachtplanner.serve import coordinator, gp
from wachtplanner.serve.conditional import not_modified
from wachtplanner.serve.i18n import pick_language, translator
from wachtplanner.serve.middleware import Guard
from wachtplanner.serve.state import AppState, render, state, templates
from wachtplanner.store.app_data import app_secret
from wachtplanner.store.db import Store

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
CALENDAR = "text/calendar; charset=utf-8"
DAYS_SHOWN = 7


def _not_found() -> Response:
    return PlainTextResponse("not found\n", status_code=404)


async def feed(request: Request) -> Response:
    """Serve a feed by its secret token."""
    app = state(request)
    token = str(request.path_params["token"])
    if not TOKEN.match(token):
        return _not_found()
    found = app.store.token_subject(token)
    if found is None:
        return _not_found()
    subject, revoked = found
    if revoked:
        return PlainTextResponse("gone\n", status_code=410)
    version = app.store.latest_version()
    stored = app.store.feed(version, f"{subject}.ics") if version is not None else None
    if stored is None or version is None:
        return _not_found()
    body, etag = stored
    modified = app.store.published_at(version)
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
    app = state(request)
    unit_id = str(request.path_params["unit_id"])
    if unit_id not in app.units:
        return _not_found()
    tz = app.scenario.tz
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
    version = app.store.latest_version()
    duties = app.store.duties(version) if version is not None else []
    names = {d.id: d.name for d in app.scenario.doctors}
    now = datetime.now(tz=UTC)
    rows = []
    for duty in duties:
        shift = app.shifts.get(duty.shift_id)
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
        request, "area.html", unit_name=app.units[unit_id], first=first, last=last, rows=rows
    )


def create_app(store: Store, scenario: Scenario, scenario_path: Path | None = None) -> Guard:
    """Return the ASGI app for a store and the circle's scenario.

    Feeds, area pages, the GPs' pages and the coordinator's, in one Starlette app.
    """
    secret = app_secret(store)
    app = Starlette(
        routes=[
            Route("/feeds/{token}.ics", feed, methods=["GET", "HEAD"], name="feed"),
            Route("/areas/{unit_id}", area, methods=["GET", "HEAD"], name="area"),
            *gp.ROUTES,
            *coordinator.ROUTES,
            Mount(
                "/static",
                app=StaticFiles(directory=Path(__file__).parent / "static"),
                name="static",
            ),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie="wachtplanner",
                same_site="strict",
                max_age=8 * 3600,
            )
        ],
    )
    units = {a.id: a.name for a in scenario.areas} | {p.id: p.name for p in scenario.posts}
    scenario = apply_roster_events(scenario)
    app.state.wachtplanner = state_ = AppState(
        store=store,
        scenario=scenario,
        shift_list=tuple(expand_shifts(scenario)),
        templates=templates(),
        units=units,
        secret=secret,
        scenario_path=scenario_path,
    )
    published = published_scenario(store, state_.shifts)
    if published is not None:
        state_.use(published, tuple(expand_shifts(published)))
    return Guard(app)


def published_scenario(store: Store, shifts: dict[str, ShiftInstance]) -> Scenario | None:
    """Return the newest version's own scenario when the given one does not hold its duties.

    The app is started with the circle's scenario file; after the coordinator published the
    next period from the app, the newest roster is of that period, and its scenario (kept with
    the version) is the one to show and check it with.
    """
    version = store.latest_version()
    if version is None or all(d.shift_id in shifts for d in store.duties(version)):
        return None
    document = store.scenario_document(version)
    if document is None:
        return None
    return Scenario.model_validate(json.loads(document))
