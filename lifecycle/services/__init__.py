"""Service managers: systemd user units, launchd agents, Windows logon tasks.

:mod:`.registry` picks one by the platform's name (``manager_for(platform, home)``); :mod:`.actions` runs an
install plan or an uninstall and records each change in the profile's journal;
:mod:`.status` renders the service line of ``status``; :mod:`.installed` decides whether
the controller must go through one.

The names below load on first use: ``stop`` and ``status`` import this package to learn
that no service is installed, and must not pay for the managers' machinery to hear it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["InstallOutcome", "InstallPlan", "Removal", "ServiceManager", "ServiceStatus"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from hermes_lifecycle.services import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
