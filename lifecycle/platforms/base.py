"""What every platform provides.  Subclasses live in ``posix.py`` and ``windows.py``."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path

from lifecycle.platforms.runner import Runner, SubprocessRunner


class InstanceLock:
    """An OS lock on a file, held for the life of a gateway process.

    The OS releases it when the process dies however it dies, so a SIGKILLed gateway
    never blocks the next start (a pid file would).
    """

    def __init__(self, path: Path, fd: int, release) -> None:
        self.path = path
        self._fd = fd
        self._release = release

    def release(self) -> None:
        if self._fd >= 0:
            self._release(self._fd)
            os.close(self._fd)
            self._fd = -1


class Platform(ABC):
    """One operating system's way of doing the few things that differ."""

    name: str = "abstract"
    #: Signals the asyncio loop can take handlers for (empty on Windows).
    loop_signals: tuple[str, ...] = ()

    def __init__(self, runner: Runner | None = None) -> None:
        self.runner: Runner = runner or SubprocessRunner()

    @abstractmethod
    def try_lock(self, path: Path) -> InstanceLock | None:
        """Take the exclusive lock on ``path`` without waiting; None if another process holds it."""

    @abstractmethod
    def install_console_hygiene(self, stdin_is_tty: bool) -> list[str]:
        """Protect a detached gateway from spurious console signals; return what was done."""

    def _open_lock_file(self, path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
