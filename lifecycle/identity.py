"""Who a process is: pid plus create time (plus command line, when the run recorded one), so a
reused pid is never mistaken for a gateway.

:func:`same_process` is THE identity rule: every command (``status``, ``start``, ``stop``,
``restart``, ``wait``, reconciliation, the escalation's target) asks it, so none of them can
call a process "ours" that another calls a stranger.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hermes_lifecycle.platforms import Platform
    from hermes_lifecycle.store import StreamState

#: Create times read twice for one process can differ in the last digits.
CREATE_TIME_TOLERANCE = 0.5


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    create_time: float

    def to_json(self) -> dict:
        return {"pid": self.pid, "create_time": self.create_time}


def own_identity() -> ProcessIdentity:
    import psutil

    return ProcessIdentity(os.getpid(), psutil.Process().create_time())


def same_process(recorded_create_time: float | None, recorded_cmdline: "Sequence[str] | None",
                 live_create_time: float, live_cmdline: "Sequence[str] | None") -> bool:
    """The identity rule: the live process is the recorded one when its create time matches
    (within :data:`CREATE_TIME_TOLERANCE`) and, where both are known, so does its command line.
    A recorded create time of None (a caller that knows only the pid) matches any."""
    if recorded_create_time is not None and abs(live_create_time - recorded_create_time) > CREATE_TIME_TOLERANCE:
        return False
    return not recorded_cmdline or not live_cmdline or list(live_cmdline) == list(recorded_cmdline)


def is_alive(pid: int | None, create_time: float | None, platform: "Platform | None" = None,
             cmdline: "Sequence[str] | None" = None) -> bool:
    """True when a running (not zombie) process is this one by :func:`same_process`: this pid,
    this create time, and this command line when one is given.

    Asked through the platform seam, which on Linux reads /proc instead of importing
    psutil (~10 ms of every `status` and `stop`); the command line is read only when given."""
    if pid is None:
        return False
    if platform is None:
        from hermes_lifecycle.platforms import current_platform

        platform = current_platform()
    started = platform.process_create_time(pid)
    if started is None:
        return False
    live_cmdline = platform.process_command_line(pid) if cmdline else None
    return same_process(create_time, cmdline, started, live_cmdline)


def recorded_cmdline(state: "StreamState") -> list[str] | None:
    """The command line the stream's current run recorded at its start, if any."""
    cmdline = state.data.get("cmdline")
    return [str(word) for word in cmdline] if isinstance(cmdline, list) and cmdline else None


def run_is_alive(state: "StreamState", platform: "Platform | None" = None) -> bool:
    """True while the process of the stream's current run lives, by the one identity rule."""
    return is_alive(state.pid, state.create_time, platform, recorded_cmdline(state))


def who(role: str) -> str:
    """The actor column: a role, then the user, host and process that acted."""
    return f"{role} {_user()}@{_host()} pid {os.getpid()}"


def who_details(role: str) -> dict:
    """The same facts as :func:`who`, structured for an event's data."""
    return {
        "role": role,
        "user": _user(),
        "host": _host(),
        "pid": os.getpid(),
        "argv": sys.argv,
    }


def _user() -> str:
    try:
        import getpass  # only writers name themselves; keep it off the read path

        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _host() -> str:
    """The host name: ``uname`` where the OS has it (what ``gethostname`` returns there, without
    importing ``socket``: ~3 ms of every write, `stop` included), else ``socket``."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        return uname().nodename
    import socket  # only writers name themselves; keep it off the read path

    return socket.gethostname()
