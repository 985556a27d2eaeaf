"""The same store code on a real PostgreSQL server, started by the test in a temporary folder.

Runs where Debian's ``postgresql`` package (or any ``initdb``/``pg_ctl``) is installed and is
skipped with the reason otherwise. As root, the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.serve.site import CSRF, make_site, night
from tests.store.test_published import MON, THU, _swap_in_child, _together
from tests.store.test_store import roster_of, tiny
from wachtplanner.expand import expand_shifts
from wachtplanner.serve.app import create_app
from wachtplanner.store.app_data import issue_link
from wachtplanner.store.db import Store
from wachtplanner.store.publish import issue_token, latest_roster, publish, record_swap

PUBLISHED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SWAPPED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free loopback port; its URL."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); SQLite only")
    folder = Path(tempfile.mkdtemp(prefix="wachtplanner-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(initdb, "-D", str(data), "-U", "wachtplanner", "--auth=trust")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    try:
        yield f"postgresql://wachtplanner@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], check=False,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fresh(postgres_url: str) -> str:
    """An empty database of its own for one test (the cluster goes at the module's end)."""
    name = f"t{time.monotonic_ns()}"
    with Store(postgres_url) as admin, admin.engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


def test_publish_swap_and_feeds_match_sqlite(fresh, tmp_path):
    """The same publish and swap on PostgreSQL and SQLite give the same versions, the same
    duties and byte-identical feeds."""
    scenario = tiny(min_rest_hours=11)
    shifts = expand_shifts(scenario)
    results = []
    for target in (fresh, str(tmp_path / "s.db")):
        with Store(target, create=True) as store:
            # One clock for both stores: the feeds carry the time a duty last changed, and
            # two publishes a second apart would differ there alone.
            publish(store, scenario, shifts, roster_of("d0", "d1", "d0", "d1"), actor="t",
                    now=PUBLISHED)  # fmt: skip
            record_swap(store, scenario, shifts, [(MON, "d0", "d3")], kind="give-away",
                        actor="d0", reason="x", now=SWAPPED)  # fmt: skip
            version = store.latest_version()
            assert version == 2
            feed = store.feed(version, "d3.ics")
            assert feed is not None
            results.append((latest_roster(store).pairs(), feed[0]))
    assert results[0] == results[1]


def test_two_concurrent_swaps_both_survive_on_postgres(fresh):
    """Two processes swap at the same moment, 5 times: the advisory lock serialises them."""
    scenario = tiny(min_rest_hours=11)
    for run in range(5):
        with Store(fresh, create=True) as store:
            publish(store, scenario, expand_shifts(scenario), roster_of("d0", "d1", "d0", "d1"),
                    actor="t", force=True)  # fmt: skip
            base = store.latest_version()
        swaps = [(fresh, MON, "d0", "d3"), (fresh, THU, "d1", "d3")]
        assert _together(_swap_in_child, *swaps) == [0, 0], run
        with Store(fresh) as store:
            assert store.latest_version() == (base or 0) + 2
            assert {(MON, "d3"), (THU, "d3")} <= latest_roster(store).pairs()


def test_the_app_on_postgres(fresh, tmp_path):
    """The web app over PostgreSQL: a GP offers, a colleague takes over, the coordinator
    approves, the feed of the taker changes."""
    site = make_site(tmp_path)
    with Store(fresh, create=True) as store:
        sqlite = Store(site.db)
        publish(store, site.scenario, expand_shifts(site.scenario), latest_roster(sqlite),
                actor="t")  # fmt: skip
        sqlite.close()
        gp = {d: issue_link(store, d, "gp", actor="t") for d in ("d0", "d2")}
        feed = issue_token(store, "d2", actor="t")
        key = issue_link(store, "coordinator", "coordinator", actor="t")
    store = Store(fresh)
    with TestClient(create_app(store, site.scenario)) as http:
        before = http.get(f"/feeds/{feed}.ics").headers["etag"]

        def token(path: str) -> str:
            found = CSRF.search(http.get(path).text)
            assert found is not None
            return found.group(1)

        d0, d2 = f"/gp/{gp['d0']}", f"/gp/{gp['d2']}"
        data = {"csrf": token(d0), "kind": "offer", "shift_id": night("2027-02-08")}
        assert http.post(f"{d0}/swaps", data=data, follow_redirects=False).status_code == 303
        page = http.get(d2).text
        request_id = page.split('class="offer"')[1].split("/swaps/")[1].split('"')[0]
        data = {"csrf": token(d2), "action": "accept"}
        assert http.post(f"{d2}/swaps/{request_id}", data=data).status_code == 200
        login = {"csrf": token("/coordinator/login"), "token": key}
        assert http.post("/coordinator/login", data=login).status_code == 200
        data = {"csrf": token("/coordinator/swaps"), "action": "approve"}
        assert http.post(f"/coordinator/swaps/{request_id}", data=data).status_code == 200
        after = http.get(f"/feeds/{feed}.ics", headers={"If-None-Match": before})
        assert after.status_code == 200
        assert after.headers["etag"] != before
    assert (night("2027-02-08"), "d2") in latest_roster(store).pairs()
    store.close()
