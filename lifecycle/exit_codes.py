"""Every exit code this engine gives, in one place.

The gateway's codes are read by service managers (systemd's ``RestartPreventExitStatus=``,
launchd's ``KeepAlive``, the Task Scheduler's restart policy), the commands' codes by scripts.
The docs' exit-code tables are generated from these enums (:mod:`hermes_lifecycle.history.exit_table`),
so a code and its meaning change together or not at all.  One ``IntEnum`` per family; each
member's ``#:`` comment is its meaning in the generated table.
"""

from __future__ import annotations

from enum import IntEnum


class GatewayExit(IntEnum):
    """How ``run`` ends: what a service manager should do next."""

    #: drained after a stop request with intent ``stop`` (a service manager leaves it down)
    STOPPED = 0
    #: drained after a signal or console close with no stop request (unplanned: revive it); also a second
    #: `run` refused, a port in use or another failure of the app's start, `--replace` that timed out
    UNPLANNED = 1
    #: drained after a stop request with intent ``restart`` (EX_TEMPFAIL: systemd ``RestartForceExitStatus=``
    #: and launchd ``SuccessfulExit=false`` bring it back)
    RESTART = 75
    #: fatal configuration error: bad ``config.json`` or ``--app`` (EX_CONFIG: ``RestartPreventExitStatus=``,
    #: do not revive)
    CONFIG = 78


class CommandExit(IntEnum):
    """How ``start``, ``stop``, ``restart``, ``wait`` and the other commands end."""

    #: ``start``: the new run is ready, or a gateway was already running; ``stop``: stopped after a complete
    #: drain, or not running; ``restart``: both halves succeeded; ``wait``: the state was reached
    OK = 0
    #: ``start``: the gateway died while starting or was not ready in time (log tail on stderr); ``stop``: the
    #: gateway could not be stopped; ``restart``: either half failed; ``uninstall``: the stop before the
    #: removal failed (the definitions are removed all the same); ``wait``: timeout, or the state can no
    #: longer come
    FAILED = 1
    #: bad input on the command line; nothing was touched
    USAGE = 2
    #: ``stop``/``restart``: stopped, but only by force (escalation: terminate, grace, kill)
    FORCED = 3
    #: ``stop``/``restart``: the gateway exited by itself, but its drain timeout ran out first: in-flight work
    #: was abandoned (``--json`` lists it)
    DRAIN_TIMED_OUT = 4


#: Which outcome outranks which when one command reports several (``stop --all``): could not
#: stop, then forced, then a drain that ran out, then clean.
SEVERITY: tuple[CommandExit, ...] = (CommandExit.OK, CommandExit.DRAIN_TIMED_OUT, CommandExit.FORCED,
                                     CommandExit.FAILED)


def worst(codes: "list[int]") -> int:
    """The most severe of ``codes`` by :data:`SEVERITY` (an unknown code outranks them all)."""
    def rank(code: int) -> int:
        return SEVERITY.index(code) if code in SEVERITY else len(SEVERITY)
    return max(codes, key=rank) if codes else CommandExit.OK


class StatusExit(IntEnum):
    """How ``status`` ends, as ``systemctl status`` and LSB init scripts answer: the code says
    the state, so ``if hermes-lifecycle status >/dev/null; then`` asks "is it up?"."""

    #: running: a gateway process is alive (``starting``, ``running``, ``draining``)
    RUNNING = 0
    #: crashed: the process died with no shutdown (LSB 1, "dead, but its pid file remains")
    CRASHED = 1
    #: not running (``stopped``, ``killed``)
    NOT_RUNNING = 3
    #: cannot tell: the state database could not be read
    UNKNOWN = 4
