"""The coordinator's pages under ``/coordinator/``, behind a login with the coordinator key.

- ``/coordinator/``: who has entered leave and wishes for the next period; the period and
  whether swaps publish without approval.
- ``/coordinator/grid?month=YYYY-MM``: the published roster, date x area/post, a month at once.
- ``/coordinator/fairness``: per doctor points against target per kind of duty, and the
  coordinator's figures (duties in 7 days, streaks, hours per month, total balance, holidays).
- ``/coordinator/swaps``: accepted swaps to approve or reject; approved ones can be undone.
- ``/coordinator/versions``: every version and the audit log; undo to a version.
- ``/coordinator/solve``: the next period's scenario (the circle's plus what GPs entered) solved
  in the background, its progress, its figures, and publish.

The key (``wachtplanner token coordinator``) is only ever typed into the login form, never put
in a URL; a signed session cookie (HttpOnly, SameSite=Strict) holds the login. Every form
carries a CSRF token bound to the session.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
from datetime import date

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from wachtplanner.domain.roster import Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.exceptions import ScenarioError
from wachtplanner.expand import expand_shifts
from wachtplanner.export.grid import grid_frame
from wachtplanner.serve import csrf
from wachtplanner.serve.market import approve_request, next_period, swap_problem
from wachtplanner.serve.state import AppState, render, state
from wachtplanner.solver import SolverParams, solve
from wachtplanner.stats.quality import roster_quality
from wachtplanner.store.app_data import (
    add_job,
    get_setting,
    job,
    link_subject,
    set_setting,
    set_swap_state,
    swap_request,
    swap_requests,
    update_job,
    wishes,
)
from wachtplanner.store.collect import collected_document
from wachtplanner.store.publish import (
    RefusedError,
    latest_roster,
    publish,
    record_swap,
    undo,
)

SESSION_KEY = "coordinator"


def _logged_in(request: Request) -> bool:
    return bool(request.session.get(SESSION_KEY))


def _csrf(request: Request) -> str:
    sid = request.session.setdefault("sid", secrets.token_hex(16))
    return csrf.form_token(state(request).secret, "coordinator", str(sid))


async def _checked_form(request: Request) -> dict[str, str] | None:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    sid = str(request.session.get("sid", ""))
    if not sid or not csrf.valid(state(request).secret, "coordinator", sid, values.get("csrf")):
        return None
    return values


def _forbidden() -> Response:
    return HTMLResponse("<!DOCTYPE html><p>Forbidden.</p>", status_code=403)


def _login_redirect() -> Response:
    return RedirectResponse("/coordinator/login", status_code=303)


def _page(request: Request, name: str, status: int = 200, **context: object) -> Response:
    return render(request, name, status_code=status, csrf=_csrf(request), **context)


async def login(request: Request) -> Response:
    """Log in with the coordinator key (typed into the form, never in a URL)."""
    if request.method == "GET":
        return _page(request, "coordinator_login.html", error="")
    values = await _checked_form(request)
    if values is None:
        return _forbidden()
    if link_subject(state(request).store, values.get("token", ""), "coordinator") is None:
        return _page(request, "coordinator_login.html", status=403, error="forbidden")
    request.session[SESSION_KEY] = True
    return RedirectResponse("/coordinator/", status_code=303)


async def logout(request: Request) -> Response:
    """Log out."""
    if await _checked_form(request) is None:
        return _forbidden()
    request.session.clear()
    return _login_redirect()


async def overview(request: Request) -> Response:
    """Collection status and settings."""
    if not _logged_in(request):
        return _login_redirect()
    app = state(request)
    entered: dict[str, int] = {}
    for wish in wishes(app.store):
        entered[wish.doctor_id] = entered.get(wish.doctor_id, 0) + 1
    first, last = next_period(app)
    doctors = sorted(app.scenario.doctors, key=lambda d: (app.scenario.area_of(d), d.name))
    return _page(
        request,
        "coordinator_overview.html",
        doctors=doctors,
        entered=entered,
        first=first,
        last=last,
        auto_approve=get_setting(app.store, "auto_approve") == "yes",
        pending=sum(1 for r in swap_requests(app.store) if r.status == "accepted"),
        areas=app.units,
        area_of=app.scenario.area_of,
    )


async def settings(request: Request) -> Response:
    """Save the next period and the approval setting."""
    if not _logged_in(request):
        return _login_redirect()
    values = await _checked_form(request)
    if values is None:
        return _forbidden()
    app = state(request)
    try:
        first = date.fromisoformat(values.get("next_start", ""))
        last = date.fromisoformat(values.get("next_end", ""))
    except ValueError:
        return HTMLResponse("<!DOCTYPE html><p>next_start/next_end: expected YYYY-MM-DD.</p>", 400)
    if last < first:
        return HTMLResponse("<!DOCTYPE html><p>next_end is before next_start.</p>", 400)
    set_setting(app.store, "next_start", first.isoformat(), actor="coordinator")
    set_setting(app.store, "next_end", last.isoformat(), actor="coordinator")
    approve = "yes" if values.get("auto_approve") == "yes" else "no"
    set_setting(app.store, "auto_approve", approve, actor="coordinator")
    return RedirectResponse("/coordinator/", status_code=303)


async def grid(request: Request) -> Response:
    """The published roster as a date x unit grid: one month, or one ISO week (?week=)."""
    if not _logged_in(request):
        return _login_redirect()
    app = state(request)
    roster = latest_roster(app.store)
    frame = grid_frame(app.scenario, app.shift_list, roster)
    date_column = frame.columns[0]
    months = sorted({f"{d:%Y-%m}" for d in frame[date_column]})
    weeks = sorted({_week(d) for d in frame[date_column]})
    week = request.query_params.get("week") or ""
    if week in weeks:
        part = frame[frame[date_column].map(_week) == week]
        title, month = week, ""
    else:
        month = request.query_params.get("month") or f"{app.scenario.horizon.start:%Y-%m}"
        part = frame[frame[date_column].map(lambda d: f"{d:%Y-%m}") == month]
        title, week = month, ""
    return _page(
        request,
        "coordinator_grid.html",
        title=title,
        month=month,
        months=months,
        week=week,
        weeks=weeks,
        columns=list(frame.columns),
        rows=[list(r) for r in part.itertuples(index=False)],
    )


def _week(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


async def fairness(request: Request) -> Response:
    """Per doctor points against target per kind of duty, and the coordinator's figures."""
    if not _logged_in(request):
        return _login_redirect()
    app = state(request)
    roster = latest_roster(app.store)
    evaluation = evaluate_roster(app.scenario, app.shift_list, roster)
    quality = roster_quality(app.shift_list, roster, evaluation)
    names = {d.id: d.name for d in app.scenario.doctors}
    rows = sorted(evaluation.fairness, key=lambda r: (r.tag, r.deviation))
    return _page(
        request, "coordinator_fairness.html", rows=rows, names=names, quality=quality.as_dict()
    )


async def swaps(request: Request) -> Response:
    """Swaps: accepted ones to approve, the history."""
    if not _logged_in(request):
        return _login_redirect()
    app = state(request)
    names = {d.id: d.name for d in app.scenario.doctors}
    return _page(
        request,
        "coordinator_swaps.html",
        requests=swap_requests(app.store),
        names=names,
        shifts=app.shifts,
        message=request.query_params.get("message", ""),
    )


async def decide(request: Request) -> Response:
    """Approve, reject or undo a swap."""
    if not _logged_in(request):
        return _login_redirect()
    values = await _checked_form(request)
    if values is None:
        return _forbidden()
    app = state(request)
    request_id = int(request.path_params["request_id"])
    action = values.get("action", "")
    message = ""
    if action == "approve":
        message = approve_request(app, request_id, actor="coordinator") or ""
    elif action == "reject":
        set_swap_state(
            app.store, request_id, "rejected", actor="coordinator", expect=("open", "accepted")
        )
    elif action == "undo":
        item = swap_request(app.store, request_id)
        if item is not None and item.status == "approved":
            back = [(s, taker, giver) for s, giver, taker in item.moves()]
            problem = swap_problem(app, latest_roster(app.store), back)
            if problem is None:
                record_swap(
                    app.store,
                    app.scenario,
                    app.shift_list,
                    back,
                    kind="undo",
                    actor="coordinator",
                    reason=f"undo of swap request {item.id}",
                )
                set_swap_state(
                    app.store, item.id, "undone", actor="coordinator", expect=("approved",)
                )
            else:
                message = problem
    suffix = f"?message={message[:200]}" if message else ""
    return RedirectResponse(f"/coordinator/swaps{suffix}", status_code=303)


async def versions(request: Request) -> Response:
    """Every version and the audit log."""
    if not _logged_in(request):
        return _login_redirect()
    app = state(request)
    return _page(
        request,
        "coordinator_versions.html",
        versions=list(reversed(app.store.versions())),
        audit=list(reversed(app.store.audit_entries()))[:500],
    )


async def undo_version(request: Request) -> Response:
    """Publish a new version equal to an older one."""
    if not _logged_in(request):
        return _login_redirect()
    values = await _checked_form(request)
    if values is None:
        return _forbidden()
    app = state(request)
    try:
        undo(
            app.store,
            app.scenario,
            app.shift_list,
            int(request.path_params["version"]),
            actor="coordinator",
            reason=values.get("reason", "") or "undo from the web app",
        )
    except RefusedError as refused:
        return HTMLResponse(f"<!DOCTYPE html><p>{html.escape(str(refused))}</p>", status_code=409)
    return RedirectResponse("/coordinator/versions", status_code=303)


def _solve_job(app: AppState, job_id: int, scenario: Scenario, time_limit_s: float) -> None:
    def progress(stage: str, objective: int, bound: int, elapsed_s: float) -> None:
        update_job(app.store, job_id, progress=f"{elapsed_s:.0f} s: {stage} {objective} ({bound})")

    try:
        result = solve(scenario, SolverParams(time_limit_s=time_limit_s), progress=progress)
        pairs = [[a.shift_id, a.doctor_id] for a in result.roster.assignments]
        update_job(
            app.store, job_id, status="done", progress=str(result.status), roster=json.dumps(pairs)
        )
    except Exception as exc:  # a failed solve is shown on the page, never a crash
        update_job(app.store, job_id, status="failed", error=f"{type(exc).__name__}: {exc}")


async def solve_start(request: Request) -> Response:
    """Solve the next period's scenario in the background."""
    if not _logged_in(request):
        return _login_redirect()
    values = await _checked_form(request)
    if values is None:
        return _forbidden()
    app = state(request)
    first, last = next_period(app)
    try:
        document = collected_document(app.scenario, wishes(app.store), start=first, end=last)
        scenario = Scenario.model_validate(document)
    except ScenarioError as refused:
        problems = "".join(
            f"<li>{html.escape(i.location)}: {html.escape(i.message)}</li>" for i in refused.issues
        )
        return HTMLResponse(f"<!DOCTYPE html><ul>{problems}</ul>", status_code=400)
    job_id = add_job(app.store, yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    limit = float(values.get("time_limit", "30") or 30)
    thread = threading.Thread(
        target=_solve_job, args=(app, job_id, scenario, max(1.0, min(limit, 600.0))), daemon=True
    )
    app.jobs[job_id] = thread
    thread.start()
    return RedirectResponse(f"/coordinator/jobs/{job_id}", status_code=303)


async def job_page(request: Request) -> Response:
    """A background solve: progress (the page refreshes itself), then the figures to review."""
    if not _logged_in(request):
        return _login_redirect()
    app = state(request)
    job_id = int(request.path_params["job_id"])
    found = job(app.store, job_id)
    if found is None:
        return HTMLResponse("<!DOCTYPE html><p>Not found.</p>", status_code=404)
    quality = None
    if found["status"] == "done" and found["roster"]:
        scenario = Scenario.model_validate(yaml.safe_load(found["scenario"] or "{}"))
        shifts = expand_shifts(scenario)
        roster = Roster.model_validate(
            {
                "assignments": [
                    {"shift_id": s, "doctor_id": d} for s, d in json.loads(found["roster"])
                ]
            }
        )
        quality = roster_quality(shifts, roster, evaluate_roster(scenario, shifts, roster))
    return _page(
        request,
        "coordinator_job.html",
        job_id=job_id,
        job=found,
        quality=None if quality is None else quality.as_dict(),
        refresh=found["status"] == "running",
    )


async def job_publish(request: Request) -> Response:
    """Publish a finished solve as a new version."""
    if not _logged_in(request):
        return _login_redirect()
    values = await _checked_form(request)
    if values is None:
        return _forbidden()
    app = state(request)
    found = job(app.store, int(request.path_params["job_id"]))
    if found is None or found["status"] != "done" or not found["roster"]:
        return HTMLResponse("<!DOCTYPE html><p>Nothing to publish.</p>", status_code=409)
    scenario = Scenario.model_validate(yaml.safe_load(found["scenario"] or "{}"))
    shifts = expand_shifts(scenario)
    roster = Roster.model_validate(
        {"assignments": [{"shift_id": s, "doctor_id": d} for s, d in json.loads(found["roster"])]}
    )
    try:
        publish(
            app.store,
            scenario,
            shifts,
            roster,
            actor="coordinator",
            note=f"solved in the app (job {request.path_params['job_id']})",
            force=True,
        )
    except RefusedError as refused:
        return HTMLResponse(f"<!DOCTYPE html><p>{html.escape(str(refused))}</p>", status_code=409)
    app.use(scenario, tuple(shifts))
    return RedirectResponse("/coordinator/versions", status_code=303)


ROUTES = [
    Route("/coordinator/login", login, methods=["GET", "POST"], name="coordinator_login"),
    Route("/coordinator/logout", logout, methods=["POST"], name="coordinator_logout"),
    Route("/coordinator/", overview, methods=["GET", "HEAD"], name="coordinator"),
    Route("/coordinator/settings", settings, methods=["POST"], name="coordinator_settings"),
    Route("/coordinator/grid", grid, methods=["GET", "HEAD"], name="coordinator_grid"),
    Route("/coordinator/fairness", fairness, methods=["GET", "HEAD"], name="coordinator_fairness"),
    Route("/coordinator/swaps", swaps, methods=["GET", "HEAD"], name="coordinator_swaps"),
    Route(
        "/coordinator/swaps/{request_id:int}", decide, methods=["POST"], name="coordinator_decide"
    ),
    Route("/coordinator/versions", versions, methods=["GET", "HEAD"], name="coordinator_versions"),
    Route(
        "/coordinator/versions/{version:int}/undo",
        undo_version,
        methods=["POST"],
        name="coordinator_undo",
    ),
    Route("/coordinator/solve", solve_start, methods=["POST"], name="coordinator_solve"),
    Route(
        "/coordinator/jobs/{job_id:int}", job_page, methods=["GET", "HEAD"], name="coordinator_job"
    ),
    Route(
        "/coordinator/jobs/{job_id:int}/publish",
        job_publish,
        methods=["POST"],
        name="coordinator_job_publish",
    ),
]
__all__ = ["ROUTES"]
