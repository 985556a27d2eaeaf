"""Store and publish: UID/SEQUENCE across versions, swaps checked by the checker, urgent
changes, crash safety, immutability."""

import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from tests.helpers import scenario_of, tiny_doc
from wachtplanner.domain.roster import Assignment, Roster
from wachtplanner.expand import expand_shifts
from wachtplanner.store.db import Store
from wachtplanner.store.publish import (
    RefusedError,
    SwapRefusedError,
    latest_roster,
    publish,
    record_swap,
)

T0 = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
NIGHTS = ["2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"]


def tiny(**rules):
    """Four weeknights (Mon 8 - Thu 11 Feb 2027), GPs d0-d3 of one area; d3 on leave on the 10th,
    d2 exempt from weeknights, a trainee t0 supervised by d3."""
    doc = tiny_doc(4, rules={"min_rest_hours": 24, **rules})
    doc["doctors"][3]["unavailable"] = [{"from": "2027-02-10", "to": "2027-02-10"}]
    doc["doctors"][2]["exemptions"] = [{"reason": "health", "shift_types": ["weeknight"]}]
    doc["doctors"].append(
        {"id": "t0", "name": "Dr. T0", "practice": "p1", "role": "trainee", "supervisor": "d3"}
    )
    doc["shift_types"][0]["roles"] = ["gp", "trainee"]
    return scenario_of(doc)


def roster_of(*doctors):
    return Roster(
        assignments=tuple(
            Assignment(shift_id=f"weeknight/noord/{day}", doctor_id=d)
            for day, d in zip(NIGHTS, doctors, strict=True)
        )
    )


@pytest.fixture
def store(tmp_path):
    """An empty store file."""
    opened = Store(tmp_path / "store.db", create=True)
    yield opened
    opened.close()


def test_uid_and_sequence_across_three_versions(store):
    """v1 publishes; v2 moves the evening start (same shifts, new times): every duty keeps its UID
    and gets SEQUENCE 1; v3 gives one duty away: the taker's duty is new (SEQUENCE 0), the
    giver's is gone, the rest keep UID, SEQUENCE and last-modified."""
    scenario = tiny()
    v1 = publish(
        store,
        scenario,
        expand_shifts(scenario),
        roster_of("d0", "d1", "d0", "d1"),
        actor="test",
        now=T0,
    )
    first = {(d.shift_id, d.doctor_id): d for d in store.duties(v1.version)}
    later = tiny_doc(4, rules={"min_rest_hours": 24})
    later["shift_types"][0]["start"] = "20:00"
    moved = scenario_of(later)
    v2 = publish(
        store,
        moved,
        expand_shifts(moved),
        roster_of("d0", "d1", "d0", "d1"),
        actor="test",
        now=T0 + timedelta(days=1),
    )
    second = {(d.shift_id, d.doctor_id): d for d in store.duties(v2.version)}
    assert v2.changed == 4
    assert all(second[k].uid == first[k].uid and second[k].sequence == 1 for k in first)
    v3 = publish(
        store,
        moved,
        expand_shifts(moved),
        roster_of("d0", "d1", "d0", "d2"),
        actor="test",
        now=T0 + timedelta(days=2),
    )
    third = {(d.shift_id, d.doctor_id): d for d in store.duties(v3.version)}
    assert (f"weeknight/noord/{NIGHTS[3]}", "d1") not in third
    assert third[f"weeknight/noord/{NIGHTS[3]}", "d2"].sequence == 0
    for key in [k for k in second if k in third]:
        assert (third[key].uid, third[key].sequence, third[key].modified) == (
            second[key].uid,
            second[key].sequence,
            second[key].modified,
        )
    assert (v3.kept, v3.added, v3.removed) == (3, 1, 1)
    feed = store.feed(v3.version, "d1.ics")
    assert feed is not None
    assert NIGHTS[3].replace("-", "") not in feed[0].decode()


@pytest.mark.parametrize(
    ("moves", "rule"),
    [
        ([(f"weeknight/noord/{NIGHTS[1]}", "d1", "d0")], "rest"),
        ([(f"weeknight/noord/{NIGHTS[2]}", "d0", "d3")], "unavailable"),
        ([(f"weeknight/noord/{NIGHTS[1]}", "d1", "d2")], "exemption"),
        ([(f"weeknight/noord/{NIGHTS[2]}", "d0", "t0")], "supervision"),
    ],
)
def test_swap_refused_names_the_rule(store, moves, rule):
    """Give-aways that would break rest, leave, an exemption or supervision (the trainee's
    supervisor d3 is on leave that day) are refused, with the rule named; nothing is published."""
    scenario = tiny()
    shifts = expand_shifts(scenario)
    publish(store, scenario, shifts, roster_of("d0", "d1", "d0", "d1"), actor="test", now=T0)
    before = store.latest_version()
    with pytest.raises(SwapRefusedError) as refused:
        record_swap(store, scenario, shifts, moves, kind="give-away", actor="test", reason="r")
    assert rule in {v.rule for v in refused.value.violations}
    assert store.latest_version() == before


def test_accepted_two_way_swap_is_published_with_its_record(store):
    """A two-way swap that keeps every rule becomes the next version and is in the swap log."""
    scenario = tiny(min_rest_hours=11)
    shifts = expand_shifts(scenario)
    publish(store, scenario, shifts, roster_of("d0", "d1", "d0", "d1"), actor="test", now=T0)
    done = record_swap(
        store,
        scenario,
        shifts,
        [
            (f"weeknight/noord/{NIGHTS[0]}", "d0", "d1"),
            (f"weeknight/noord/{NIGHTS[1]}", "d1", "d0"),
        ],
        kind="two-way",
        actor="an",
        reason="family",
        now=T0 + timedelta(hours=1),
    )
    assert done.version == 2
    assert [a.doctor_id for a in latest_roster(store).assignments] == ["d1", "d0", "d0", "d1"]
    with store.read() as db:
        logged = db.exec_driver_sql("SELECT kind, actor, version_id FROM swaps").all()
    assert [tuple(row) for row in logged] == [("two-way", "an", 2), ("two-way", "an", 2)]


def test_urgent_changes_within_48_hours_are_listed(store):
    """Publishing on Sun 7 Feb 20:00: a change to Monday's night (23 h ahead) is urgent, one to
    Thursday's (71 h ahead) is not."""
    scenario = tiny()
    shifts = expand_shifts(scenario)
    publish(store, scenario, shifts, roster_of("d0", "d1", "d0", "d1"), actor="test", now=T0)
    sunday = datetime(2027, 2, 7, 19, 0, tzinfo=UTC)
    result = publish(
        store, scenario, shifts, roster_of("d3", "d1", "d0", "d3"), actor="t", now=sunday
    )
    urgent = {(u.kind, u.shift_id[-10:], u.doctor_id) for u in result.urgent}
    assert urgent == {("new", NIGHTS[0], "d3"), ("removed", NIGHTS[0], "d0")}


def test_publish_refuses_a_roster_that_breaks_a_hard_rule(store):
    """The checker runs before anything is stored: d1 on two nights in a row breaks 24 h rest."""
    scenario = tiny()
    with pytest.raises(RefusedError) as refused:
        publish(
            store,
            scenario,
            expand_shifts(scenario),
            roster_of("d1", "d1", "d0", "d0"),
            actor="test",
            now=T0,
        )
    assert {v.rule for v in refused.value.violations} == {"rest"}
    assert store.latest_version() is None


def test_published_versions_are_immutable(store):
    """The store refuses to rewrite a published assignment."""
    scenario = tiny()
    publish(
        store,
        scenario,
        expand_shifts(scenario),
        roster_of("d0", "d1", "d0", "d1"),
        actor="test",
        now=T0,
    )
    with pytest.raises(IntegrityError, match="immutable"), store.write() as db:
        db.exec_driver_sql("UPDATE assignments SET doctor_id = 'd3'")


def test_kill_mid_publish_leaves_previous_version_intact(tmp_path):
    """A publisher killed inside its transaction leaves version 1 whole and no version 2."""
    db = tmp_path / "store.db"
    scenario = tiny()
    first = Store(db, create=True)
    publish(
        first,
        scenario,
        expand_shifts(scenario),
        roster_of("d0", "d1", "d0", "d1"),
        actor="test",
        now=T0,
    )
    first.close()
    script = textwrap.dedent(f"""
        import sys, time
        from tests.store.test_store import tiny, roster_of, T0
        from wachtplanner.expand import expand_shifts
        from wachtplanner.store import publish as module
        from wachtplanner.store.db import Store
        def stall():
            print("inside", flush=True)
            time.sleep(60)
        module.after_assignments_written = stall
        scenario = tiny()
        store = Store(__import__("pathlib").Path({str(db)!r}))
        module.publish(store, scenario, expand_shifts(scenario), roster_of("d1", "d0", "d1", "d0"),
                       actor="killed", now=T0)
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "inside"
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    after = Store(db)
    assert after.latest_version() == 1
    assert [d.doctor_id for d in after.duties(1)] == ["d0", "d1", "d0", "d1"]
    with after.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM assignments").scalar() == 4
    after.close()


def test_cli_publish_swap_ledger(tmp_path):
    """From the command line: publish, a give-away, and the ledger counts the swap (the taker's
    night balance rises by one 13-hour night, the giver's falls by it)."""
    import yaml
    from click.testing import CliRunner

    from wachtplanner.cli import main

    doc = tiny_doc(4, rules={"min_rest_hours": 11})
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc))
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "shift_id,doctor_id\n"
        + "".join(
            f"weeknight/noord/{day},{d}\n"
            for day, d in zip(NIGHTS, ["d0", "d1", "d0", "d1"], strict=True)
        )
    )
    runner = CliRunner()
    db = str(tmp_path / "s.db")
    assert runner.invoke(main, ["publish", str(path), str(roster), "--db", db]).exit_code == 0
    before = yaml.safe_load(runner.invoke(main, ["ledger", str(path), "--db", db]).output)
    swapped = runner.invoke(
        main,
        [
            "swap",
            str(path),
            f"weeknight/noord/{NIGHTS[0]}",
            "d0",
            "d2",
            "--reason",
            "x",
            "--db",
            db,
        ],
    )
    assert swapped.exit_code == 0, swapped.output
    after = yaml.safe_load(runner.invoke(main, ["ledger", str(path), "--db", db]).output)
    night = lambda data, d: data[d]["carry_over"]["tags"]["night"]  # noqa: E731
    assert night(after, "d2") - night(before, "d2") == pytest.approx(13)
    assert night(after, "d0") - night(before, "d0") == pytest.approx(-13)
    refused = runner.invoke(
        main,
        [
            "swap",
            str(path),
            f"weeknight/noord/{NIGHTS[1]}",
            "d1",
            "d9",
            "--reason",
            "x",
            "--db",
            db,
        ],
    )
    assert refused.exit_code != 0
