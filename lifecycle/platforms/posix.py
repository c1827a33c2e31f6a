"""Linux and macOS: signals reach the asyncio loop, locks are ``flock``."""

from __future__ import annotations

import os
from pathlib import Path

from lifecycle.platforms.base import InstanceLock, Platform


class PosixPlatform(Platform):
    loop_signals = ("SIGTERM", "SIGINT")

    def try_lock(self, path: Path) -> InstanceLock | None:
        import fcntl

        fd = self._open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return InstanceLock(path, fd, lambda f: fcntl.flock(f, fcntl.LOCK_UN))

    def install_console_hygiene(self, stdin_is_tty: bool) -> list[str]:
        return []  # SIGTERM/SIGINT go to the loop's handlers; nothing to absorb


class LinuxPlatform(PosixPlatform):
    name = "linux"


class MacPlatform(PosixPlatform):
    name = "macos"
