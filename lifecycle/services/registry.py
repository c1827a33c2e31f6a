"""Which service manager serves which platform, keyed by the platform's name.

The platforms know nothing of services (they run processes and take locks); the services
know each platform only by name.  A manager is imported when it is asked for, so hearing
that no service is installed costs none of the managers' machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from hermes_lifecycle.home import Home
    from hermes_lifecycle.platforms import Platform
    from hermes_lifecycle.services.base import ServiceManager

#: Platform name -> (module, class) of its service manager.
MANAGERS: dict[str, tuple[str, str]] = {
    "linux": ("hermes_lifecycle.services.systemd", "SystemdUserManager"),      # a systemd user unit
    "macos": ("hermes_lifecycle.services.launchd", "LaunchdAgentManager"),     # a launchd agent in gui/<uid>
    "windows": ("hermes_lifecycle.services.windows_task", "WindowsTaskManager"),  # a logon task or Startup entry
}


def manager_for(platform: Platform, home: Home, env: Mapping[str, str] | None = None) -> ServiceManager:
    """The service manager of ``platform`` for ``home``, running its commands through the
    platform's runner (a recording runner in tests)."""
    module, name = MANAGERS[platform.name]
    manager_class = getattr(importlib.import_module(module), name)
    return manager_class(home, platform.runner, env)
