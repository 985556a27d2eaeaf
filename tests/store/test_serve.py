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
from wachtplanner.serve.app import create_app
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
    store = Store(db, create=True)
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
    serving = Store(db)
    config = uvicorn.Config(
        create_app(serving, scenario),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        time.sleep(0.05)
    yield port, tokens
    instance.should_exit = True
    thread.join(timeout=10)
    serving.close()


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


def _raw(port, request: bytes) -> bytes:
    """Send raw request bytes; return the raw response."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_tokens_never_reach_the_logs_in_any_spelling(server, caplog):
    """The log names the route that matched (or 'unmatched'), never the path: a token is absent
    from it whatever the spelling of the request, the absolute form included."""
    port, tokens = server
    token = tokens["d0"]
    spellings = [
        f"/feeds/{token}.ics",
        f"//feeds/{token}.ics",
        f"/FEEDS/{token}.ics",
        f"/feed/{token}.ics",
        f"/areas/../feeds/{token}.ics",
        f"/feeds/{tokens['d1']}.ics",
    ]
    with caplog.at_level(logging.INFO, logger="wachtplanner.serve"):
        for path in spellings:
            get(port, path)
        absolute = _raw(
            port,
            f"GET http://127.0.0.1:{port}/feeds/{token}.ics HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nConnection: close\r\n\r\n".encode(),
        )
    assert absolute.startswith(b"HTTP/1.1 200"), absolute[:80]
    messages = [r.getMessage() for r in caplog.records]
    assert any(" feed 200 " in m for m in messages)
    assert not any(t in m for m in messages for t in tokens.values())
    assert not any("/feeds" in m or "FEEDS" in m for m in messages)


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


def test_conditional_requests_follow_rfc_9110(server):
    """If-None-Match: a list holding the tag, the weak form of it, and * all give 304; another tag
    gives 200. If-Modified-Since at or after Last-Modified gives 304, before it 200; with both,
    If-None-Match decides."""
    port, tokens = server
    path = f"/feeds/{tokens['d0']}.ics"
    first, _ = get(port, path)
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    for value, status in [
        (f'"nope", {etag}', 304),
        (f"W/{etag}", 304),
        ("*", 304),
        ('"nope"', 200),
    ]:
        assert get(port, path, {"If-None-Match": value})[0].status == status, value
    assert get(port, path, {"If-Modified-Since": modified})[0].status == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert get(port, path, {"If-Modified-Since": earlier})[0].status == 200
    both = {"If-None-Match": '"nope"', "If-Modified-Since": modified}
    assert get(port, path, both)[0].status == 200


def test_head_has_the_headers_of_get_and_no_body(server):
    """HEAD answers with GET's status, type, ETag and Content-Length, and no body."""
    port, tokens = server
    path = f"/feeds/{tokens['d0']}.ics"
    full, body = get(port, path)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("HEAD", path)
    head = connection.getresponse()
    assert head.read() == b""
    connection.close()
    assert head.status == 200
    for name in ("Content-Type", "ETag", "Last-Modified"):
        assert head.getheader(name) == full.getheader(name)
    assert head.getheader("Content-Length") == str(len(body))


def test_other_methods_get_405_with_allow(server):
    """POST to a feed answers 405 and names the allowed methods."""
    port, tokens = server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", f"/feeds/{tokens['d0']}.ics", body=b"x")
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 405
    assert {m.strip() for m in response.getheader("Allow", "").split(",")} >= {"GET", "HEAD"}


def test_security_headers(server):
    """Every response says nosniff and no-referrer; HTML pages carry a strict CSP (no scripts)."""
    port, tokens = server
    feed, _ = get(port, f"/feeds/{tokens['d0']}.ics")
    page, _ = get(port, "/areas/noord")
    missing, _ = get(port, "/nothing")
    for response in (feed, page, missing):
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert response.getheader("Referrer-Policy") == "no-referrer"
    policy = page.getheader("Content-Security-Policy")
    assert "default-src 'none'" in policy
    assert "script-src" not in policy


def test_non_utf8_header_bytes_get_400_and_the_server_lives_on(server):
    """A header with a byte that is not UTF-8 answers 400 (it was a 500 with a traceback)."""
    port, tokens = server
    answer = _raw(
        port,
        b"GET /areas/noord HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400")
    assert get(port, f"/feeds/{tokens['d0']}.ics")[0].status == 200


def test_area_page_for_a_given_date(server):
    """/areas/noord?date=2027-02-08 lists that week's four nights with the doctors' names; a bad
    date answers 400 with a message; an id that merely contains a unit's id is 404."""
    port, _ = server
    page, html = get(port, "/areas/noord?date=2027-02-08")
    assert page.status == 200
    assert html.count(b"<tr") == 5  # a header row and four nights
    assert b"Dr. 0" in html
    bad, text = get(port, "/areas/noord?date=2027-13-45")
    assert bad.status == 400
    assert b"2027-13-45" in text
    assert get(port, "/areas/noor")[0].status == 404
    assert get(port, "/areas/noord?date=2027-02-08&lang=en")[1].count(b"On duty") >= 1
