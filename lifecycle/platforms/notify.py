"""The service manager's notify protocol: one datagram per message to ``$NOTIFY_SOCKET``.

systemd (``Type=notify``) starts a service with ``NOTIFY_SOCKET`` set to a datagram socket:
a path, or an abstract address written with a leading ``@``.  Each message is newline-joined
``KEY=VALUE`` lines: ``READY=1`` (start is done: ``systemctl start`` returns), ``STOPPING=1``
(a stop began), ``STATUS=...`` (the line ``systemctl status`` shows), ``EXTEND_TIMEOUT_USEC=``
(the current start or stop timeout is pushed this far from now) and ``WATCHDOG=1`` (the
service is alive; with ``WatchdogSec=`` set, systemd ends it when these stop coming).

Where no manager listens (the variable unset, a platform without datagram Unix sockets) every
call is a silent no-op, so the runtime calls it unconditionally.  A send that fails is
swallowed too: a manager that went away must never take the gateway down with it.  No
dependency: the protocol is one ``sendto``.
"""

from __future__ import annotations

import os
import socket
from typing import MutableMapping

NOTIFY_SOCKET = "NOTIFY_SOCKET"
WATCHDOG_USEC = "WATCHDOG_USEC"
WATCHDOG_PID = "WATCHDOG_PID"


class ServiceNotifier:
    """Sends notify messages to the manager that started this process, if one listens."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address
        #: The manager's watchdog period in microseconds (``WatchdogSec=``), None without one.
        self.watchdog_usec = watchdog_usec
        self.sent: list[str] = []  # the last few messages, for a status line and for embedders
        self._socket: socket.socket | None = None

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str] | None = None, *,
                         consume: bool = True) -> "ServiceNotifier":
        """The notifier for this process.  ``consume`` removes the variables, so a child the
        gateway starts (a detached restart, an app's worker) does not speak for it."""
        environ = os.environ if environ is None else environ
        address = environ.get(NOTIFY_SOCKET) or None
        watchdog = _watchdog_for_me(environ.get(WATCHDOG_USEC), environ.get(WATCHDOG_PID))
        if consume:
            for name in (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID):
                environ.pop(name, None)
        if address is not None and not hasattr(socket, "AF_UNIX"):
            address = None  # no datagram Unix sockets here: nobody could be listening
        return cls(address, watchdog if address else None)

    @property
    def listening(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between ``WATCHDOG=1`` pings: a third of the period, so one late ping is
        forgiven; None when the manager watches nothing."""
        return None if not self.watchdog_usec else self.watchdog_usec / 3 / 1e6

    def send(self, **fields: str | int) -> bool:
        """Send one message (``ready=1`` becomes ``READY=1``); True when it was delivered."""
        if self.address is None or not fields:
            return False
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items())
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # type: ignore[attr-defined, unused-ignore]  # POSIX only
                self._socket.setblocking(False)  # never stall the loop on a full socket
            self._socket.sendto(message.encode("utf-8"), target)
        except OSError:
            return False
        self.sent = (self.sent + [message])[-8:]
        return True

    def ready(self, status: str) -> bool:
        return self.send(ready=1, status=status)

    def stopping(self, status: str) -> bool:
        return self.send(stopping=1, status=status)

    def status(self, status: str) -> bool:
        return self.send(status=status)

    def extend_timeout(self, seconds: float) -> bool:
        """Push the manager's running start/stop timeout to ``seconds`` from now."""
        return self.send(extend_timeout_usec=int(max(seconds, 0) * 1e6))

    def watchdog(self) -> bool:
        return self.send(watchdog=1)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _watchdog_for_me(usec: str | None, pid: str | None) -> int | None:
    """``WATCHDOG_USEC`` applies to this process only when ``WATCHDOG_PID`` is unset or names it."""
    try:
        period = int(usec) if usec else 0
        meant = pid is None or pid == "" or int(pid) == os.getpid()
    except ValueError:
        return None
    return period if period > 0 and meant else None
