"""Who a process is: pid plus create time, so a reused pid is never mistaken for a gateway."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hermes_lifecycle.platforms import Platform

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


def is_alive(pid: int | None, create_time: float | None, platform: "Platform | None" = None) -> bool:
    """True when a running (not zombie) process has this pid *and* this create time.

    Asked through the platform seam, which on Linux reads /proc instead of importing
    psutil (~10 ms of every `status` and `stop`)."""
    if pid is None:
        return False
    if platform is None:
        from hermes_lifecycle.platforms import current_platform

        platform = current_platform()
    started = platform.process_create_time(pid)
    if started is None:
        return False
    return create_time is None or abs(started - create_time) <= CREATE_TIME_TOLERANCE


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
