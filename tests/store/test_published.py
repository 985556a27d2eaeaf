"""The published roster as coordinators and GPs live with it: no lost swaps, no empty stores
made by a typo, republishing that cannot silently undo swaps, feeds that stay put, undo."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from starlette.testclient import TestClient

from tests.helpers import scenario_of, tiny_doc
from tests.store.test_store import NIGHTS, T0, roster_of, tiny
from wachtplanner.cli import main
from wachtplanner.expand import expand_shifts
from wachtplanner.serve.app import create_app
from wachtplanner.store.db import MIGRATIONS, Store, StoreMissingError
from wachtplanner.store.publish import (
    DroppedSwapsError,
    SwapError,
    issue_token,
    latest_roster,
    publish,
    record_swap,
    undo,
)

MON, TUE, WED, THU = (f"weeknight/noord/{day}" for day in NIGHTS)


def _published(path: Path) -> None:
    """A store with version 1: d0, d1, d0, d1 on the four nights (rest 11 h)."""
    scenario = tiny(min_rest_hours=11)
    with Store(path, create=True) as store:
        publish(store, scenario, expand_shifts(scenario), roster_of("d0", "d1", "d0", "d1"),
                actor="test", now=T0)  # fmt: skip


def _together(target, *arg_lists) -> list[int | None]:
    """Run ``target`` in one forked process per argument list, all released at once by a
    barrier; return their exit codes (0 when ``target`` returned normally)."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(arg_lists))
    children = [context.Process(target=target, args=(*args, barrier)) for args in arg_lists]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
    return [child.exitcode for child in children]


def _swap_in_child(path: str, shift_id: str, giver: str, taker: str, barrier: object) -> None:
    scenario = tiny(min_rest_hours=11)
    shifts = expand_shifts(scenario)
    with Store(path) as store:
        barrier.wait()  # type: ignore[attr-defined]
        record_swap(store, scenario, shifts, [(shift_id, giver, taker)],
                    kind="give-away", actor=giver, reason="race")  # fmt: skip


def test_two_concurrent_swaps_both_survive_20_of_20(tmp_path):
    """Two processes swap different duties at the same moment, 20 times over: each time the
    newest version holds both swaps and the swap log both records (the reader of the latest
    version is inside the write lock)."""
    for run in range(20):
        path = tmp_path / f"race-{run}.db"
        _published(path)
        swaps = [(str(path), MON, "d0", "d3"), (str(path), THU, "d1", "d3")]
        assert _together(_swap_in_child, *swaps) == [0, 0], run
        with Store(path) as store:
            pairs = latest_roster(store).pairs()
            assert {(MON, "d3"), (THU, "d3")} <= pairs, run
            assert store.latest_version() == 3
            with store.read() as db:
                assert db.exec_driver_sql("SELECT COUNT(*) FROM swaps").scalar() == 2


def _open_new(path: str, barrier: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    Store(path, create=True).close()


def test_two_processes_creating_a_store_at_once(tmp_path):
    """Migrations run inside the write lock: two processes opening a new store together, 40
    times, never fail (it was 15 failures in 40: 'table versions already exists')."""
    for run in range(40):
        path = str(tmp_path / f"new-{run}.db")
        assert _together(_open_new, (path,), (path,)) == [0, 0], run
        with Store(path) as store:
            with store.read() as db:
                versions = db.exec_driver_sql("SELECT version FROM schema_migrations").all()
            assert sorted(v[0] for v in versions) == list(range(1, len(MIGRATIONS) + 1))


def test_republishing_the_original_roster_does_not_undo_swaps(tmp_path):
    """After two swaps, publishing the original roster again would undo them: refused with both
    listed; with force it is published and the audit log names what was undone."""
    path = tmp_path / "s.db"
    _published(path)
    scenario = tiny(min_rest_hours=11)
    shifts = expand_shifts(scenario)
    with Store(path) as store:
        for shift_id, giver in ((MON, "d0"), (THU, "d1")):
            record_swap(store, scenario, shifts, [(shift_id, giver, "d3")],
                        kind="give-away", actor=giver, reason="x")  # fmt: skip
        with pytest.raises(DroppedSwapsError) as dropped:
            publish(store, scenario, shifts, roster_of("d0", "d1", "d0", "d1"), actor="c")
        assert {(d.shift_id, d.to_doctor) for d in dropped.value.dropped} == {
            (MON, "d3"),
            (THU, "d3"),
        }
        assert store.latest_version() == 3
        forced = publish(store, scenario, shifts, roster_of("d0", "d1", "d0", "d1"),
                         actor="c", force=True)  # fmt: skip
        assert forced.version == 4
        actions = [entry[2] for entry in store.audit_entries()]
        assert "forced: swaps undone" in actions


def test_a_roster_that_keeps_the_swaps_publishes_without_force(tmp_path):
    """A new roster that still holds the swapped duties is not refused."""
    path = tmp_path / "s.db"
    _published(path)
    scenario = tiny(min_rest_hours=11)
    shifts = expand_shifts(scenario)
    with Store(path) as store:
        record_swap(store, scenario, shifts, [(MON, "d0", "d3")],
                    kind="give-away", actor="d0", reason="x")  # fmt: skip
        done = publish(store, scenario, shifts, roster_of("d3", "d1", "d0", "d3"), actor="c")
        assert done.version == 3


def test_a_self_swap_is_refused(tmp_path):
    """Giving a duty to oneself is a mistake, not a new version."""
    path = tmp_path / "s.db"
    _published(path)
    scenario = tiny(min_rest_hours=11)
    with Store(path) as store, pytest.raises(SwapError, match="themself"):
        record_swap(store, scenario, expand_shifts(scenario), [(MON, "d0", "d0")],
                    kind="give-away", actor="d0", reason="x")  # fmt: skip
    with Store(path) as store:
        assert store.latest_version() == 1


def test_a_missing_store_is_not_created(tmp_path):
    """Opening a store that does not exist fails and leaves no file (a mistyped --db)."""
    with pytest.raises(StoreMissingError, match="no store here"):
        Store(tmp_path / "typo.db")
    assert not (tmp_path / "typo.db").exists()


def _cli_files(tmp_path: Path, roster: list[str]) -> tuple[Path, Path]:
    doc = tiny_doc(4, rules={"min_rest_hours": 12})
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(doc))
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(
        "shift_id,doctor_id\n"
        + "".join(f"weeknight/noord/{day},{d}\n" for day, d in zip(NIGHTS, roster, strict=True))
    )
    return scenario, roster_file


def test_cli_commands_never_create_a_store_by_mistake(tmp_path):
    """versions/swap/token with a mistyped --db exit 2 and create nothing; a refused publish (a
    hard rule broken: d0 on three nights in a row, 11 h rest where 12 are needed) exits 5 and
    creates nothing."""
    scenario, _ = _cli_files(tmp_path, ["d0", "d1", "d0", "d1"])
    runner = CliRunner()
    typo = str(tmp_path / "typo.db")
    for args in (
        ["versions", str(scenario), "--db", typo],
        ["audit", str(scenario), "--db", typo],
        ["swap", str(scenario), MON, "d0", "d1", "--reason", "x", "--db", typo],
        ["token", "issue", str(scenario), "d0", "--db", typo],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "no store here" in result.output
    assert not Path(typo).exists()
    _, bad = _cli_files(tmp_path, ["d0", "d0", "d0", "d1"])
    assert runner.invoke(main, ["publish", str(scenario), str(bad), "--db", typo]).exit_code == 5
    assert not Path(typo).exists()


def test_cli_versions_audit_undo_and_messages(tmp_path):
    """First publish says 'the first' (not '0 new'); a swap; versions lists all three kinds;
    undo of version 1 publishes version 3 equal to version 1; a self-swap exits 2."""
    scenario, roster = _cli_files(tmp_path, ["d0", "d1", "d0", "d1"])
    runner = CliRunner()
    db = str(tmp_path / "s.db")
    first = runner.invoke(main, ["publish", str(scenario), str(roster), "--db", db])
    assert first.exit_code == 0, first.output
    assert "the first: 4 duties" in first.output
    swap = runner.invoke(main, ["swap", str(scenario), MON, "d0", "d2", "--reason", "ziek",
                                "--db", db])  # fmt: skip
    assert swap.exit_code == 0, swap.output
    assert "2 feeds changed" in swap.output or "feeds changed" in swap.output
    self_swap = runner.invoke(
        main, ["swap", str(scenario), MON, "d2", "d2", "--reason", "x", "--db", db]
    )
    assert self_swap.exit_code == 2
    undone = runner.invoke(main, ["undo", str(scenario), "1", "--reason", "mistake", "--db", db])
    assert undone.exit_code == 0, undone.output
    listed = runner.invoke(main, ["versions", str(scenario), "--db", db]).output
    assert [line.split()[0] for line in listed.splitlines()[1:]] == ["1", "2", "3"]
    for kind in (" publish ", " swap ", " undo "):
        assert kind in listed
    log = runner.invoke(main, ["audit", str(scenario), "--db", db]).output
    for word in ("swap", "undo", "ziek"):
        assert word in log
    with Store(db) as store:
        assert latest_roster(store).pairs() == roster_of("d0", "d1", "d0", "d1").pairs()


def test_undo_of_an_unknown_version(tmp_path):
    """Undo names a version that does not exist: a clear error, nothing published."""
    path = tmp_path / "s.db"
    _published(path)
    scenario = tiny(min_rest_hours=11)
    with Store(path) as store, pytest.raises(Exception, match="no version 7"):
        undo(store, scenario, expand_shifts(scenario), 7, actor="c", reason="x")


def test_a_swap_changes_exactly_the_two_doctors_feeds(tmp_path):
    """Give Monday's night from d0 to d3: the new version changes d0's and d3's feeds and the
    unit feeds, nothing else; d1's feed keeps its bytes and ETag, so a calendar holding d1's
    ETag gets 304 after the publish (it got a new ETag on every publish before)."""
    path = tmp_path / "s.db"
    _published(path)
    scenario = tiny(min_rest_hours=11)
    shifts = expand_shifts(scenario)
    with Store(path) as store:
        token = issue_token(store, "d1", actor="test")
        before = {n: store.feed(1, n) for n in ("d0.ics", "d1.ics", "d2.ics", "d3.ics")}
        done = record_swap(store, scenario, shifts, [(MON, "d0", "d3")],
                           kind="give-away", actor="d0", reason="x",
                           now=T0 + timedelta(days=1))  # fmt: skip
        assert set(done.changed_feeds) == {"d0.ics", "d3.ics", "noord.ics"}
        after = {n: store.feed(2, n) for n in before}
        assert after["d1.ics"] == before["d1.ics"]
        assert after["d2.ics"] == before["d2.ics"]
        assert after["d0.ics"] != before["d0.ics"]
        client = TestClient(create_app(store, scenario))
        etag = before["d1.ics"][1]  # type: ignore[index]
        response = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
        assert response.status_code == 304


def test_area_ids_with_capitals_underscores_and_dots(tmp_path):
    """/areas/<id> takes any id the scenario allows (capitals, '_' and '.'), exactly."""
    doc = tiny_doc(4, rules={"min_rest_hours": 11})
    doc["areas"] = [{"id": "WDO_Noord.1", "name": "WDO Noord"}]
    doc["posts"] = [{"id": "wp", "name": "Wachtpost", "areas": ["WDO_Noord.1"]}]
    doc["practices"][0]["area"] = "WDO_Noord.1"
    scenario = scenario_of(doc)
    path = tmp_path / "s.db"
    with Store(path, create=True) as store:
        nights = roster_of_area("WDO_Noord.1", "d0", "d1", "d0", "d1")
        publish(store, scenario, expand_shifts(scenario), nights, actor="t", now=T0)
        client = TestClient(create_app(store, scenario))
        page = client.get("/areas/WDO_Noord.1?date=2027-02-08")
        assert page.status_code == 200
        assert page.text.count("<tr") == 5
        assert client.get("/areas/WDO_Noord").status_code == 404


def roster_of_area(area: str, *doctors: str):
    """A roster of the four nights in an area with another id."""
    from wachtplanner.domain.roster import Assignment, Roster

    return Roster(
        assignments=tuple(
            Assignment(shift_id=f"weeknight/{area}/{day}", doctor_id=d)
            for day, d in zip(NIGHTS, doctors, strict=True)
        )
    )
