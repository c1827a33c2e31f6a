"""``hermes-lifecycle diagram``: the machine, drawn from its one table."""

from __future__ import annotations

import click

from hermes_lifecycle import DIAGRAM_FORMATS as FORMATS
from hermes_lifecycle import render_diagram as render


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="mermaid", show_default=True,
              help="mermaid (stateDiagram-v2), dot (Graphviz) or markdown (the README's table).")
def diagram(fmt: str) -> None:
    """Print the lifecycle state machine.

    Generated from the same table the machine is built from, so it is always the
    truth.  Example: hermes-lifecycle diagram --format dot | dot -Tsvg > lifecycle.svg
    """
    click.echo(render(fmt), nl=False)
