"""``hermes gateway status``: the current state, and the transitions that led there."""

from __future__ import annotations

import click

from cli.output import emit_json
from lifecycle.home import Home

DEFAULT_HISTORY = 20


def _transition_json(event) -> dict:
    return {
        "seq": event.seq,
        "at": event.at,
        "from": event.from_state,
        "to": event.to_state,
        "trigger": event.trigger,
        "run_id": event.run_id,
        "actor": event.actor,
        "reason": event.reason,
    }


@click.command()
@click.option("--history", is_flag=True, help="Also show the transitions that led to this state.")
@click.option("-n", "limit", type=click.IntRange(min=1), default=DEFAULT_HISTORY, show_default=True,
              help="How many transitions --history shows (the newest).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_obj
def status(home: Home, history: bool, limit: int, as_json: bool) -> None:
    """Show the gateway's state: stopped, starting, running, draining, killed or crashed.

    A state that says a process is alive is checked against the process table first;
    a gateway that vanished is recorded as `lost` and shown as crashed.
    """
    from lifecycle.journal import Journal

    with Journal(home) as journal:
        current = journal.state()
        from lifecycle.machine import ALIVE_STATES

        if current.state in ALIVE_STATES:
            from lifecycle.reconcile import reconcile

            current = reconcile(journal)
        transitions = journal.recent_transitions(limit) if history else []

    if as_json:
        document = {
            "profile": home.profile,
            "state": current.state,
            "pid": current.pid,
            "run_id": current.run_id,
            "since": current.since,
            "port": current.port,
            "version": current.version,
        }
        if history:
            document["history"] = [_transition_json(e) for e in transitions]
        emit_json(document)
        return

    facts = []
    if current.pid is not None:
        facts.append(f"pid {current.pid}")
    if current.port is not None:
        facts.append(f"port {current.port}")
    detail = f" ({', '.join(facts)})" if facts else ""
    since = f" since {current.since}" if current.since else ""
    click.echo(f"gateway {home.profile}: {current.state}{detail}{since}")
    if current.run_id:
        click.echo(f"run: {current.run_id}")
    if history:
        if not transitions:
            click.echo("history: no transitions recorded yet")
        else:
            click.echo("history (oldest first):")
            for e in transitions:
                who = e.actor.split(" ")[0]
                why = f"  {e.reason}" if e.reason else ""
                click.echo(f"  {e.seq:>6}  {e.at}  {e.from_state:>8} -> {e.to_state:<8}  "
                           f"{e.trigger:<12} {who}{why}")
