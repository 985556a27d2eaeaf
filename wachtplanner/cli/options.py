"""Shared arguments and options."""

from __future__ import annotations

from pathlib import Path

import click

scenario_argument = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
