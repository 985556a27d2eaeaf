"""The published roster and the app: publish, swap, undo, versions, token, serve, collect."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
import uvicorn
import yaml

from wachtplanner.cli.options import scenario_argument
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.io.atomic import replace_folder, write_file_atomically
from wachtplanner.io.roster_files import load_roster
from wachtplanner.io.scenario_files import load_scenario, load_scenario_shifts
from wachtplanner.serve.app import create_app
from wachtplanner.stats.ledger import next_carry_over
from wachtplanner.store.app_data import issue_link, next_period, revoke_links, wishes
from wachtplanner.store.collect import collected_document, collected_yaml
from wachtplanner.store.db import Store, StoreMissingError
from wachtplanner.store.publish import (
    DroppedSwapsError,
    Published,
    RefusedError,
    SwapError,
    SwapRefusedError,
    issue_token,
    latest_roster,
    publish,
    record_swap,
    revoke_tokens,
    undo,
)

EXIT_REFUSED = 5

db_option = click.option(
    "--db",
    "db_path",
    default=None,
    help="Store: an SQLite file or a postgresql:// URL [default: SCENARIO with "
    ".wachtplanner.db, next to it].",
)
actor_option = click.option(
    "--actor", default="coordinator", show_default=True, help="Who does this (audit log)."
)


def store_target(scenario: Path, db_path: str | None) -> str:
    """Return the store a command uses: ``--db`` or the file next to the scenario."""
    return db_path or str(scenario.with_suffix(".wachtplanner.db"))


@contextmanager
def opened(scenario: Path, db_path: str | None, *, create: bool = False) -> Iterator[Store]:
    """Open the store (creating it only when asked); a missing one is a usage error (exit 2)."""
    try:
        store = Store(store_target(scenario, db_path), create=create)
    except StoreMissingError as missing:
        raise click.UsageError(str(missing)) from None
    try:
        yield store
    finally:
        store.close()


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _report(published: Published, out_dir: Path | None) -> None:
    if published.first:
        click.echo(
            f"Published version {published.version}, the first: "
            f"{_plural(published.num_assignments, 'duty', 'duties')}."
        )
    else:
        click.echo(
            f"Published version {published.version}: "
            f"{_plural(published.num_assignments, 'duty', 'duties')} ({published.kept} "
            f"unchanged, {published.changed} changed, {published.added} new, "
            f"{published.removed} removed); "
            f"{_plural(len(published.changed_feeds), 'feed')} changed."
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


def _refused(refused: RefusedError) -> click.exceptions.Exit:
    for violation in refused.violations:
        click.echo(f"REFUSED ({violation.rule}): {violation.message}", err=True)
    return click.exceptions.Exit(EXIT_REFUSED)


@click.command("publish")
@scenario_argument
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@actor_option
@click.option("--note", default="", help="Why this version (audit log).")
@click.option(
    "--based-on",
    type=int,
    default=None,
    help="The version ROSTER was made from [default: the newest one published whole].",
)
@click.option(
    "--force",
    is_flag=True,
    help="Publish even if it undoes swaps recorded since then (the audit log names them).",
)
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
    db_path: str | None,
    actor: str,
    note: str,
    based_on: int | None,
    force: bool,
    out_dir: Path | None,
) -> None:
    """Check ROSTER, store it as a new immutable version and regenerate every feed.

    A roster that breaks a hard rule is refused (exit 5) and nothing is stored; so is one that
    would undo swaps recorded since the version it was based on, unless --force. The first
    successful publish creates the store.
    """
    loaded, shifts = load_scenario_shifts(scenario)
    chosen = load_roster(roster, loaded, shifts)
    broken = evaluate_roster(loaded, shifts, chosen).hard_violations
    if broken:
        raise _refused(RefusedError(broken))
    with opened(scenario, db_path, create=True) as store:
        try:
            published = publish(
                store, loaded, shifts, chosen,
                actor=actor, note=note, based_on=based_on, force=force,
            )  # fmt: skip
        except RefusedError as refused:
            raise _refused(refused) from None
        except DroppedSwapsError as dropped:
            click.echo(
                f"REFUSED: this roster would undo {len(dropped.dropped)} swap(s) recorded since "
                f"version {dropped.base}:",
                err=True,
            )
            for swap in dropped.dropped:
                click.echo(
                    f"  version {swap.version}: {swap.shift_id} {swap.from_doctor} -> "
                    f"{swap.to_doctor} ({swap.reason})",
                    err=True,
                )
            click.echo(
                "Solve again from the published version, or publish with --force to undo them.",
                err=True,
            )
            raise click.exceptions.Exit(EXIT_REFUSED) from None
    _report(published, out_dir)


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
    db_path: str | None,
    actor: str,
) -> None:
    """Give FROM_DOCTOR's duty SHIFT_ID to TO_DOCTOR (or swap two duties with --with-shift).

    The swap is checked against every hard rule on the newest version first; a refused swap
    says which rule and why (exit 5). An accepted swap is published as a new version.
    """
    loaded, shifts = load_scenario_shifts(scenario)
    moves = [(shift_id, from_doctor, to_doctor)]
    if other_shift:
        moves.append((other_shift, to_doctor, from_doctor))
    with opened(scenario, db_path) as store:
        try:
            published = record_swap(
                store, loaded, shifts, moves,
                kind="two-way" if other_shift else "give-away", actor=actor, reason=reason,
            )  # fmt: skip
        except SwapRefusedError as refused:
            raise _refused(refused) from None
        except SwapError as wrong:
            raise click.UsageError(str(wrong)) from None
    _report(published, None)


@click.command("undo")
@scenario_argument
@click.argument("version", type=int)
@click.option("--reason", required=True, help="Why (audit log).")
@db_option
@actor_option
def undo_command(
    scenario: Path, version: int, reason: str, db_path: str | None, actor: str
) -> None:
    """Publish a new version equal to the older VERSION (every version stays on record)."""
    loaded, shifts = load_scenario_shifts(scenario)
    with opened(scenario, db_path) as store:
        try:
            published = undo(store, loaded, shifts, version, actor=actor, reason=reason)
        except RefusedError as refused:
            raise _refused(refused) from None
    _report(published, None)


@click.command("versions")
@scenario_argument
@db_option
def versions_command(scenario: Path, db_path: str | None) -> None:
    """List the published versions: when, what made them, by whom, how many duties, why."""
    with opened(scenario, db_path) as store:
        rows = store.versions()
    click.echo(f"{'version':>7}  {'published (UTC)':<19}  {'kind':<7} {'base':>4}  duties  note")
    for v in rows:
        base = "" if v.based_on is None else str(v.based_on)
        click.echo(
            f"{v.id:>7}  {v.published_at:%Y-%m-%d %H:%M:%S}  {v.kind:<7} {base:>4}  "
            f"{v.num_duties:>6}  {v.note} [{v.actor}]"
        )


@click.command("audit")
@scenario_argument
@db_option
def audit_command(scenario: Path, db_path: str | None) -> None:
    """Print the audit log: every publish, swap, undo, refusal and token change."""
    with opened(scenario, db_path) as store:
        entries = store.audit_entries()
    for at, actor, action, detail in entries:
        click.echo(f"{at}  {actor:<14} {action:<22} {detail}")


@click.group("token")
def token_group() -> None:
    """Secret links: feed URLs of a doctor, area or post, a GP's page, the coordinator's key.

    issue prints a new feed URL (earlier ones keep working) and, for a doctor, a new personal
    page link (/gp/...); rotate prints new ones and revokes the earlier ones (they answer 410
    Gone, an old page link 404); revoke revokes all of them. Only hashes are stored: a lost
    link cannot be printed again, only replaced.
    """


def _site(base_url: str) -> tuple[str, str]:
    scheme, _, rest = base_url.partition("://")
    if not rest:
        scheme, rest = "https", base_url
    return scheme, rest.rstrip("/")


def _urls(base_url: str, token: str) -> None:
    scheme, host = _site(base_url)
    click.echo(f"webcal://{host}/feeds/{token}.ics")
    click.echo(f"{scheme}://{host}/feeds/{token}.ics")


def _token_command(rotate: bool) -> click.Command:
    @click.command(
        "rotate" if rotate else "issue",
        help=(
            "Print a new secret feed URL for SUBJECT and revoke the earlier ones."
            if rotate
            else "Print a new secret feed URL for SUBJECT (a doctor, area or post id)."
        ),
    )
    @scenario_argument
    @click.argument("subject")
    @click.option(
        "--base-url",
        default="https://wacht.example.org",
        show_default=True,
        help="Where the app is served; its scheme (http or https) is kept.",
    )
    @db_option
    @actor_option
    def command(
        scenario: Path, subject: str, base_url: str, db_path: str | None, actor: str
    ) -> None:
        loaded = load_scenario(scenario)
        known = {d.id for d in loaded.doctors} | {a.id for a in loaded.areas}
        known |= {p.id for p in loaded.posts}
        if subject not in known:
            raise click.UsageError(f"'{subject}' is not a doctor, area or post of {scenario}.")
        with opened(scenario, db_path) as store:
            token = issue_token(store, subject, actor=actor, rotate=rotate)
            page = None
            if subject in {d.id for d in loaded.doctors}:
                page = issue_link(store, subject, "gp", actor=actor, rotate=rotate)
        _urls(base_url, token)
        if page is not None:
            scheme, host = _site(base_url)
            click.echo(f"{scheme}://{host}/gp/{page}")

    return command


token_group.add_command(_token_command(rotate=False))
token_group.add_command(_token_command(rotate=True))


@token_group.command("revoke")
@scenario_argument
@click.argument("subject")
@db_option
@actor_option
def token_revoke(scenario: Path, subject: str, db_path: str | None, actor: str) -> None:
    """Revoke SUBJECT's feed URLs (they then answer 410 Gone) and personal page links."""
    with opened(scenario, db_path) as store:
        count = revoke_tokens(store, subject, actor=actor)
        count += revoke_links(store, subject, "gp", actor=actor)
    click.echo(f"Revoked {_plural(count, 'link')} of {subject}.")


@token_group.command("coordinator")
@scenario_argument
@click.option(
    "--name",
    default="coordinator",
    show_default=True,
    help="Whose key this is (audit log); issuing a new key for a name revokes its earlier one.",
)
@db_option
@actor_option
def token_coordinator(scenario: Path, name: str, db_path: str | None, actor: str) -> None:
    """Print a new coordinator key for the web app's /coordinator/login page.

    The key is typed into the login form (never put in a URL); only its hash is stored.
    """
    with opened(scenario, db_path) as store:
        key = issue_link(store, name, "coordinator", actor=actor, rotate=True)
    click.echo(key)


@click.command("collect")
@scenario_argument
@db_option
@click.option(
    "-o",
    "--output",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the next period's scenario here (YAML).",
)
@click.option(
    "--from",
    "start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day of the next period [default: as set in the app, else SCENARIO's horizon].",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the next period [default: as set in the app, else SCENARIO's horizon].",
)
def collect_command(
    scenario: Path,
    db_path: str | None,
    out_file: Path,
    start: datetime | None,
    end: datetime | None,
) -> None:
    """Write the next period's scenario: SCENARIO plus the leave and wishes GPs entered.

    The result is validated like any scenario; a wish that does not fit is reported with its
    place (exit 3) and nothing is written.
    """
    loaded = load_scenario(scenario)
    with opened(scenario, db_path) as store:
        first, last = next_period(store, (loaded.horizon.start, loaded.horizon.end))
        entered = wishes(store)
    if start is not None:
        first = start.date()
    if end is not None:
        last = end.date()
    if last < first:
        raise click.UsageError(f"--to {last} is before --from {first}.")
    document = collected_document(loaded, entered, start=first, end=last)
    write_file_atomically(out_file, collected_yaml(document, str(scenario)).encode("utf-8"))
    doctors = len({w.doctor_id for w in entered})
    click.echo(
        f"Wrote {out_file}: {first} to {last}, {_plural(len(entered), 'wish', 'wishes')} of "
        f"{_plural(doctors, 'doctor')}."
    )


@click.command("serve")
@scenario_argument
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
def serve_command(scenario: Path, db_path: str | None, host: str, port: int) -> None:
    """Serve the circle's web app on the store.

    Feeds (/feeds/<token>.ics), who is on duty (/areas/<id>), each GP's own page
    (/gp/<token>: duties, leave and wishes, swaps) and the coordinator's pages (/coordinator/,
    log in with a key from "wachtplanner token coordinator").
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    loaded = load_scenario(scenario)
    with opened(scenario, db_path) as store:
        app = create_app(store, loaded, scenario)
        uvicorn.run(app, host=host, port=port, access_log=False)


@click.command("ledger")
@scenario_argument
@db_option
def ledger_command(scenario: Path, db_path: str | None) -> None:
    """Print next year's carry-over from the newest published version (swaps included).

    Per doctor: points done minus target per tag (+ = did more than their share) and the
    holidays they did, ready to paste as carry_over: {tags: ..., holidays: [...]} into next
    year's scenario (the holiday rotation then avoids giving the same holiday twice in a row).
    """
    loaded, shifts = load_scenario_shifts(scenario)
    with opened(scenario, db_path) as store:
        version = store.latest_version()
        roster = latest_roster(store)
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
