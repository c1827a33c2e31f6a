"""Whether ``start``, ``stop`` and ``restart`` must go through a service manager.

Asked on every one of those commands, and almost always answered "no".  ``hermes gateway
install`` saves its plan under the home before it touches the system, so a home and
profile without a saved plan has no service of ours: that answer costs one ``stat`` and
imports none of the managers.  With a plan, the manager itself is asked (the plan stays
after an uninstall, and a definition may have been removed by hand).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle.home import Home

if TYPE_CHECKING:
    from lifecycle.platforms import Platform
    from lifecycle.services.base import ServiceManager


def plan_path(home: Home) -> Path:
    """Where the last install plan of a profile is kept (read back by ``install --plan``)."""
    return home.root / "services" / f"{home.profile}.plan.json"


def installed_service(home: Home, platform: "Platform") -> "ServiceManager | None":
    """The service manager to go through, or None when no service runs this home and profile."""
    if not plan_path(home).is_file():
        return None  # `install` never ran here: nothing of ours can be installed
    from lifecycle.errors import ServiceError

    manager = platform.service_manager(home)
    try:
        return manager if manager.is_installed() else None
    except ServiceError:
        return None  # no $HOME / %APPDATA%: nothing can be installed where we would look
