"""``hermes gateway install``: register the gateway with this platform's service manager.

Starting now and starting at logon are separate choices.  The choices become an
:class:`InstallPlan`, saved in the home before anything is touched; ``--plan FILE``
executes a saved plan (what a process started after an elevation handoff runs), so the
decisions travel as data, not as flags parsed twice.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.output import emit_json
from lifecycle.home import Home


@click.command()
@click.option("--start/--no-start", "start_now", default=True, show_default=True,
              help="Start the gateway now, through the service manager.")
@click.option("--autostart/--no-autostart", default=True, show_default=True,
              help="Start the gateway at every logon.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Execute a saved install plan (JSON) instead of deciding from flags.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_context
def install(ctx: click.Context, start_now: bool, autostart: bool, plan_file: Path | None, as_json: bool) -> None:
    """Install the gateway as a user service: a systemd user unit (Linux), a launchd agent
    (macOS) or a logon Scheduled Task with a Startup-folder fallback (Windows).

    Installing twice changes nothing and says so; a definition for another interpreter,
    other arguments, home or profile is replaced.
    """
    from lifecycle.config import drain_timeout
    from lifecycle.errors import UsageError
    from lifecycle.services import actions
    from lifecycle.services.base import InstallPlan

    home: Home = ctx.obj
    if plan_file is not None:
        explicit = [name for name in ("start_now", "autostart")
                    if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
        if explicit:
            raise UsageError("--plan carries every decision; drop --start/--no-start and --autostart/--no-autostart")
        plan = InstallPlan.load(plan_file)
    else:
        plan = InstallPlan.for_home(home, drain_timeout=drain_timeout(home), autostart=autostart,
                                    start_now=start_now)
    manager = actions.service_manager_for(home)
    outcome = actions.install(home, plan, manager)
    if as_json:
        emit_json({"profile": home.profile, "manager": manager.name, "track": outcome.track,
                   "definition": outcome.definition, "changed": outcome.changed, "replaced": outcome.replaced,
                   "started": outcome.started, "fallback_reason": outcome.fallback_reason,
                   "message": outcome.message, "plan": plan.to_json()})
        return
    click.echo(outcome.message)
    if outcome.replaced:
        click.echo(f"replaced because {outcome.replaced}")
    if outcome.started:
        click.echo("started the gateway through the service manager")
    click.echo("starts at every logon" if plan.autostart else "does not start at logon (`hermes gateway start` starts it)")
