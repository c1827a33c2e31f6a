"""``hermes-lifecycle stop``: ask the gateway to drain, wait, and force it only if it must."""

from __future__ import annotations

import time

import click

from hermes_lifecycle import CLI, Home
from hermes_lifecycle.cli.output import emit_json

#: When this command began (as early as the CLI lets us see): `--timeout` counts from here.
COMMAND_STARTED = time.monotonic()


@click.command()
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="S",
              help="Seconds from running this command until the gateway must be gone; force is used "
                   "in the last part (default: the run's drain timeout + 3, i.e. 33 by default).")
@click.option("--force", is_flag=True, help="Skip the drain wait: terminate the tree, short grace, kill.")
@click.option("--strays", "strays_too", is_flag=True,
              help="Also stop stray gateway processes of this profile that the log does not know.")
@click.option("--all", "every_profile", is_flag=True,
              help="Stop the gateway of every profile of the home, one after the other (as `supervisorctl stop all`).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.option("--from-service-manager", "from_manager", is_flag=True, hidden=True,
              help="What the systemd unit's ExecStop=/ExecStopPost= run: a planned stop of $MAINPID, "
                   "and the end systemd saw; never calls systemctl.")
@click.pass_obj
def stop(home: Home, timeout: float | None, force: bool, strays_too: bool, every_profile: bool,
         as_json: bool, from_manager: bool) -> None:
    """Stop the gateway: stop request, SIGTERM (POSIX), drain wait, then escalation.

    Exit codes: 0 stopped after a complete drain, or not running; 4 stopped, but its
    drain timed out and in-flight work was abandoned; 3 stopped, but only by force;
    1 it could not be stopped (with --all: the worst of the profiles).
    """
    if from_manager:
        _stop_from_service_manager(home)
        return  # exit 0 whatever happened: a failing stop hook would mark the unit failed
    from hermes_lifecycle import CommandExit, worst

    profiles = home.profiles() if every_profile else [home]
    documents, codes = [], []
    for profile in profiles:
        outcome, strays = _stop_profile(profile, timeout, force, strays_too)
        code = worst([outcome.exit_code, *(s.exit_code for s in strays)])
        codes.append(code)
        documents.append({"profile": profile.profile, **outcome.to_json(), "exit_code": code,
                          "strays": [s.to_json() for s in strays]})
        if not as_json:
            for done in (outcome, *strays):
                named = not every_profile or f"gateway {profile.profile} " in done.message
                click.echo(done.message if named else f"{profile.profile}: {done.message}",
                           err=done.exit_code == CommandExit.FAILED)
    code = worst(codes)
    if as_json:
        emit_json({"home": str(home.root), "profiles": documents, "exit_code": code} if every_profile
                  else documents[0])
    elif every_profile and not profiles:
        click.echo(f"no profile has recorded an event in {home.root}: nothing to stop")
    click.get_current_context().exit(code)


def _stop_profile(home: Home, timeout: float | None, force: bool, strays_too: bool):
    """Stop one profile's gateway (and, asked, its strays) through the controller's one entry
    (through its service where one is installed, else directly): its outcome and the strays'."""
    from hermes_lifecycle import Countdown, Journal, current_platform, stop_gateway

    platform = current_platform()
    with Journal(home) as journal:
        outcome = stop_gateway(journal, platform, timeout=timeout, force=force, countdown=Countdown(),
                               command_started=COMMAND_STARTED)
        strays = []
        if strays_too:
            from hermes_lifecycle import stop_strays

            strays = stop_strays(journal, platform, timeout=timeout, force=force)
    return outcome, strays


def _stop_from_service_manager(home: Home) -> None:
    """What the systemd unit's ExecStop=/ExecStopPost= run: a planned stop of $MAINPID, and the
    end systemd saw; never calls systemctl."""
    import os

    from hermes_lifecycle import Journal, current_platform, stop_from_service_manager

    with Journal(home) as journal:
        click.echo(f"{CLI} stop --from-service-manager: "
                   f"{stop_from_service_manager(journal, current_platform(), os.environ)}")
