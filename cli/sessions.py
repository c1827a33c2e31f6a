"""``hermes-lifecycle sessions``: the conversations of a profile, with their resume state."""

from __future__ import annotations

import click

from hermes_lifecycle import Home
from hermes_lifecycle.cli.output import emit_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_obj
def sessions(home: Home, as_json: bool) -> None:
    """List the gateway's sessions: messages, resume_pending, and parked poison pills."""
    from hermes_lifecycle import Journal, SessionStore

    with Journal(home) as journal:
        found = SessionStore(journal).list()
    if as_json:
        emit_json({"profile": home.profile, "sessions": [s.to_json() for s in found]})
        return
    if not found:
        click.echo(f"gateway {home.profile}: no sessions")
        return
    from hermes_lifecycle import local_at

    width = max(len("session"), *(len(s.id) for s in found))  # a long id widens the column, not the row
    click.echo(f"{'session':<{width}} {'messages':>8}  {'state':<15} updated")
    for s in found:
        state = "parked" if s.parked else "resume_pending" if s.resume_pending else "-"
        click.echo(f"{s.id:<{width}} {s.messages:>8}  {state:<15} {local_at(s.updated_at)}")
        if s.parked:
            click.echo(f"  parked at {local_at(s.parked_at)}: interrupted {s.interruptions} times in a row "
                       f"(runs {', '.join(s.interrupted_runs)}); reopen it to continue")
