"""``hermes-lifecycle install``: register the gateway with this platform's service manager.

Starting now and starting at logon are separate choices.  The choices become an
:class:`InstallPlan`, saved in the home before anything is touched; ``--plan FILE``
executes a saved plan (what a process started after an elevation handoff runs), so the
decisions travel as data, not as flags parsed twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from hermes_lifecycle import CLI, Home
from hermes_lifecycle.cli.output import emit_json

if TYPE_CHECKING:
    from hermes_lifecycle import InstallPlan, StartOutcome


@click.command()
@click.option("--start/--no-start", "start_now", default=True, show_default=True,
              help="Start the gateway now, through the service manager.")
@click.option("--autostart/--no-autostart", default=True, show_default=True,
              help="Start the gateway at every logon.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Execute a saved install plan (JSON) instead of deciding from flags.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              metavar="S", help="Seconds to wait for the started gateway's `ready` event.")
@click.option("--linger", is_flag=True,
              help="systemd: turn lingering on (`loginctl enable-linger`), so the gateway starts at boot "
                   "without a login.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_context
def install(ctx: click.Context, start_now: bool, autostart: bool, plan_file: Path | None, timeout: float,
            linger: bool, as_json: bool) -> None:
    """Install the gateway as a user service: a systemd user unit (Linux), a launchd agent
    (macOS) or a logon Scheduled Task with a Startup-folder fallback (Windows).

    Installing twice changes nothing and says so; a definition for another interpreter,
    other arguments, home or profile is replaced.  A gateway started now is reported once
    it is ready (exit 1 if it is not); one already running is left alone, not doubled.
    """
    from hermes_lifecycle import (
        ALIVE_STATES,
        InstallPlan,
        Journal,
        UsageError,
        drain_timeout,
        install_service,
        service_manager_for,
    )
    from hermes_lifecycle import reconcile_journal as reconcile

    home: Home = ctx.obj
    if plan_file is not None:
        explicit = [name for name in ("start_now", "autostart")
                    if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
        if explicit:
            raise UsageError("--plan carries every decision; drop --start/--no-start and --autostart/--no-autostart")
        plan = InstallPlan.load(plan_file)
        home = _home_of_plan(ctx, home, plan)
    else:
        plan = InstallPlan.for_home(home, drain_timeout=drain_timeout(home), autostart=autostart,
                                    start_now=start_now)
    manager = service_manager_for(home)
    manager.verify_plan(plan)  # a plan for another home or profile touches nothing
    with Journal(home) as journal:
        before = reconcile(journal)
    running = plan.start_now and before.state in ALIVE_STATES
    outcome = install_service(home, plan, manager, start_now=False if running else None, linger=linger)
    boot = manager.boot_note(plan.autostart)
    start = _already_running(before, manager) if running else None
    if outcome.started:
        from hermes_lifecycle import Countdown, wait_for_new_run

        with Journal(home) as journal:
            start = wait_for_new_run(journal, manager, after_seq=before.last_seq, old_run=None, timeout=timeout,
                                     wait_ready=True, countdown=Countdown())
    if as_json:
        emit_json({"profile": home.profile, "manager": manager.name, "track": outcome.track,
                   "definition": outcome.definition, "changed": outcome.changed, "replaced": outcome.replaced,
                   "started": outcome.started, "fallback_reason": outcome.fallback_reason,
                   "message": outcome.message, "boot": boot, "linger_enabled": outcome.linger_enabled,
                   "plan": plan.to_json(),
                   "start": start.to_json() if start else None})
    else:
        click.echo(outcome.message)
        if outcome.replaced:
            click.echo(f"replaced because {outcome.replaced}")
        if start is not None:
            click.echo(start.message, err=start.exit_code != 0)
        click.echo("starts at every logon" if plan.autostart
                   else f"does not start at logon (`{CLI} start` starts it)")
        if boot is not None:
            click.echo(boot)
    ctx.exit(start.exit_code if start else 0)


def _home_of_plan(ctx: click.Context, home: Home, plan: "InstallPlan") -> Home:
    """The plan names its home and profile; ``--home`` / ``--profile`` typed on the command
    line may confirm them (a contradiction is refused later), but where they were not typed
    the plan's are used: a process after an elevation handoff gets the plan, not the flags."""
    group = ctx.parent  # the `gateway` group, whose options --home and --profile are
    assert group is not None, "install runs under the gateway group"
    typed = {name: group.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
             for name in ("home", "profile")}
    if all(typed.values()):
        return home
    return Home.resolve(home.root if typed["home"] else plan.home, home.profile if typed["profile"] else plan.profile)


def _already_running(current, manager) -> "StartOutcome":
    """The gateway that runs already: not doubled by a second start through the manager."""
    from hermes_lifecycle import StartOutcome

    where = "under the service" if manager.is_running() else (
        f"outside the service: not starting a second one; `{CLI} restart` hands it to the service")
    return StartOutcome("already_running", current.state, current.pid, current.port, current.run_id,
                        f"gateway already running (pid {current.pid}, {current.state}) {where}")
