"""``wachtplanner import``: a coordinator's GP list (xlsx or csv) into scenario YAML."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from wachtplanner.io.atomic import write_file_atomically
from wachtplanner.io.doctor_import import import_doctors


@click.command("import")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the YAML here instead of printing it.",
)
def command(source: Path, output: Path | None) -> None:
    """Turn SOURCE (name, practice, area, fte, birth date, gmd, leave, avoid) into YAML.

    Dutch or English headers (naam, praktijk, wachtgebied, vte, geboortedatum, verlof,
    vermijden, ...), Belgian numbers (0,8) and dates (01/02/1970) are read; unknown columns
    are warned about on stderr. Bad rows are reported by row number and column, all at once
    (exit 3).
    """
    warnings: list[str] = []
    sections = import_doctors(source, warnings)
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    text = yaml.safe_dump(sections, sort_keys=False, allow_unicode=True, width=100)
    if output is None:
        click.echo(text, nl=False)
        return
    write_file_atomically(output, text.encode("utf-8"))
    click.echo(
        f"Wrote {len(sections['doctors'])} doctors and {len(sections['practices'])} practices "
        f"to {output}."
    )
