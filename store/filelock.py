"""Exclusive file locks of the home (``flock``), waited for in the kernel, with a deadline.

SQLite's busy handler sleeps in growing steps and wakes nobody in turn: under four busy
writers one append waited seconds while others went through.  Writers of a home take
one of these before ``BEGIN IMMEDIATE`` instead: a contended lock is waited for by a
blocking ``flock`` (the kernel wakes the next writer as the holder lets go), in a helper
thread so that the caller can still give up at its deadline.  Windows polls a byte-range lock.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from hermes_lifecycle.store.errors import StoreError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
BINARY = getattr(os, "O_BINARY", 0)
#: Polling step (Windows) while another process holds a lock (it holds it for one commit).
LOCK_STEP = 0.0005

# The store's one choice by OS (it cannot use the lifecycle's platform seam); spelled with
# ``sys.platform`` so that the type checker knows which branch each OS runs (mypy --platform).
if sys.platform != "win32":  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock_blocking(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    KERNEL_QUEUE = True
else:  # Windows: a byte-range lock far past the data, so that readers of the file never meet it
    import msvcrt

    LOCK_OFFSET = 0x7FFFFFFF

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def _lock_blocking(fd: int) -> None:
        raise NotImplementedError

    KERNEL_QUEUE = False


class FileLock:
    """An exclusive ``flock`` on one file, waited for with a deadline (re-entrant per object).

    A contended lock is waited for in the kernel (a blocking ``flock`` on a fresh descriptor,
    in a helper thread), so the next writer is woken the moment the holder lets go, instead
    of sleeping in steps as SQLite's busy handler does; the caller gives up at its deadline
    and the helper lets go of a lock it gets too late.  Windows polls.
    """

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path
        self._depth = 0
        self._holding = -1

    @contextmanager
    def held(self, timeout: float, what: str) -> Iterator[None]:
        """Raises :class:`LockTimeout` after ``timeout`` seconds."""
        if self._depth == 0:
            self._holding = self._acquire(timeout, what)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                fd, self._holding = self._holding, -1
                _unlock(fd)
                if fd != self.fd:
                    os.close(fd)

    def _acquire(self, timeout: float, what: str) -> int:
        if _try_lock(self.fd):
            return self.fd
        if KERNEL_QUEUE:
            fd = _wait_in_kernel(self.path, timeout)
            if fd >= 0:
                return fd
        else:
            deadline = time.monotonic() + timeout
            step = LOCK_STEP
            while time.monotonic() < deadline:
                time.sleep(step)
                step = min(step * 1.5, 0.002)
                if _try_lock(self.fd):
                    return self.fd
        raise LockTimeout(f"{what} {self.path} was held by another process for {timeout:g} s; "
                          "nothing was written: look for a stuck hermes process")


def _wait_in_kernel(path: Path, timeout: float) -> int:
    """A descriptor of ``path`` holding its lock, or -1 after ``timeout`` seconds."""
    got = threading.Event()
    mutex = threading.Lock()
    state = {"fd": -1, "abandoned": False}

    def wait() -> None:
        try:
            fd = open_nofollow(path, os.O_RDWR)
        except OSError:
            got.set()
            return
        _lock_blocking(fd)
        with mutex:
            if state["abandoned"]:
                _unlock(fd)
                os.close(fd)
                return
            state["fd"] = fd
        got.set()

    threading.Thread(target=wait, name="hermes-write-lock", daemon=True).start()
    got.wait(timeout)
    with mutex:
        if state["fd"] < 0:
            state["abandoned"] = True
        return state["fd"]


class LockTimeout(StoreError):
    """Another process held a lock of the home past the deadline."""


def open_nofollow(path: Path, flags: int, mode: int = 0o600) -> int:
    return os.open(path, flags | NOFOLLOW | BINARY, mode)
