"""The ``wachtplanner`` command. Only this package knows click; it maps errors to exit codes.

Exit codes: 0 ok · 1 internal error · 2 usage · 3 invalid scenario or roster file ·
4 no feasible roster · 5 roster breaks hard rules.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from wachtplanner import __version__
from wachtplanner.cli.commands import (
    check,
    export,
    import_doctors,
    replan,
    schema,
    simulate,
    solve,
    stats,
    store_commands,
    sweep,
    validate,
)
from wachtplanner.exceptions import (
    InputFileError,
    OutputFolderError,
    ScenarioInfeasibleError,
    SolverError,
    WachtplannerError,
)
from wachtplanner.store.db import StoreError

EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_HARD_VIOLATION = 1, 2, 3, 4, 5


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputFileError as exc:
            for issue in exc.issues:
                click.echo(str(issue), err=True)
            click.echo(f"{len(exc.issues)} problem(s) found.", err=True)
            ctx.exit(EXIT_INPUT)
        except StoreError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_INTERNAL)
        except OutputFolderError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except ScenarioInfeasibleError as exc:
            click.echo("No feasible roster:", err=True)
            for reason in exc.reasons:
                click.echo(f"  - {reason}", err=True)
            ctx.exit(EXIT_INFEASIBLE)
        except (SolverError, WachtplannerError) as exc:
            click.echo(f"Internal error: {exc}", err=True)
            ctx.exit(EXIT_INTERNAL)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            click.echo(f"Internal error: {type(exc).__name__}: {exc}", err=True)
            ctx.exit(EXIT_INTERNAL)


MAIN_HELP = (
    "On-call rosters and continuity what-ifs for Flemish GP circles.\n\n"
    "\b\n"
    "Roster:           validate, solve, check, stats, export, import, replan\n"
    "Published roster: publish, swap, undo, versions, audit, token, ledger\n"
    "Web app:          serve, collect\n"
    "Continuity:       simulate, sweep\n"
    "Editors:          schema\n\n"
    'Run "wachtplanner COMMAND --help" for each command\'s options and exit codes.'
)


@click.group(cls=_Group, help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wachtplanner")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """On-call rosters and continuity what-ifs for Flemish GP circles."""
    ctx.obj = {"debug": debug}


for command in (
    validate.command,
    solve.command,
    check.command,
    stats.command,
    export.command,
    import_doctors.command,
    simulate.command,
    sweep.command,
    replan.command,
    store_commands.publish_command,
    store_commands.swap_command,
    store_commands.undo_command,
    store_commands.versions_command,
    store_commands.audit_command,
    store_commands.token_group,
    store_commands.serve_command,
    store_commands.ledger_command,
    store_commands.collect_command,
    schema.command,
):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
