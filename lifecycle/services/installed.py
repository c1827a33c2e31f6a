"""Whether ``start``, ``stop`` and ``restart`` must go through a service manager.

Asked on every one of those commands, and almost always answered "no".  ``hermes-lifecycle
install`` saves its plan under the home before it touches the system, so a home and
profile without a saved plan has no service of ours: that answer costs one ``stat`` and
imports none of the managers.  With a plan, the manager itself is asked (the plan stays
after an uninstall, and a definition may have been removed by hand).  ``status`` answers
"not installed" the same way; it describes what the manager sees (including a definition
of the same name that runs another home) once this home has installed a service.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.home import Home

if TYPE_CHECKING:
    from hermes_lifecycle.platforms import Platform
    from hermes_lifecycle.services.base import ServiceManager


#: The service manager each platform's seam picks (``Platform.service_manager``).
MANAGER_OF_PLATFORM = {"linux": "systemd", "macos": "launchd", "windows": "windows"}
#: What ``status`` suggests where no service is installed, per manager.
INSTALL_HINTS = {
    "systemd": f"install a user unit with `{CLI} install`",
    "launchd": f"install a launchd agent with `{CLI} install`",
    "windows": f"install a logon task with `{CLI} install`",
}


def plan_path(home: Home) -> Path:
    """Where the last install plan of a profile is kept (read back by ``install --plan``)."""
    return home.root / "services" / f"{home.profile}.plan.json"


def installed_service(home: Home, platform: "Platform", *, strict: bool = True) -> "ServiceManager | None":
    """The service manager to go through, or None when no service runs this home and profile.

    A manager that cannot say (Task Scheduler not answering) is a ServiceError, so that
    ``start`` never spawns a detached gateway beside a service it could not see; with
    ``strict=False`` (``stop``: the controller's drain works without the manager) it is None."""
    if not plan_path(home).is_file():
        return None  # `install` never ran here: nothing of ours can be installed
    from hermes_lifecycle.errors import ServiceError, ServiceLocationError
    from hermes_lifecycle.services.registry import manager_for

    manager = manager_for(platform, home)
    try:
        return manager if manager.is_installed() else None
    except ServiceLocationError:
        return None  # no $HOME / %APPDATA%: nothing can be installed where we would look
    except ServiceError:
        if strict:
            raise
        return None


def never_installed(home: Home, platform: "Platform") -> dict[str, Any] | None:
    """The ``service`` object of ``status`` where ``install`` never ran for this home and
    profile (the common case: no manager is imported or asked), else None: ask the manager.

    Its keys are those of :class:`hermes_lifecycle.services.base.ServiceStatus`."""
    manager = MANAGER_OF_PLATFORM.get(platform.name)
    if manager is None or plan_path(home).is_file():
        return None
    return {"manager": manager, "track": None, "definition": None, "installed": False, "running": None,
            "autostart": None, "warnings": [], "hints": [INSTALL_HINTS[manager]]}
