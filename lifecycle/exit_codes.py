"""Every exit code this engine gives, in one place.

The gateway's codes are read by service managers (systemd's ``RestartPreventExitStatus=``,
launchd's ``KeepAlive``, the Task Scheduler's restart policy), the commands' codes by scripts.
The docs' exit-code tables are generated from these enums, so a code and its meaning change
together or not at all.
"""

from __future__ import annotations

from enum import IntEnum


class GatewayExit(IntEnum):
    """How ``run`` ends: what a service manager should do next."""

    #: drained after a stop request with intent ``stop``: leave it down
    STOPPED = 0
    #: drained after a signal or console close with no stop request, or failed: revive it
    UNPLANNED = 1
    #: drained after a stop request with intent ``restart`` (EX_TEMPFAIL): bring it back
    RESTART = 75
    #: fatal configuration error (EX_CONFIG): do not revive
    CONFIG = 78


class CommandExit(IntEnum):
    """How ``start``, ``stop``, ``restart``, ``wait`` and the other commands end."""

    OK = 0
    FAILED = 1
    USAGE = 2
    #: stopped, but only by force (escalation: terminate, grace, kill)
    FORCED = 3


class StatusExit(IntEnum):
    """How ``status`` ends, as ``systemctl status`` and LSB init scripts answer: the code says
    the state, so ``if hermes gateway status >/dev/null; then`` asks "is it up?"."""

    #: a gateway process is alive: starting, running or draining
    RUNNING = 0
    #: crashed: the process died with no shutdown (LSB 1, "dead, but its pid file remains")
    CRASHED = 1
    #: not running: stopped, or killed on purpose
    NOT_RUNNING = 3
    #: cannot tell: the state database could not be read
    UNKNOWN = 4
