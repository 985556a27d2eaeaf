"""The swap market's shared steps: the next period, whether a swap is possible, approval."""

from __future__ import annotations

from datetime import date

from wachtplanner.domain.roster import Roster
from wachtplanner.serve.state import AppState
from wachtplanner.store import app_data
from wachtplanner.store.app_data import set_swap_state, swap_request
from wachtplanner.store.publish import (
    SwapError,
    SwapRefusedError,
    record_swap,
    swap_violations,
)


def next_period(app: AppState) -> tuple[date, date]:
    """Return the next roster period (settings, else the scenario's horizon)."""
    return app_data.next_period(app.store, (app.scenario.horizon.start, app.scenario.horizon.end))


def swap_problem(app: AppState, roster: Roster, moves: list[tuple[str, str, str]]) -> str | None:
    """Return why a swap is not possible (the rule and the checker's message), or None."""
    try:
        broken = swap_violations(app.scenario, app.shift_list, roster, moves)
    except SwapError as wrong:
        return str(wrong)
    if broken:
        return f"{broken[0].rule}: {broken[0].message}"
    return None


def approve_request(app: AppState, request_id: int, *, actor: str) -> str | None:
    """Publish an accepted swap (checked once more on the newest version); return why not."""
    item = swap_request(app.store, request_id)
    if item is None or item.status != "accepted" or item.to_doctor is None:
        return "not an accepted swap."
    try:
        published = record_swap(
            app.store, app.scenario, app.shift_list, item.moves(),
            kind=item.kind, actor=actor, reason=item.reason or f"swap request {item.id}",
        )  # fmt: skip
    except (SwapRefusedError, SwapError) as refused:
        message = str(refused)
        set_swap_state(app.store, item.id, "rejected", actor=actor, message=message,
                       expect=("accepted",))  # fmt: skip
        return message
    set_swap_state(app.store, item.id, "approved", actor=actor, version_id=published.version,
                   expect=("accepted",))  # fmt: skip
    return None
