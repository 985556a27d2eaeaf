"""``publish``, ``swap``, ``token`` and ``serve``: the published roster and its feeds."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import click
import uvicorn
import yaml

from wachtplanner.cli.options import scenario_argument
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.io.atomic import replace_folder
from wachtplanner.io.roster_files import load_roster
from wachtplanner.io.scenario_files import load_scenario, load_scenario_shifts
from wachtplanner.serve.app import FeedApp
from wachtplanner.stats.ledger import next_carry_over
from wachtplanner.store.db import Store
from wachtplanner.store.publish import (
    Published,
    RefusedError,
    SwapRefusedError,
    issue_token,
    latest_roster,
    publish,
    record_swap,
    revoke_tokens,
)

EXIT_REFUSED = 5

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Store file [default: SCENARIO with .wachtplanner.db, next to it].",
)
actor_option = click.option(
    "--actor", default="coordinator", show_default=True, help="Who does this (audit log)."
)


def _store(scenario: Path, db_path: Path | None) -> Store:
    return Store(db_path or scenario.with_suffix(".wachtplanner.db"))


def _report(published: Published, out_dir: Path | None) -> None:
    click.echo(
        f"Published version {published.version}: {published.num_assignments} duties "
        f"({published.kept} unchanged, {published.changed} changed, {published.added} new, "
        f"{published.removed} removed)."
    )
    if not published.urgent:
        return
    click.echo(f"URGENT: {len(published.urgent)} change(s) within 48 h; warn these GPs directly:")
    for change in published.urgent:
        click.echo(f"  {change.kind:<8} {change.start}  {change.shift_id}  {change.doctor_id}")
    if out_dir is not None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["kind", "start", "shift_id", "doctor_id"])
        writer.writerows((c.kind, c.start, c.shift_id, c.doctor_id) for c in published.urgent)
        replace_folder(out_dir, {"urgent.csv": buffer.getvalue().encode()}, command="publish")


@click.command("publish")
@scenario_argument
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@actor_option
@click.option("--note", default="", help="Why this version (audit log).")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write urgent.csv here when there are urgent changes.",
)
def publish_command(
    scenario: Path,
    roster: Path,
    db_path: Path | None,
    actor: str,
    note: str,
    out_dir: Path | None,
) -> None:
    """Check ROSTER, store it as a new immutable version and regenerate every feed.

    A roster that breaks a hard rule is refused (exit 5) and nothing is stored.
    """
    loaded, shifts = load_scenario_shifts(scenario)
    chosen = load_roster(roster, loaded, shifts)
    store = _store(scenario, db_path)
    try:
        _report(publish(store, loaded, shifts, chosen, actor=actor, note=note), out_dir)
    except RefusedError as refused:
        for violation in refused.violations:
            click.echo(f"REFUSED ({violation.rule}): {violation.message}", err=True)
        raise click.exceptions.Exit(EXIT_REFUSED) from None
    finally:
        store.close()


@click.command("swap")
@scenario_argument
@click.argument("shift_id")
@click.argument("from_doctor")
@click.argument("to_doctor")
@click.option(
    "--with-shift",
    "other_shift",
    default=None,
    help="Two-way swap: TO_DOCTOR gives this duty back to FROM_DOCTOR.",
)
@click.option("--reason", required=True, help="Why (audit log).")
@db_option
@actor_option
def swap_command(
    scenario: Path,
    shift_id: str,
    from_doctor: str,
    to_doctor: str,
    other_shift: str | None,
    reason: str,
    db_path: Path | None,
    actor: str,
) -> None:
    """Give FROM_DOCTOR's duty SHIFT_ID to TO_DOCTOR (or swap two duties with --with-shift).

    The swap is checked against every hard rule first; a refused swap says which rule and why
    (exit 5). An accepted swap is published as a new version.
    """
    loaded, shifts = load_scenario_shifts(scenario)
    moves = [(shift_id, from_doctor, to_doctor)]
    if other_shift:
        moves.append((other_shift, to_doctor, from_doctor))
    store = _store(scenario, db_path)
    try:
        published = record_swap(
            store,
            loaded,
            shifts,
            moves,
            kind="two-way" if other_shift else "give-away",
            actor=actor,
            reason=reason,
        )
    except SwapRefusedError as refused:
        for violation in refused.violations:
            click.echo(f"REFUSED ({violation.rule}): {violation.message}", err=True)
        raise click.exceptions.Exit(EXIT_REFUSED) from None
    except KeyError as missing:
        raise click.UsageError(str(missing.args[0])) from None
    finally:
        store.close()
    _report(published, None)


@click.group("token")
def token_group() -> None:
    """Secret feed URLs: issue, rotate or revoke a doctor's (or an area's/post's) token."""


def _urls(base_url: str, token: str) -> None:
    host = base_url.split("://", 1)[-1].rstrip("/")
    click.echo(f"webcal://{host}/feeds/{token}.ics")
    click.echo(f"https://{host}/feeds/{token}.ics")


for _action in ("issue", "rotate"):

    @token_group.command(_action)
    @scenario_argument
    @click.argument("subject")
    @click.option("--base-url", default="https://wacht.example.org", show_default=True)
    @db_option
    @actor_option
    def _token(
        scenario: Path,
        subject: str,
        base_url: str,
        db_path: Path | None,
        actor: str,
        _rotate: bool = _action == "rotate",
    ) -> None:
        """Print a new secret feed URL for SUBJECT (rotate: the old ones stop working)."""
        loaded = load_scenario(scenario)
        known = {d.id for d in loaded.doctors} | {a.id for a in loaded.areas}
        known |= {p.id for p in loaded.posts}
        if subject not in known:
            raise click.UsageError(f"'{subject}' is not a doctor, area or post of {scenario}.")
        store = _store(scenario, db_path)
        try:
            token = issue_token(store, subject, actor=actor, rotate=_rotate)
        finally:
            store.close()
        _urls(base_url, token)


@token_group.command("revoke")
@scenario_argument
@click.argument("subject")
@db_option
@actor_option
def token_revoke(scenario: Path, subject: str, db_path: Path | None, actor: str) -> None:
    """Revoke SUBJECT's feed URLs (they then answer 410 Gone)."""
    store = _store(scenario, db_path)
    try:
        count = revoke_tokens(store, subject, actor=actor)
    finally:
        store.close()
    click.echo(f"Revoked {count} token(s) of {subject}.")


@click.command("serve")
@scenario_argument
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
def serve_command(scenario: Path, db_path: Path | None, host: str, port: int) -> None:
    """Serve the feeds (/feeds/<token>.ics) and the who-is-on-duty pages (/areas/<id>)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = FeedApp(db_path or scenario.with_suffix(".wachtplanner.db"), load_scenario(scenario))
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")


@click.command("ledger")
@scenario_argument
@db_option
def ledger_command(scenario: Path, db_path: Path | None) -> None:
    """Print next year's carry-over from the newest published version (swaps included).

    Per doctor: points done minus target per tag (+ = did more than their share) and the
    holidays they did, ready to paste as ``carry_over: {tags: ..., holidays: [...]}`` into next
    year's scenario (the holiday rotation then avoids giving the same holiday twice in a row).
    """
    loaded, shifts = load_scenario_shifts(scenario)
    store = _store(scenario, db_path)
    try:
        roster = latest_roster(store)
        version = store.latest_version()
    finally:
        store.close()
    if version is None:
        raise click.UsageError("nothing is published yet.")
    evaluation = evaluate_roster(loaded, shifts, roster)
    ledger = next_carry_over(shifts, roster, evaluation)
    click.echo(f"# carry-over from published version {version} (swaps included)")
    click.echo(
        yaml.safe_dump(
            {doctor: {"carry_over": entry} for doctor, entry in ledger.items()},
            sort_keys=False,
        ),
        nl=False,
    )
