"""``hermes gateway uninstall``: remove this home's and profile's service definitions."""

from __future__ import annotations

import click

from cli.output import emit_json
from lifecycle.home import Home


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_obj
def uninstall(home: Home, as_json: bool) -> None:
    """Remove every service track (unit, agent, task, Startup file) that runs THIS home and
    profile; definitions of other homes or profiles are left alone."""
    from lifecycle.services import actions

    manager = actions.service_manager_for(home)
    removals = actions.uninstall(home, manager)
    if as_json:
        emit_json({"profile": home.profile, "manager": manager.name,
                   "removed": [{"track": r.track, "definition": r.definition} for r in removals]})
        return
    if not removals:
        click.echo(f"nothing to uninstall: no {manager.name} service runs home {home.root} profile {home.profile}")
    for removal in removals:
        click.echo(f"removed {removal.track}: {removal.definition}")
