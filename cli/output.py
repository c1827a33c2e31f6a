"""What commands print: JSON documents on stdout, diagnostics on stderr."""

from __future__ import annotations

import json
from typing import Any

import click

#: Carried by every JSON document; keys are only ever added within a version.
SCHEMA_VERSION = 1


def emit_json(document: dict[str, Any], *, compact: bool = False) -> None:
    payload = {"schema_version": SCHEMA_VERSION, **document}
    if compact:
        click.echo(json.dumps(payload, separators=(",", ":"), default=str))
    else:
        click.echo(json.dumps(payload, indent=2, default=str))


def use_colour() -> bool:
    """See :func:`hermes_lifecycle.cli.terminal.use_colour`: ``--color``, ``NO_COLOR``, a terminal."""
    from hermes_lifecycle.cli.terminal import use_colour as decide

    return decide()
