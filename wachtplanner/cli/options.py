"""Shared arguments and options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from wachtplanner.solver import SolverParams

FC = TypeVar("FC", bound=Callable[..., Any])

scenario_argument = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def output_dir_option(help_text: str) -> Callable[[FC], FC]:
    """Return the required ``-o/--output`` folder option."""
    return click.option(
        "-o",
        "--output",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help=help_text,
    )


time_limit_option = click.option(
    "--time-limit",
    "time_limit_s",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds for all solver stages together.",
)
workers_option = click.option(
    "--workers",
    "num_workers",
    type=click.IntRange(min=1),
    default=None,
    help="CP-SAT worker threads [default: CPU count, at most 8].",
)
previous_option = click.option(
    "--previous",
    "previous",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The previously published roster.json: unchanged duties keep their feed identity, "
    "duties whose times changed get SEQUENCE + 1.",
)


def solver_params(
    time_limit_s: float, num_workers: int | None, random_seed: int = 0
) -> SolverParams:
    """Return solver parameters from the command-line options (workers default per machine)."""
    settings: dict[str, float | int] = {"time_limit_s": time_limit_s, "random_seed": random_seed}
    if num_workers is not None:
        settings["num_workers"] = num_workers
    return SolverParams.model_validate(settings)


language_option = click.option(
    "--lang",
    "language",
    type=click.Choice(["nl", "en"]),
    default="nl",
    show_default=True,
    help="Language of the workbook, report and grid.",
)
