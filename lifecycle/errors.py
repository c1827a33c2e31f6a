"""Our own exception types.

Every error a user can meet is one of these, with a message that says what to do.
The CLI prints ``hermes-lifecycle: <message>`` on one line and exits with ``exit_code``.
"""

from __future__ import annotations

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.exit_codes import CommandExit, GatewayExit

# The recorder's errors are its own (the store imports nothing from the lifecycle);
# they are re-exported here so that every error a user can meet has one home.
from hermes_lifecycle.store.errors import (
    CorruptStore,
    RunChanged,
    SchemaTooNew,
    StoreError,
    UntrustedPath,
    VersionConflict,
)


class HermesError(Exception):
    """Base of every error the lifecycle engine raises on purpose."""

    exit_code: int = CommandExit.FAILED


class UsageError(HermesError):
    """Bad input from the command line; nothing was touched."""

    exit_code = CommandExit.USAGE


class InvalidProfileName(UsageError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"invalid profile name {name!r}: use 1-64 characters from a-z, 0-9, '_' and '-', "
            "starting with a letter or digit"
        )


class IllegalTransition(HermesError):
    """The machine refused a trigger; nothing was written."""

    def __init__(self, state: str, trigger: str, *, unknown: bool = False) -> None:
        self.state = state
        self.trigger = trigger
        if unknown:
            message = f"unknown trigger {trigger!r} (see `{CLI} diagram`)"
        else:
            message = f"trigger {trigger!r} is not allowed in state {state!r}"
        super().__init__(message)


#: Every error raised on purpose: ours and the recorder's.  Catch this tuple where an
#: error is shown to a person (one line, ``exit_code``) rather than ``HermesError`` alone.
USER_ERRORS: tuple[type[HermesError], type[StoreError]] = (HermesError, StoreError)

__all__ = [
    "USER_ERRORS", "ConfigError", "CorruptStore", "GatewayAlreadyRunning", "GatewayError", "HermesError",
    "IllegalTransition", "InvalidProfileName", "InvalidStopRequest", "QuotingError", "RunChanged", "SchemaTooNew",
    "ServiceError", "ServiceLocationError", "StatusUnknown", "StoreError", "UntrustedPath", "UsageError",
    "VersionConflict",
]


class GatewayError(HermesError):
    """The gateway could not be started, stopped or reached as asked."""


class ServiceError(HermesError):
    """A service manager (systemd, launchd, Task Scheduler) refused or failed a step."""


class ServiceLocationError(ServiceError):
    """HOME / APPDATA is not set, so no service definition can be located (none can exist)."""


class QuotingError(UsageError):
    """A path or argument cannot be written into a Windows command line faithfully."""


class ConfigError(HermesError):
    """The gateway's configuration is unusable; a service manager must not revive it."""

    exit_code = GatewayExit.CONFIG


class GatewayAlreadyRunning(GatewayError):
    """Another gateway holds this profile's instance lock."""


class InvalidStopRequest(HermesError):
    """A stop request is malformed (bad intent, target or deadline); nothing was written."""


class StatusUnknown(HermesError):
    """``status`` could not read the state: LSB's "status unknown" (exit 4), not a crash."""

    exit_code = 4
