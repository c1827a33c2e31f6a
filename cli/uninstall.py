"""``hermes-lifecycle uninstall``: remove this home's and profile's service definitions."""

from __future__ import annotations

import click

from hermes_lifecycle import Home
from hermes_lifecycle.cli.output import emit_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_obj
def uninstall(home: Home, as_json: bool) -> None:
    """Remove every service track (unit, agent, task, Startup file) that runs THIS home and
    profile; definitions of other homes or profiles are left alone.

    A gateway the service runs is stopped first the way `stop` does it (stop request,
    drain, then the manager's stop), so uninstalling never cuts a conversation.  When
    that stop fails the definitions are still removed, and the exit code is 1.
    """
    from hermes_lifecycle import ALIVE_STATES, Journal, current_platform, service_manager_for, uninstall_service
    from hermes_lifecycle import reconcile_journal as reconcile

    platform = current_platform()
    manager = service_manager_for(home, platform)
    stopped = None
    if manager.is_installed():
        with Journal(home) as journal:
            if reconcile(journal).state in ALIVE_STATES:
                from hermes_lifecycle import stop_through_service

                stopped = stop_through_service(journal, platform, manager)
    removals = uninstall_service(home, manager)
    failed = stopped is not None and stopped.result == "failed"
    if as_json:
        emit_json({"profile": home.profile, "manager": manager.name,
                   "stopped": stopped.to_json() if stopped else None,
                   "removed": [{"track": r.track, "definition": r.definition} for r in removals]})
    else:
        if stopped is not None:
            click.echo(stopped.message, err=failed)
        if not removals:
            click.echo(f"nothing to uninstall: no {manager.name} service runs home {home.root} profile {home.profile}")
        for removal in removals:
            click.echo(f"removed {removal.track}: {removal.definition}")
    if failed:
        from hermes_lifecycle import CommandExit

        click.get_current_context().exit(CommandExit.FAILED)
