"""A small circle served by the web app for the app's tests: store, links, keys, a server."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
import yaml

from tests.helpers import scenario_of, tiny_doc
from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import expand_shifts
from wachtplanner.serve.app import create_app
from wachtplanner.store.app_data import issue_link
from wachtplanner.store.db import Store
from wachtplanner.store.publish import issue_token, publish

NIGHTS = ["2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"]
NIGHTS += ["2027-02-15", "2027-02-16", "2027-02-17", "2027-02-18"]
HOLDERS = ["d0", "d1", "d0", "d1", "d2", "d3", "d2", "d3"]
"""Eight weeknights, each GP two of them; 12 h rest, so nobody may work two nights in a row."""
DOCTORS = ["d0", "d1", "d2", "d3"]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def night(day: str) -> str:
    """Return the shift id of the weeknight starting on ``day``."""
    return f"weeknight/noord/{day}"


def circle_doc() -> dict[str, object]:
    """The circle: 4 GPs of one area, weeknights of two weeks of February 2027."""
    doc = tiny_doc(4, horizon={"start": "2027-02-08", "end": "2027-02-19"})
    doc["rules"] = {**doc["rules"], "min_rest_hours": 12}
    doc["doctors"] = [
        {"id": f"d{i}", "name": name, "practice": "p1"}
        for i, name in enumerate(["Dr. An Aerts", "Dr. Bart Bos", "Dr. Cis Claes", "Dr. Dirk Dams"])
    ]
    return doc


@dataclass
class Site:
    """What a test needs to drive the app."""

    scenario: Scenario
    scenario_path: Path
    db: Path
    gp: dict[str, str]
    feed: dict[str, str]
    coordinator_key: str
    base: str = ""


def make_site(folder: Path) -> Site:
    """Write the scenario, publish the roster, issue every link and key."""
    doc = circle_doc()
    path = folder / "kring.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    scenario = scenario_of(doc)
    roster = Roster(
        assignments=tuple(
            Assignment(shift_id=night(day), doctor_id=d)
            for day, d in zip(NIGHTS, HOLDERS, strict=True)
        )
    )
    db = folder / "kring.db"
    with Store(db, create=True) as store:
        publish(store, scenario, expand_shifts(scenario), roster, actor="test",
                now=datetime(2027, 1, 20, tzinfo=UTC))  # fmt: skip
        gp = {d: issue_link(store, d, "gp", actor="test") for d in DOCTORS}
        feed = {d: issue_token(store, d, actor="test") for d in DOCTORS}
        key = issue_link(store, "coordinator", "coordinator", actor="test")
    return Site(scenario, path, db, gp, feed, key)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(site: Site) -> Iterator[Site]:
    """Serve the site's store with uvicorn on a free loopback port."""
    store = Store(site.db)
    port = _free_port()
    config = uvicorn.Config(
        create_app(store, site.scenario, site.scenario_path),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    site.base = f"http://127.0.0.1:{port}"
    try:
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
