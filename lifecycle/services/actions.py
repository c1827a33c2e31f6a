"""Install and uninstall as the CLI (and the controller) run them: plan saved, change recorded.

A change to the system is a ``service_installed`` / ``service_uninstalled`` event with the
track, the file or task name, the plan and every external command that was run.  A
no-op install writes no event; it says so instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from hermes_lifecycle.errors import ServiceError
from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import Platform, current_platform
from hermes_lifecycle.services.base import InstallOutcome, InstallPlan, Removal, ServiceManager
from hermes_lifecycle.services.installed import plan_path

ROLE = "service-manager"


def service_manager_for(home: Home, platform: Platform | None = None,
                        env: Mapping[str, str] | None = None) -> ServiceManager:
    """This platform's service manager for ``home``, chosen by the platform's name."""
    from hermes_lifecycle.services.registry import manager_for

    return manager_for(platform or current_platform(), home, env)


def is_installed(home: Home, platform: Platform | None = None) -> bool:
    """The controller's call-out: True when start/stop/restart must go through a service manager."""
    return service_manager_for(home, platform).is_installed()


def install(home: Home, plan: InstallPlan, manager: ServiceManager, *,
            start_now: bool | None = None, linger: bool = False) -> InstallOutcome:
    """Save the plan, apply it, and record the change (if any) in the journal.

    ``start_now=False`` holds back the plan's start for this run only (a gateway of this
    profile already runs): the saved and recorded plan stay as they were decided.
    ``linger`` turns systemd's lingering on first (which also starts a user manager where none
    ran), recorded with the install even when the definition itself was unchanged."""
    home.ensure_private_dir()
    plan.save(plan_path(home))
    manager.commands.clear()
    manager.written = None
    applied = plan if start_now is None else replace(plan, start_now=start_now)
    try:
        if linger:
            manager.enable_linger()
        outcome = manager.install(applied)
        outcome.linger_enabled = linger
    except ServiceError as exc:
        if manager.written is not None:  # the definition is on disk: the log must say so
            _record_installed(home, manager, plan, manager.written, error=str(exc))
        raise
    if outcome.changed or linger:
        _record_installed(home, manager, plan, outcome)
    return outcome


def _record_installed(home: Home, manager: ServiceManager, plan: InstallPlan, outcome: InstallOutcome,
                      error: str | None = None) -> None:
    data: dict[str, Any] = {
        "track": outcome.track, "definition": outcome.definition, "manager": manager.name,
        "replaced": outcome.replaced, "started": outcome.started, "plan": plan.to_json(),
        "commands": manager.commands,
    }
    if outcome.linger_enabled:
        data["linger_enabled"] = True
    if outcome.fallback_reason:
        data["fallback_reason"] = outcome.fallback_reason
    if error is not None:
        data["error"] = error
    with Journal(home) as journal:
        journal.fire("service_installed", actor=who(ROLE), reason=outcome.message if error is None
                     else f"{outcome.message}, then: {error}", data=data)


def uninstall(home: Home, manager: ServiceManager) -> list[Removal]:
    """Remove this home's and profile's tracks; one ``service_uninstalled`` event per track."""
    manager.commands.clear()
    removals = manager.uninstall()
    if removals:
        with Journal(home) as journal:
            for removal in removals:
                journal.fire("service_uninstalled", actor=who(ROLE), reason=f"removed {removal.definition}",
                             data={"track": removal.track, "definition": removal.definition,
                                   "manager": manager.name, "commands": manager.commands})
    return removals
