"""The feed server over loopback: feeds, ETag/304, 404/410, rotation, no listing, no tokens in
logs, the area page, and a bounded load test."""

import http.client
import logging
import socket
import threading
import time
from datetime import UTC, datetime

import icalendar
import pytest
import uvicorn

from benchmarks.load import run_load
from tests.store.test_store import roster_of, tiny
from wachtplanner.expand import expand_shifts
from wachtplanner.serve.app import FeedApp
from wachtplanner.store.db import Store
from wachtplanner.store.publish import issue_token, publish, revoke_tokens


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A published tiny roster, tokens for d0, d1 (then revoked) and the area, and uvicorn
    serving them on a free loopback port."""
    db = tmp_path_factory.mktemp("serve") / "store.db"
    scenario = tiny()
    store = Store(db)
    publish(
        store,
        scenario,
        expand_shifts(scenario),
        roster_of("d0", "d1", "d0", "d1"),
        actor="test",
        now=datetime(2027, 1, 20, tzinfo=UTC),
    )
    tokens = {
        "d0": issue_token(store, "d0", actor="test"),
        "d1": issue_token(store, "d1", actor="test"),
        "noord": issue_token(store, "noord", actor="test"),
    }
    revoke_tokens(store, "d1", actor="test")
    old_d0 = tokens["d0"]
    tokens["d0"] = issue_token(store, "d0", actor="test", rotate=True)
    tokens["old-d0"] = old_d0
    store.close()
    port = _free_port()
    config = uvicorn.Config(
        FeedApp(db, scenario), host="127.0.0.1", port=port, access_log=False, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        time.sleep(0.05)
    yield port, tokens
    instance.should_exit = True
    thread.join(timeout=10)


def get(port, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_doctor_feed_is_served_and_parses(server):
    """The doctor's feed: text/calendar, ETag, Last-Modified, and the doctor's two duties."""
    port, tokens = server
    response, body = get(port, f"/feeds/{tokens['d0']}.ics")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/calendar; charset=utf-8"
    assert response.getheader("ETag")
    assert response.getheader("Last-Modified")
    events = list(icalendar.Calendar.from_ical(body).walk("VEVENT"))
    assert len(events) == 2


def test_if_none_match_gives_304(server):
    """A client that has the current version gets 304 with no body."""
    port, tokens = server
    first, _ = get(port, f"/feeds/{tokens['d0']}.ics")
    again, body = get(
        port, f"/feeds/{tokens['d0']}.ics", {"If-None-Match": first.getheader("ETag")}
    )
    assert again.status == 304
    assert body == b""


def test_area_feed_and_page(server):
    """The area token serves who is on duty; /areas/noord is a read-only HTML page."""
    port, tokens = server
    response, body = get(port, f"/feeds/{tokens['noord']}.ics")
    assert response.status == 200
    assert len(list(icalendar.Calendar.from_ical(body).walk("VEVENT"))) == 4
    page, html = get(port, "/areas/noord")
    assert page.status == 200
    assert b"Van wacht" in html


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/" + "A" * 43 + ".ics", 404),
        ("/feeds/", 404),
        ("/feeds", 404),
        ("/", 404),
        ("/feeds/../../etc/passwd", 404),
        ("/feeds/%2e%2e%2fstore.db", 404),
        ("/areas/unknown", 404),
    ],
)
def test_unknown_paths_and_traversal_are_404(server, path, status):
    """Unknown tokens, listings and traversal attempts all answer 404."""
    port, _ = server
    response, _ = get(port, path)
    assert response.status == status


def test_revoked_and_rotated_tokens_are_gone(server):
    """A revoked token and the token replaced by a rotation answer 410."""
    port, tokens = server
    assert get(port, f"/feeds/{tokens['d1']}.ics")[0].status == 410
    assert get(port, f"/feeds/{tokens['old-d0']}.ics")[0].status == 410


def test_tokens_never_reach_the_logs(server, caplog):
    """Requests are logged without their token."""
    port, tokens = server
    with caplog.at_level(logging.INFO, logger="wachtplanner.serve"):
        get(port, f"/feeds/{tokens['d0']}.ics")
        get(port, f"/feeds/{tokens['d1']}.ics")
    assert any("/feeds/" in r.getMessage() for r in caplog.records)
    assert not any(t in r.getMessage() for r in caplog.records for t in tokens.values())


def test_tokens_are_at_least_128_bits(server):
    """Tokens are random URL-safe strings of 256 bits (43 characters)."""
    _, tokens = server
    assert all(len(t) >= 22 for t in tokens.values())
    assert len(set(tokens.values())) == len(tokens)


def test_concurrent_clients_get_no_errors(server):
    """A smoke version of the load benchmark: 1 000 requests from 20 concurrent keep-alive
    clients on 127.0.0.1, not one error. The 20 000-request run with its latency percentiles is
    ``python -m benchmarks.load`` (results in benchmarks/README.md); nothing is timed here."""
    port, tokens = server
    result = run_load("127.0.0.1", port, f"/feeds/{tokens['d0']}.ics", 1_000, 20)
    assert result.errors == 0
    assert result.requests == 1_000
