"""``hermes-lifecycle timeline``: the recent runs as a picture (SVG) or a Mermaid gantt chart."""

from __future__ import annotations

from pathlib import Path

import click

from hermes_lifecycle import Home


@click.command()
@click.option("-n", "--runs", "last", type=click.IntRange(min=1, max=500), default=10, show_default=True,
              metavar="N", help="How many of the newest runs to draw (at most 500).")
@click.option("--format", "fmt", type=click.Choice(["svg", "mermaid"]), default="svg", show_default=True,
              help="svg (a standalone picture) or mermaid (a gantt chart for Markdown).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE instead of stdout.")
@click.pass_obj
def timeline(home: Home, last: int, fmt: str, output: Path | None) -> None:
    """Draw each recent run's states over time, with kills and crashes marked.

    A run the log says is alive but whose process is gone is first recorded as `lost`
    (as `status` does).  Example: hermes-lifecycle timeline -n 20 -o runs.svg
    """
    from hermes_lifecycle import Journal, UsageError, mermaid_gantt, recent_lanes
    from hermes_lifecycle import reconcile_journal as reconcile

    with Journal(home) as journal:
        reconcile(journal)
        lanes = recent_lanes(journal.conn, home.profile, last)
    if fmt == "svg":
        from hermes_lifecycle import render_svg

        document = render_svg(lanes, home.profile)
    else:
        document = mermaid_gantt(lanes, home.profile)
    if output is None:
        click.echo(document, nl=False)
        return
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {len(lanes)} run(s) to {output}", err=True)
