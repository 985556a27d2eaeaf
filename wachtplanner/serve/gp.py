"""A GP's own page, ``/gp/<token>``: duties, subscription link, leave and wishes, swaps.

The secret link is the credential (at least 128 bits, only its hash stored, revocable, apart
from the feed token). A GP sees their own duties, wishes and reasons, and of colleagues only
what the swap market needs (which duty, who offers it); never a colleague's leave or reasons.
Every proposal is checked by the independent checker before it is shown as possible or
recorded; a swap is published only when the colleague accepted and the coordinator approved (or
``auto_approve`` is set). Every form carries a CSRF token; input is validated as the scenario
validates it, and a refusal names the field and the rule, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from wachtplanner.domain.base import DATE_RANGE
from wachtplanner.serve import csrf
from wachtplanner.serve.i18n import pick_language, translator
from wachtplanner.serve.market import approve_request, next_period, swap_problem
from wachtplanner.serve.state import render, state
from wachtplanner.store.app_data import (
    OPEN_STATES,
    add_swap_request,
    add_wish,
    delete_wish,
    get_setting,
    link_subject,
    set_swap_state,
    swap_request,
    swap_requests,
    wishes,
)
from wachtplanner.store.db import token_hash
from wachtplanner.store.publish import (
    issue_token,
    latest_roster,
)

MAX_REASON = 200


@dataclass(frozen=True)
class GpContext:
    """Who is asking, resolved from the secret link."""

    token: str
    doctor_id: str

    @property
    def subject(self) -> str:
        """Return what the CSRF token of this GP's forms is bound to (the link's hash)."""
        return token_hash(self.token)


def _gp(request: Request) -> GpContext | None:
    token = str(request.path_params["token"])
    subject = link_subject(state(request).store, token, "gp")
    return None if subject is None else GpContext(token, subject)


def _not_found() -> Response:
    return HTMLResponse("<!DOCTYPE html><p>Not found.</p>", status_code=404)


def _page(
    request: Request,
    gp: GpContext,
    *,
    errors: list[str] | None = None,
    status: int = 200,
    notice: str = "",
    feed_url: str = "",
) -> Response:
    app = state(request)
    roster = latest_roster(app.store)
    names = {d.id: d.name for d in app.scenario.doctors}
    now = datetime.now(tz=UTC)
    mine = sorted(
        (app.shifts[a.shift_id] for a in roster.assignments if a.doctor_id == gp.doctor_id),
        key=lambda s: s.start,
    )
    upcoming = [s for s in mine if s.end >= now]
    market = swap_requests(app.store)
    offers = []
    for item in market:
        if item.status != "open" or item.kind != "offer" or item.from_doctor == gp.doctor_id:
            continue
        moves = [(item.shift_id, item.from_doctor, gp.doctor_id)]
        offers.append((item, app.shifts.get(item.shift_id), swap_problem(app, roster, moves)))
    to_me = [
        (item, app.shifts.get(item.shift_id), app.shifts.get(item.other_shift_id or ""))
        for item in market
        if item.status == "open"
        and item.kind in ("request", "swap")
        and item.to_doctor == gp.doctor_id
    ]
    my_requests = [
        (item, app.shifts.get(item.shift_id)) for item in market if item.from_doctor == gp.doctor_id
    ]
    colleagues_duties = sorted(
        (
            (app.shifts[a.shift_id], a.doctor_id)
            for a in roster.assignments
            if a.doctor_id != gp.doctor_id and app.shifts[a.shift_id].end >= now
        ),
        key=lambda pair: pair[0].start,
    )
    first, last = next_period(app)
    return render(
        request,
        "gp.html",
        status_code=status,
        doctor=app.scenario.doctors_by_id[gp.doctor_id],
        token=gp.token,
        csrf=csrf.form_token(app.secret, "gp", gp.subject),
        duties=upcoming,
        unit_names=app.units,
        names=names,
        wishes=wishes(app.store, gp.doctor_id),
        first=first,
        last=last,
        offers=offers,
        to_me=to_me,
        my_requests=my_requests,
        colleagues_duties=colleagues_duties[:200],
        errors=errors or [],
        notice=notice,
        feed_url=feed_url,
    )


async def gp_page(request: Request) -> Response:
    """The GP's page."""
    gp = _gp(request)
    if gp is None:
        return _not_found()
    return _page(request, gp)


async def _form(request: Request, gp: GpContext) -> tuple[dict[str, str], bool]:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    ok = csrf.valid(state(request).secret, "gp", gp.subject, values.get("csrf"))
    return values, ok


def _forbidden(request: Request) -> Response:
    language = pick_language(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    return HTMLResponse(f"<!DOCTYPE html><p>{translator(language)('forbidden')}</p>", 403)


def _back(gp: GpContext) -> Response:
    return RedirectResponse(f"/gp/{gp.token}", status_code=303)


def _t(request: Request) -> Callable[..., str]:
    """Return the translator of the request's language (messages in the page's language)."""
    return translator(
        pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    )


def _parse_day(value: str, field: str, errors: list[str], t: Callable[..., str]) -> date | None:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        errors.append(t("err_not_a_date", field=t(field), value=value[:40]))
        return None
    low, high = DATE_RANGE
    if not low <= day <= high:
        errors.append(t("err_out_of_range", field=t(field), value=day.isoformat()))
        return None
    return day


async def add_wish_view(request: Request) -> Response:
    """Record a wish for the next period, validated as the scenario validates leave."""
    gp = _gp(request)
    if gp is None:
        return _not_found()
    values, ok = await _form(request, gp)
    if not ok:
        return _forbidden(request)
    errors: list[str] = []
    t = _t(request)
    kind = values.get("kind", "")
    if kind not in ("unavailable", "avoid", "prefer"):
        errors.append(t("err_wish_kind", value=kind[:20]))
    start = _parse_day(values.get("from", ""), "from", errors, t)
    end = _parse_day(values.get("to", "") or values.get("from", ""), "to", errors, t)
    reason = values.get("reason", "").strip()
    if len(reason) > MAX_REASON or any(ord(c) < 32 for c in reason):
        errors.append(t("err_reason", limit=MAX_REASON))
    if start and end:
        first, last = next_period(state(request))
        if end < start:
            errors.append(t("err_reversed", end=end.isoformat(), start=start.isoformat()))
        elif start < first or end > last:
            errors.append(
                t(
                    "err_outside",
                    start=start.isoformat(),
                    end=end.isoformat(),
                    first=first.isoformat(),
                    last=last.isoformat(),
                )
            )
    if errors or start is None or end is None:
        return _page(request, gp, errors=errors, status=400)
    add_wish(state(request).store, gp.doctor_id, kind, start, end, reason)
    return _back(gp)


async def delete_wish_view(request: Request) -> Response:
    """Withdraw one of one's own wishes (someone else's is 404)."""
    gp = _gp(request)
    if gp is None:
        return _not_found()
    _, ok = await _form(request, gp)
    if not ok:
        return _forbidden(request)
    if not delete_wish(state(request).store, gp.doctor_id, int(request.path_params["wish_id"])):
        return _not_found()
    return _back(gp)


async def new_feed_link(request: Request) -> Response:
    """Make a new subscription (feed) link for the GP, revoking the earlier ones."""
    gp = _gp(request)
    if gp is None:
        return _not_found()
    _, ok = await _form(request, gp)
    if not ok:
        return _forbidden(request)
    app = state(request)
    token = issue_token(app.store, gp.doctor_id, actor=gp.doctor_id, rotate=True)
    base = str(request.base_url).rstrip("/")
    return _page(request, gp, feed_url=f"{base}/feeds/{token}.ics")


async def propose(request: Request) -> Response:
    """Put a swap on the market: offer my duty, request a colleague's, or propose a trade."""
    gp = _gp(request)
    if gp is None:
        return _not_found()
    values, ok = await _form(request, gp)
    if not ok:
        return _forbidden(request)
    app = state(request)
    roster = latest_roster(app.store)
    pairs = roster.pairs()
    kind = values.get("kind", "")
    shift_id = values.get("shift_id", "")
    reason = values.get("reason", "").strip()[:MAX_REASON]
    t = _t(request)
    errors: list[str] = []
    if kind == "offer":
        if (shift_id, gp.doctor_id) not in pairs:
            errors.append(t("err_not_yours", value=shift_id[:60]))
        else:
            add_swap_request(app.store, "offer", shift_id, gp.doctor_id, None, None, reason)
    elif kind in ("request", "swap"):
        other = values.get("other", "")
        holder = next((d for s, d in sorted(pairs) if s == other and d != gp.doctor_id), None)
        if holder is None:
            errors.append(t("err_no_holder", value=other[:60]))
        elif kind == "swap" and (shift_id, gp.doctor_id) not in pairs:
            errors.append(t("err_not_yours", value=shift_id[:60]))
        else:
            moves = [(other, holder, gp.doctor_id)]
            if kind == "swap":
                moves.append((shift_id, gp.doctor_id, holder))
            problem = swap_problem(app, roster, moves)
            if problem:
                errors.append(problem)
            elif kind == "request":
                add_swap_request(app.store, "request", other, gp.doctor_id, holder, None, reason)
            else:
                add_swap_request(app.store, "swap", shift_id, gp.doctor_id, holder, other, reason)
    else:
        errors.append(t("err_swap_kind", value=kind[:20]))
    if errors:
        return _page(request, gp, errors=errors, status=400)
    return _back(gp)


async def answer(request: Request) -> Response:
    """Take over an offer, accept or decline a proposal to me, or withdraw my own."""
    gp = _gp(request)
    if gp is None:
        return _not_found()
    values, ok = await _form(request, gp)
    if not ok:
        return _forbidden(request)
    app = state(request)
    item = swap_request(app.store, int(request.path_params["request_id"]))
    action = values.get("action", "")
    if item is None:
        return _not_found()
    mine = item.from_doctor == gp.doctor_id
    addressed = item.to_doctor == gp.doctor_id
    offer_for_anyone = item.kind == "offer" and not mine and item.status == "open"
    if action == "withdraw" and mine:
        set_swap_state(app.store, item.id, "withdrawn", actor=gp.doctor_id)
        return _back(gp)
    if action == "decline" and addressed:
        set_swap_state(app.store, item.id, "declined", actor=gp.doctor_id)
        return _back(gp)
    if action != "accept" or not (addressed or offer_for_anyone):
        return _not_found()  # not theirs to answer
    roster = latest_roster(app.store)
    taker = gp.doctor_id if item.kind == "offer" else item.to_doctor
    moves = (
        [(item.shift_id, item.from_doctor, gp.doctor_id)] if item.kind == "offer" else item.moves()
    )
    problem = swap_problem(app, roster, moves)
    if problem:
        return _page(request, gp, errors=[problem], status=400)
    if not set_swap_state(
        app.store, item.id, "accepted", actor=gp.doctor_id, to_doctor=taker, expect=("open",)
    ):
        return _page(request, gp, errors=[_t(request)("err_taken")], status=409)
    if get_setting(app.store, "auto_approve") == "yes":
        approve_request(app, item.id, actor="auto-approve")
    return _back(gp)


ROUTES = [
    Route("/gp/{token}", gp_page, methods=["GET", "HEAD"], name="gp"),
    Route("/gp/{token}/wishes", add_wish_view, methods=["POST"], name="gp_wish"),
    Route(
        "/gp/{token}/wishes/{wish_id:int}/delete",
        delete_wish_view,
        methods=["POST"],
        name="gp_wish_delete",
    ),
    Route("/gp/{token}/feed-link", new_feed_link, methods=["POST"], name="gp_feed_link"),
    Route("/gp/{token}/swaps", propose, methods=["POST"], name="gp_propose"),
    Route("/gp/{token}/swaps/{request_id:int}", answer, methods=["POST"], name="gp_answer"),
]
__all__ = ["OPEN_STATES", "ROUTES"]
