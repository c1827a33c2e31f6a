"""``hermes-lifecycle wait``: block until the profile reaches a state."""

from __future__ import annotations

import click

from hermes_lifecycle import STATE_NAMES, Home
from hermes_lifecycle.cli.output import emit_json


@click.command()
@click.option("--state", "target", type=click.Choice(STATE_NAMES), required=True,
              help="The state to wait for.")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="S",
              help="Give up after S seconds (default: wait for ever).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_obj
def wait(home: Home, target: str, timeout: float | None, as_json: bool) -> None:
    """Wait until the gateway is in STATE (exit 0), or the timeout passes, or STATE can no
    longer come because the run ended in another rest state (exit 1)."""
    from hermes_lifecycle import Countdown, Journal, human, wait_for_state

    with Journal(home) as journal:
        outcome = wait_for_state(journal, target, timeout, Countdown())
    if as_json:
        emit_json({"profile": home.profile, **outcome.to_json()})
    else:
        said = {"reached": "",
                "timeout": f": still not {target} after {human(outcome.waited_s)}",
                "unreachable": f": its run ended, so it will not be {target}"}
        click.echo(f"gateway {home.profile} is {outcome.state}{said[outcome.reason]}", err=not outcome.reached)
    click.get_current_context().exit(outcome.exit_code)
