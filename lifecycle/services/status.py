"""The service part of ``status``: which track is installed, whether it runs, what to fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from hermes_lifecycle.errors import HermesError
from hermes_lifecycle.home import Home
from hermes_lifecycle.platforms import Platform, current_platform
from hermes_lifecycle.services.installed import never_installed

if TYPE_CHECKING:  # the managers' machinery loads only where a service was installed
    from hermes_lifecycle.services.base import ServiceStatus


def service_status(home: Home, platform: Platform | None = None,
                   env: Mapping[str, str] | None = None) -> "ServiceStatus":
    """Ask this platform's service manager about ``home``; problems become warnings, not errors,
    because ``status`` must always answer."""
    from hermes_lifecycle.config import DEFAULT_DRAIN_TIMEOUT, drain_timeout
    from hermes_lifecycle.services.base import ServiceStatus

    warnings = []
    try:
        drain = drain_timeout(home)
    except HermesError as exc:
        drain = DEFAULT_DRAIN_TIMEOUT
        warnings.append(f"{exc} (checking the service against the default drain of {drain:g}s)")
    try:
        from hermes_lifecycle.services.registry import manager_for

        manager = manager_for(platform or current_platform(), home, env)
        status = manager.describe(drain)
    except HermesError as exc:
        status = ServiceStatus(getattr(platform, "name", "unknown"), warnings=[str(exc)])
    status.warnings[:0] = warnings
    return status


def service_status_json(home: Home, platform: Platform | None = None,
                        env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``service`` object of ``status --json``."""
    return never_installed(home, platform or current_platform()) or service_status(home, platform, env).to_json()


def service_status_lines(home: Home, platform: Platform | None = None,
                         env: Mapping[str, str] | None = None) -> list[str]:
    """The ``service:`` line of ``status``, then its warnings and hints."""
    return render_lines(service_status_json(home, platform, env))


def render_lines(status: dict[str, Any]) -> list[str]:
    """Lines of a ``service`` object (:func:`service_status_json`)."""
    if status["installed"]:
        facts = []
        if status["running"] is not None:
            facts.append("running" if status["running"] else "not running")
        if status["autostart"] is not None:
            facts.append("starts at logon" if status["autostart"] else "no start at logon")
        detail = f" ({', '.join(facts)})" if facts else ""
        lines = [f"service: {status['track']} {status['definition']}{detail}"]
    else:
        lines = [f"service: not installed ({status['manager']})"]
    lines += [f"  warning: {w}" for w in status["warnings"]]
    lines += [f"  hint: {h}" for h in status["hints"]]
    return lines
