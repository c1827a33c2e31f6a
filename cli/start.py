"""``hermes-lifecycle start``: spawn the gateway detached and report it once it is ready."""

from __future__ import annotations

import click

from hermes_lifecycle import CLI, Home
from hermes_lifecycle.cli.output import emit_json


@click.command()  # run options only after `--`: a mistyped start option is a usage error
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              metavar="S", help="Seconds to wait for the new run's `ready` event.")
@click.option("--no-wait", is_flag=True,
              help="Return once the run is recorded (`starting`), without waiting for `ready`.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.argument("run_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- RUN-OPTIONS]")
@click.pass_obj
def start(home: Home, timeout: float, no_wait: bool, as_json: bool, run_args: tuple[str, ...]) -> None:
    """Start the gateway in the background (detached from this shell).

    Prints the pid and port once the gateway is ready.  A gateway that is already
    running is not an error: exit 0, and the running one is named.  If the gateway
    dies while starting, the tail of its log is printed and the exit code is 1.
    Options after `--` go to `hermes-lifecycle run` (e.g. `-- --port 8080 --drain-timeout 10`).
    """
    _check_run_options(run_args)
    from hermes_lifecycle import CommandExit, Countdown, Journal, current_platform, hermes_agent_gateway, start_gateway

    foreign = hermes_agent_gateway(home, current_platform())
    if foreign is not None:  # checked before state.db is opened: nothing is started or written
        if as_json:
            emit_json({"profile": home.profile, "result": "failed", "state": None, "pid": None, "port": None,
                       "run_id": None, "message": foreign, "exit_code": int(CommandExit.FAILED), "log_tail": ""})
        else:
            click.echo(f"{CLI}: {foreign}", err=True)
        click.get_current_context().exit(CommandExit.FAILED)
    with Journal(home) as journal:
        outcome = start_gateway(journal, timeout=timeout, wait_ready=not no_wait, run_args=run_args,
                                countdown=Countdown())
    if as_json:
        emit_json({"profile": home.profile, **outcome.to_json(), "log_tail": outcome.log_tail})
    else:
        click.echo(outcome.message, err=outcome.exit_code != 0)
        if outcome.log_tail:
            click.echo(f"last lines of {home.stdio_log}:", err=True)
            click.echo(outcome.log_tail, err=True)
    click.get_current_context().exit(outcome.exit_code)


def _group_path(ctx: click.Context) -> str:
    """How the user reached the group of ``start`` (``hermes-lifecycle``, ``hermes lifecycle``...)."""
    return ctx.parent.command_path if ctx.parent is not None else CLI


def _check_run_options(run_args: tuple[str, ...]) -> None:
    """Parse the options meant for `run` here, before anything is spawned: a mistyped one is a
    usage error (exit 2) now, not a gateway that dies while starting."""
    if not run_args:
        return
    from hermes_lifecycle.cli.run import run as run_command

    parent = click.get_current_context()
    if any(arg in ("--help", "-h") for arg in run_args):
        raise click.UsageError(
            f"`--help` after `--` would start nothing: see `{_group_path(parent)} run --help`", parent)
    run_command.make_context("run", list(run_args), parent=parent.parent)  # errors name `hermes-lifecycle run`
