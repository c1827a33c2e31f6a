"""Which exit code a fatal configuration gets, given the service manager that runs the gateway.

A fatal configuration must stay down.  systemd is told so by ``RestartPreventExitStatus=78``;
launchd has no such key: ``KeepAlive = {SuccessfulExit: false}`` revives *every* non-zero
exit, once per ``ThrottleInterval``, forever.  The agent's plist therefore sets
``HERMES_SERVICE_MANAGER=launchd``, and under it the gateway ends a fatal configuration with
exit 0, the one code launchd leaves down, while ``start_failed`` keeps the truth
(``fatal_exit_code: 78``, ``service_manager: launchd``) and stderr says why.  Fixing the
configuration and running ``hermes-lifecycle start`` (``launchctl kickstart``) brings it back.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.errors import ConfigError
from hermes_lifecycle.exit_codes import GatewayExit

SERVICE_MANAGER_ENV = "HERMES_SERVICE_MANAGER"
#: Managers that revive any non-zero exit and cannot be told "not this code".
REVIVE_ANY_FAILURE = ("launchd",)


def fatal_config_exit(env: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """The exit code for a fatal configuration here, and what ``start_failed`` adds about it."""
    manager = (os.environ if env is None else env).get(SERVICE_MANAGER_ENV, "")
    if manager in REVIVE_ANY_FAILURE:
        return int(GatewayExit.STOPPED), {"fatal_exit_code": int(GatewayExit.CONFIG), "service_manager": manager}
    return int(GatewayExit.CONFIG), {}


def exit_quietly_under_manager(exc: ConfigError, code: int, extra: Mapping[str, Any]) -> ConfigError:
    """``exc`` with the exit code chosen above and a message that says why it is not 78."""
    if code == GatewayExit.CONFIG:
        return exc
    manager = extra.get("service_manager")
    quiet = ConfigError(f"{exc} (exit 0 instead of 78 so {manager} leaves it down; "
                        f"fix it, then `{CLI} start`)")
    quiet.exit_code = GatewayExit(code)
    return quiet
