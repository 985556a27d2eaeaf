"""The ``wachtplanner`` command. Only this package knows click; it maps errors to exit codes.

Exit codes: 0 ok · 1 internal error · 2 usage · 3 invalid scenario or roster file ·
4 no feasible roster · 5 roster breaks hard rules.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from wachtplanner import __version__
from wachtplanner.exceptions import (
    InputFileError,
    OutputFolderError,
    ScenarioInfeasibleError,
    SolverError,
    StoreError,
    WachtplannerError,
)

EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_HARD_VIOLATION = 1, 2, 3, 4, 5


COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "command"),
    "solve": ("solve", "command"),
    "check": ("check", "command"),
    "stats": ("stats", "command"),
    "export": ("export", "command"),
    "import": ("import_doctors", "command"),
    "simulate": ("simulate", "command"),
    "sweep": ("sweep", "command"),
    "replan": ("replan", "command"),
    "publish": ("store_commands", "publish_command"),
    "swap": ("store_commands", "swap_command"),
    "undo": ("store_commands", "undo_command"),
    "versions": ("store_commands", "versions_command"),
    "audit": ("store_commands", "audit_command"),
    "token": ("store_commands", "token_group"),
    "serve": ("store_commands", "serve_command"),
    "ledger": ("store_commands", "ledger_command"),
    "collect": ("store_commands", "collect_command"),
    "schema": ("schema", "command"),
}
"""Each command's module in ``wachtplanner.cli.commands`` and its name there. A command's
module is imported when the command runs: ``validate`` need not load the web app, the store and
Dask (1.2 s of start-up when every command was loaded)."""


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"wachtplanner.cli.commands.{module}"), name)
        assert isinstance(command, click.Command)
        return command

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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
