"""``hermes-lifecycle restart``: stop (intent restart) and start, as one audited operation."""

from __future__ import annotations

import click

from hermes_lifecycle import CLI, Home
from hermes_lifecycle.cli.output import emit_json


@click.command()
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="S",
              help="Budget of the stop half, as for `stop --timeout`.")
@click.option("--start-timeout", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, metavar="S", help="Seconds to wait for the new run's `ready` event.")
@click.option("--restart-id", default=None, metavar="ID",
              help="Use this restart id instead of a new one (a detached restart passes its own).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_obj
def restart(home: Home, timeout: float | None, start_timeout: float, restart_id: str | None,
            as_json: bool) -> None:
    """Restart the gateway: drain it (it exits 75), start a new run, confirm it is ready.

    Exit codes: 0 both halves succeeded; 3 the old gateway had to be forced, the new
    one is ready; 4 the old gateway's drain timed out (work abandoned), the new one is
    ready; 1 either half failed.  Run from inside the gateway's own process tree,
    it detaches first and prints the restart id (exit 0: the restart continues, unconfirmed).
    """
    from hermes_lifecycle import Countdown, Journal, restart_gateway

    with Journal(home) as journal:
        outcome = restart_gateway(journal, timeout=timeout, start_timeout=start_timeout, restart_id=restart_id,
                                  countdown=Countdown())
    if as_json:
        emit_json({"profile": home.profile, **outcome.to_json()})
    elif outcome.detached_pid is not None:
        # not `wait --state running`: the old run is still running at this moment
        click.echo(f"restart {outcome.restart_id} continues detached (pid {outcome.detached_pid}); "
                   f"`{CLI} status --history` shows the run it starts (`started by restart "
                   f"{outcome.restart_id}`)")
    else:
        for half in (outcome.stop, outcome.start):
            if half is not None:
                click.echo(half.message, err=half.exit_code == 1)
        click.echo(f"restart {outcome.restart_id}: exit {outcome.exit_code}")
    click.get_current_context().exit(outcome.exit_code)
