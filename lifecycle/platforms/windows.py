"""Windows: no SIGTERM for asyncio, ``msvcrt`` locks, and spurious console Ctrl+C events.

Windows-only modules are imported inside methods so this class can be built and its
command lines recorded on any OS.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from lifecycle.platforms.base import InstanceLock, Platform


class WindowsPlatform(Platform):
    name = "windows"
    loop_signals = ()  # asyncio's add_signal_handler raises NotImplementedError here

    def try_lock(self, path: Path) -> InstanceLock | None:
        import msvcrt

        fd = self._open_lock_file(path)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(fd)
            return None
        return InstanceLock(path, fd, lambda f: msvcrt.locking(f, msvcrt.LK_UNLCK, 1))

    def install_console_hygiene(self, stdin_is_tty: bool) -> list[str]:
        """A detached gateway (no TTY) ignores SIGINT and SIGBREAK: something on the boot
        path synthesizes Ctrl+C for detached pythonw processes and killed them with no
        shutdown.  An interactive console keeps Ctrl+C."""
        if stdin_is_tty:
            return []
        ignored = []
        for name in ("SIGINT", "SIGBREAK"):
            number = getattr(signal, name, None)
            if number is not None:
                signal.signal(number, signal.SIG_IGN)
                ignored.append(name)
        return ignored
