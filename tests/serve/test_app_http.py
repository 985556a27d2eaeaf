"""The web app's rules over HTTP: who may see and change what, CSRF on every form, located
messages for bad input, auto-approval, undo, and solving the next period in the background."""

from __future__ import annotations

import logging
import re
import time

import pytest
from starlette.testclient import TestClient

from tests.serve.site import CSRF, Site, make_site, night
from wachtplanner.serve.app import create_app
from wachtplanner.store.app_data import issue_link, wishes
from wachtplanner.store.db import Store
from wachtplanner.store.publish import latest_roster


@pytest.fixture
def site(tmp_path) -> Site:
    return make_site(tmp_path)


@pytest.fixture
def client(site):
    store = Store(site.db)
    app = create_app(store, site.scenario, site.scenario_path)
    with TestClient(app, headers={"Accept-Language": "en"}) as http:  # messages in English
        yield http
    store.close()


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def _login(client: TestClient, site: Site) -> None:
    token = _csrf(client, "/coordinator/login")
    answer = client.post(
        "/coordinator/login",
        data={"csrf": token, "token": site.coordinator_key},
        follow_redirects=False,
    )
    assert answer.status_code == 303


def _set_period(client: TestClient, site: Site, *, auto_approve: bool = False) -> None:
    _login(client, site)
    data = {"csrf": _csrf(client, "/coordinator/"), "next_start": "2027-03-01"}
    data["next_end"] = "2027-03-31"
    if auto_approve:
        data["auto_approve"] = "yes"
    assert (
        client.post("/coordinator/settings", data=data, follow_redirects=False).status_code == 303
    )


def _wish(client: TestClient, site: Site, doctor: str, **fields: str):
    path = f"/gp/{site.gp[doctor]}"
    data = {"csrf": _csrf(client, path), "kind": "unavailable", **fields}
    return client.post(f"{path}/wishes", data=data, follow_redirects=False)


def test_a_gp_never_sees_or_changes_a_colleagues_data(client, site):
    """d0's leave reason is on d0's page only; d1 cannot delete d0's wish (404) nor answer a
    proposal addressed to someone else (404); an unknown or revoked link is 404."""
    _set_period(client, site)
    assert (
        _wish(client, site, "d0", **{"from": "2027-03-01", "reason": "Zwanger"}).status_code == 303
    )
    assert "Zwanger" in client.get(f"/gp/{site.gp['d0']}").text
    for other in ("d1", "d2", "d3"):
        assert "Zwanger" not in client.get(f"/gp/{site.gp[other]}").text
    (wish,) = wishes(Store(site.db))
    d1 = f"/gp/{site.gp['d1']}"
    token = _csrf(client, d1)
    gone = client.post(f"{d1}/wishes/{wish.id}/delete", data={"csrf": token})
    assert gone.status_code == 404
    assert "Zwanger" in client.get(f"/gp/{site.gp['d0']}").text  # still there
    # d0 asks d3 for a trade; d1 tries to accept it.
    d0 = f"/gp/{site.gp['d0']}"
    proposal = {"csrf": _csrf(client, d0), "kind": "swap", "shift_id": night("2027-02-08")}
    proposal["other"] = night("2027-02-16")
    assert client.post(f"{d0}/swaps", data=proposal, follow_redirects=False).status_code == 303
    page = client.get(f"/gp/{site.gp['d3']}").text
    request_id = re.search(r"/swaps/(\d+)", page.split("to-me")[1]).group(1)  # type: ignore[union-attr]
    stolen = client.post(f"{d1}/swaps/{request_id}", data={"csrf": token, "action": "accept"})
    assert stolen.status_code == 404
    assert client.get("/gp/" + "x" * 43).status_code == 404
    with Store(site.db) as store:
        fresh = issue_link(store, "d1", "gp", actor="test", rotate=True)
    assert client.get(d1).status_code == 404  # the old link was revoked by the rotation
    assert client.get(f"/gp/{fresh}").status_code == 200


def test_every_form_needs_its_own_csrf_token(client, site):
    """No token, a forged one or another GP's: 403 and nothing stored; the coordinator's forms
    likewise."""
    d0, d1 = f"/gp/{site.gp['d0']}", f"/gp/{site.gp['d1']}"
    other = _csrf(client, d1)
    for token in (None, "x" * 40, other):
        data = {"kind": "unavailable", "from": "2027-02-10"}
        if token:
            data["csrf"] = token
        assert client.post(f"{d0}/wishes", data=data).status_code == 403
        offer = {
            "kind": "offer",
            "shift_id": night("2027-02-08"),
            **({"csrf": token} if token else {}),
        }
        assert client.post(f"{d0}/swaps", data=offer).status_code == 403
        assert client.post(f"{d0}/feed-link", data=data).status_code == 403
    assert wishes(Store(site.db)) == []
    no_login = client.post("/coordinator/login", data={"token": site.coordinator_key})
    assert no_login.status_code == 403
    _login(client, site)
    for path in ("/coordinator/settings", "/coordinator/solve", "/coordinator/logout"):
        assert client.post(path, data={"csrf": "forged"}).status_code == 403, path


def test_bad_input_gets_located_messages(client, site):
    """Every refusal names the field and the bad value, on the page (400), never a traceback."""
    _set_period(client, site)
    cases = [
        ({"from": "2027-13-01"}, "From: '2027-13-01' is not a date; expected YYYY-MM-DD."),
        ({"from": "2027-03-09", "to": "2027-03-02"}, "to: 2027-03-02 is before from 2027-03-09."),
        ({"from": "2027-05-01"}, "outside the next period 2027-03-01..2027-03-31"),
        ({"from": "2027-03-01", "reason": "a" * 201}, "reason: expected one line of at most 200"),
        ({"from": "2027-03-01", "kind": "holiday"}, "kind: 'holiday' is not allowed"),
    ]
    for fields, message in cases:
        answer = _wish(client, site, "d0", **fields)
        assert answer.status_code == 400, fields
        assert message in answer.text.replace("&#39;", "'"), answer.text
        assert "Traceback" not in answer.text
    d0 = f"/gp/{site.gp['d0']}"
    answer = client.post(
        f"{d0}/swaps", data={"csrf": _csrf(client, d0), "kind": "offer", "shift_id": "nope"}
    )
    assert answer.status_code == 400
    assert "shift_id: you have no duty nope." in answer.text


def test_auto_approve_publishes_at_once_and_the_coordinator_can_undo(client, site):
    """With auto-approval a taken-over offer is published when the colleague accepts; the
    coordinator's undo gives the duty back in a new version."""
    _set_period(client, site, auto_approve=True)
    d0, d2 = f"/gp/{site.gp['d0']}", f"/gp/{site.gp['d2']}"
    offer = {"csrf": _csrf(client, d0), "kind": "offer", "shift_id": night("2027-02-08")}
    assert client.post(f"{d0}/swaps", data=offer, follow_redirects=False).status_code == 303
    page = client.get(d2).text
    request_id = re.search(r'/swaps/(\d+)"', page.split('class="offer"')[1]).group(1)  # type: ignore[union-attr]
    data = {"csrf": _csrf(client, d2), "action": "accept"}
    assert (
        client.post(f"{d2}/swaps/{request_id}", data=data, follow_redirects=False).status_code
        == 303
    )
    with Store(site.db) as store:
        assert (night("2027-02-08"), "d2") in latest_roster(store).pairs()
        assert store.latest_version() == 2
    _login(client, site)
    undo = {"csrf": _csrf(client, "/coordinator/swaps"), "action": "undo"}
    assert (
        client.post(
            f"/coordinator/swaps/{request_id}", data=undo, follow_redirects=False
        ).status_code
        == 303
    )
    with Store(site.db) as store:
        assert (night("2027-02-08"), "d0") in latest_roster(store).pairs()
        assert store.latest_version() == 3


def test_coordinator_solves_the_next_period_in_the_background_and_publishes(client, site):
    """Solve from the collected input: the job page shows progress, then the figures; publishing
    makes March the app's roster (d0's leave honoured)."""
    _set_period(client, site)
    assert (
        _wish(client, site, "d0", **{"from": "2027-03-01", "to": "2027-03-12"}).status_code == 303
    )
    data = {"csrf": _csrf(client, "/coordinator/"), "time_limit": "3"}
    started = client.post("/coordinator/solve", data=data, follow_redirects=False)
    assert started.status_code == 303
    job_path = started.headers["location"]
    for _ in range(200):
        page = client.get(job_path).text
        if 'http-equiv="refresh"' not in page:
            break
        time.sleep(0.1)
    assert "Most duties in 7 days" in page, page  # the client asks for English
    publish = {"csrf": _csrf(client, job_path)}
    done = client.post(f"{job_path}/publish", data=publish, follow_redirects=False)
    assert done.status_code == 303
    with Store(site.db) as store:
        march = latest_roster(store)
    assert march.assignments
    assert all("2027-03" in a.shift_id for a in march.assignments)
    away = {night(f"2027-03-{day:02d}") for day in range(1, 13)}
    assert not any(a.shift_id in away and a.doctor_id == "d0" for a in march.assignments)
    assert "2027-03" in client.get(f"/gp/{site.gp['d0']}").text  # the app shows March now


def test_secret_links_stay_out_of_logs_and_referrers(client, site, caplog):
    """The page link is the credential: never logged, never sent on as a referrer."""
    with caplog.at_level(logging.INFO):
        page = client.get(f"/gp/{site.gp['d0']}")
        client.get(f"/feeds/{site.feed['d0']}.ics")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in page.text
    # What the server logged (the test client itself logs the URLs it requests).
    logged = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "GET gp_page 200" in logged
    assert site.gp["d0"] not in logged
    assert site.feed["d0"] not in logged


def test_the_grid_by_month_and_by_week(client, site):
    """The coordinator's grid shows a month, or one ISO week: 2027-W06 is Mon 8 to Sun 14
    February, so the 15th (week 7) is not in it."""
    _login(client, site)
    month = client.get("/coordinator/grid?month=2027-02").text
    assert "2027-02-08" in month
    assert "2027-02-18" in month
    week = client.get("/coordinator/grid?week=2027-W06").text
    assert "2027-02-08" in week
    assert "2027-02-14" in week
    assert "2027-02-15" not in week
