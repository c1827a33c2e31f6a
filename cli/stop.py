"""``hermes gateway stop``: ask the gateway to drain, wait, and force it only if it must."""

from __future__ import annotations

import time

import click

from hermes_lifecycle.cli.output import emit_json
from hermes_lifecycle.home import Home

#: When this command began (as early as the CLI lets us see): `--timeout` counts from here.
COMMAND_STARTED = time.monotonic()


@click.command()
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="S",
              help="Seconds from running this command until the gateway must be gone; force is used "
                   "in the last part (default: the run's drain timeout + 3, i.e. 33 by default).")
@click.option("--force", is_flag=True, help="Skip the drain wait: terminate the tree, short grace, kill.")
@click.option("--all", "take_all", is_flag=True,
              help="Also stop stray gateway processes of this profile that the log does not know.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.option("--from-service-manager", "from_manager", is_flag=True, hidden=True,
              help="What the systemd unit's ExecStop=/ExecStopPost= run: a planned stop of $MAINPID, "
                   "and the end systemd saw; never calls systemctl.")
@click.pass_obj
def stop(home: Home, timeout: float | None, force: bool, take_all: bool, as_json: bool,
         from_manager: bool) -> None:
    """Stop the gateway: stop request, SIGTERM (POSIX), drain wait, then escalation.

    Exit codes: 0 stopped cleanly or not running; 3 stopped, but only by force;
    1 it could not be stopped.
    """
    from hermes_lifecycle.controller.countdown import Countdown
    from hermes_lifecycle.controller.stop import stop_gateway
    from hermes_lifecycle.journal import Journal
    from hermes_lifecycle.platforms import current_platform
    from hermes_lifecycle.services.installed import installed_service

    platform = current_platform()
    if from_manager:
        import os

        from hermes_lifecycle.services.systemd_hooks import from_service_manager

        with Journal(home) as journal:
            click.echo(f"hermes gateway stop --from-service-manager: "
                       f"{from_service_manager(journal, platform, os.environ)}")
        return  # exit 0 whatever happened: a failing stop hook would mark the unit failed
    with Journal(home) as journal:
        service = installed_service(home, platform, strict=False)  # the drain needs no manager
        if service is not None:  # installed as a service: drain first, then the manager's stop
            from hermes_lifecycle.services.controlled import stop_through_service

            outcome = stop_through_service(journal, platform, service, timeout=timeout, force=force,
                                           countdown=Countdown())
        else:
            age = platform.own_age()  # from the process's creation, if the OS can tell precisely
            began = COMMAND_STARTED if age is None else time.monotonic() - age
            outcome = stop_gateway(journal, platform, timeout=timeout, force=force, countdown=Countdown(),
                                   started_at=began)
        strays = []
        if take_all:
            from hermes_lifecycle.controller.strays import stop_strays

            strays = stop_strays(journal, platform, timeout=timeout, force=force)
    code = max([outcome.exit_code, *(s.exit_code for s in strays)], key=_severity)
    if as_json:
        emit_json({"profile": home.profile, **outcome.to_json(), "exit_code": code,
                   "strays": [s.to_json() for s in strays]})
    else:
        click.echo(outcome.message, err=outcome.exit_code == 1)
        for stray in strays:
            click.echo(stray.message, err=stray.exit_code == 1)
    click.get_current_context().exit(code)


def _severity(code: int) -> int:
    """1 (could not stop) outranks 3 (forced), which outranks 0."""
    return {0: 0, 3: 1, 1: 2}.get(code, 2)
