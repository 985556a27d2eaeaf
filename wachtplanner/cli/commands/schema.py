"""``wachtplanner schema``: the scenario's JSON Schema, for editors."""

from __future__ import annotations

import json

import click

from wachtplanner.domain.scenario import Scenario


@click.command("schema")
def command() -> None:
    """Print the JSON Schema of scenario files."""
    click.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))
