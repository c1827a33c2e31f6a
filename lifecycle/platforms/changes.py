"""Waiting for another process's commit to ``state.db`` without polling it.

An idle gateway (its stop-request watcher) and an idle ``events --follow`` used to ask
SQLite ``PRAGMA data_version`` every 10-20 ms: 50-100 wakeups a second for nothing.
Here they sleep on the OS's file-change notification for the database's folder
(inotify on Linux, kqueue on macOS, a change notification on Windows; the platform
picks one, see :meth:`Platform.change_notifier`) and ask ``data_version`` only when
something there was written, with a slow backstop poll for filesystems that never
notify (NFS, some FUSE mounts).

A notification comes at the ``write()`` of the WAL frames, before SQLite's fsync and
before the WAL index says the commit is visible, so the first look after it may see
no change yet: :class:`CommitWaiter` then looks again after :data:`HOT_STEP`, doubling
the pause up to :data:`HOT_STEP_MAX`, for up to :data:`PENDING_MAX` (an fsync on a
loaded disk can take hundreds of ms); that costs some 25 wakeups after each write to
the folder, none at rest.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Callable

#: The first pause between two looks after a notification that showed no commit yet.
HOT_STEP = 0.002
#: The longest such pause (the step doubles while the commit is not visible).
HOT_STEP_MAX = 0.05
#: How long after a notification the waiter keeps looking for the commit it announced.
PENDING_MAX = 1.0
#: The backstop: the longest an unnoticed commit waits where notifications work.
BACKSTOP = 5.0


class ChangeNotifier:
    """Blocks until something in one folder changes; the polling fallback of every platform.

    ``wait(timeout)`` returns True when the OS said a watched file changed (False on a
    timeout or a :meth:`wake`); ``wake()`` may be called from any thread and ends the
    current or next ``wait`` at once (how a watcher is stopped without waiting out the
    backstop); ``close()`` gives back the OS handles.
    """

    #: Whether ``wait`` returns on a change at all (False: only timeouts and wakes).
    notifies = False

    def __init__(self) -> None:
        self._woken = threading.Event()

    def wait(self, timeout: float) -> bool:
        self._woken.wait(timeout)
        self._woken.clear()
        return False

    def wake(self) -> None:
        self._woken.set()

    def close(self) -> None:
        self._woken.set()


class PipeWake:
    """A self-pipe whose read end turns readable on :meth:`wake`: for select and kqueue."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        if sys.platform != "win32":  # used by inotify and kqueue only (Windows waits on an event)
            os.set_blocking(self.read_fd, False)
            os.set_blocking(self.write_fd, False)
        self._lock = threading.Lock()  # a wake from another thread never writes to a closed
        self._closed = False           # (and maybe reused) descriptor

    def wake(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                os.write(self.write_fd, b"x")
            except (BlockingIOError, OSError):  # full: a wake is pending anyway
                pass

    def drain(self) -> bool:
        """Empty the pipe; True if a wake was pending."""
        woken = False
        while True:
            try:
                if not os.read(self.read_fd, 512):
                    return woken
                woken = True
            except (BlockingIOError, OSError):
                return woken

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self.read_fd, self.write_fd):
                os.close(fd)


def database_path(conn: sqlite3.Connection) -> Path | None:
    """The file behind ``conn``'s main database (None for an in-memory one)."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


class CommitWaiter:
    """``wait()`` returns when another connection has committed to ``conn``'s database.

    ``data_version`` stays the judge of "committed"; the notifier only says when to ask.
    """

    def __init__(self, conn: sqlite3.Connection, notifier: ChangeNotifier | None = None, *,
                 backstop: float | None = None) -> None:
        from hermes_lifecycle.store.events import ChangeWatch

        self._watch = ChangeWatch(conn)
        if notifier is None:
            notifier, backstop = open_notifier(database_path(conn), backstop)
        self.notifier = notifier
        backstop = BACKSTOP if backstop is None else backstop
        self.backstop = backstop if notifier.notifies else min(backstop, POLL_FALLBACK)
        # A notification not yet matched by a commit.  It starts pending: a commit whose
        # WAL write came before the watch existed may become visible only after the first look.
        self._pending_since: float | None = time.monotonic()
        self._step = HOT_STEP

    def changed(self) -> bool:
        """Has another connection committed since the last look? (one cheap pragma)

        A seen commit keeps the waiter looking for a while: the notifications read with it
        may include the WAL write of a next commit that is not visible yet."""
        if self._watch.changed():
            self._pending_since, self._step = time.monotonic(), HOT_STEP
            return True
        return False

    def wait(self, keep_going: Callable[[], bool] = lambda: True, *, longest: float | None = None) -> bool:
        """Block until a commit (True) or until ``keep_going()`` turns False after a wake (False).

        ``keep_going`` is asked after every sleep; ``longest`` caps a sleep below the backstop
        (a caller with its own timed work, the watcher's spool replay)."""
        while keep_going():
            if self.changed():
                return True
            now = time.monotonic()
            if self._pending_since is not None and now - self._pending_since > PENDING_MAX:
                self._pending_since = None  # a write that was no commit (a checkpoint, say)
            if self._pending_since is None:
                timeout = self.backstop if longest is None else min(self.backstop, longest)
            else:  # never slower than the backstop (the 20 ms poll where nothing notifies)
                timeout, self._step = min(self._step, self.backstop), min(self._step * 2, HOT_STEP_MAX)
            if self.notifier.wait(timeout):
                self._pending_since, self._step = time.monotonic(), HOT_STEP
        return False

    def wake(self) -> None:
        self.notifier.wake()

    def close(self) -> None:
        self.notifier.close()


#: Where no notification is to be had, the waiter polls this often (the old cadence of
#: the stop-request watcher: a stop must still be seen within a few tens of ms).
POLL_FALLBACK = 0.02


def open_notifier(db_path: Path | None, backstop: float | None = None) -> tuple[ChangeNotifier, float | None]:
    """The current platform's notifier for the folder of ``db_path`` and its backstop
    (``backstop`` when given); the polling fallback when there is no file, or the OS
    refuses a watch (out of inotify watches, say)."""
    if db_path is None:
        return ChangeNotifier(), backstop
    from hermes_lifecycle.platforms import current_platform

    platform = current_platform()
    try:
        return platform.change_notifier(db_path), platform.change_backstop if backstop is None else backstop
    except OSError:
        return ChangeNotifier(), backstop
