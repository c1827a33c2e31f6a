"""Linux: inotify on the database's folder, through libc by ctypes (no new dependency).

The folder is watched rather than ``state.db-wal`` itself because SQLite deletes and
recreates the WAL file (the last connection's close, a restore): a watch on the file
would go deaf.  Events for other files in the folder (a sidecar log) are read and
dropped without waking the caller.
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
import sys
import threading
from pathlib import Path

from hermes_lifecycle.platforms.changes import ChangeNotifier, PipeWake

IN_MODIFY = 0x00000002
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
if sys.platform == "win32":  # never imported there; the guard tells the type checker so
    IN_NONBLOCK = IN_CLOEXEC = 0
else:
    IN_NONBLOCK = os.O_NONBLOCK
    IN_CLOEXEC = os.O_CLOEXEC
#: Not IN_CLOSE_WRITE: a reader (`status`) opens the database read-write and closes it.
WATCH_MASK = IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_DELETE
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (struct inotify_event)

_libc = None


def _load_libc():
    global _libc
    if _libc is None:
        # The interpreter's own symbols (dlopen(NULL)) include libc's. ctypes.util.find_library
        # would run `ldconfig -p` as a child of the gateway: a process in its tree, and time, at boot.
        libc = ctypes.CDLL(None, use_errno=True)
        if not hasattr(libc, "inotify_init1"):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
        _libc = libc
    return _libc


def names_in(buffer: bytes) -> list[bytes]:
    """The file names of the inotify events packed in ``buffer`` (a read of the inotify fd)."""
    names, offset = [], 0
    while offset + _HEADER.size <= len(buffer):
        _wd, _mask, _cookie, length = _HEADER.unpack_from(buffer, offset)
        offset += _HEADER.size
        names.append(buffer[offset:offset + length].rstrip(b"\0"))
        offset += length
    return names


class InotifyNotifier(ChangeNotifier):
    """Wakes when a file whose name starts with the database's name (``state.db``,
    ``state.db-wal``, ``state.db-journal``) is written, created, moved in or deleted."""

    notifies = True

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        libc = _load_libc()
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        folder = os.fsencode(db_path.parent)
        watch = libc.inotify_add_watch(fd, folder, WATCH_MASK)
        if watch < 0:
            err = ctypes.get_errno()
            os.close(fd)
            raise OSError(err, f"inotify_add_watch {db_path.parent}: {os.strerror(err)}")
        try:
            self._pipe = PipeWake()
        except OSError:  # out of descriptors: give the inotify instance back
            os.close(fd)
            raise
        self._fd, self._watch = fd, watch
        self._prefix = os.fsencode(db_path.name)

    def wait(self, timeout: float) -> bool:
        try:
            readable, _, _ = select.select([self._fd, self._pipe.read_fd], [], [], timeout)
        except (OSError, ValueError):  # closed meanwhile by close()
            return False
        if self._pipe.read_fd in readable:
            self._pipe.drain()
        if self._fd in readable:
            return self._ours_changed()
        return False

    def _ours_changed(self) -> bool:
        hit = False
        while True:
            try:
                buffer = os.read(self._fd, 4096)
            except (BlockingIOError, OSError):
                return hit
            if not buffer:
                return hit
            hit = hit or any(name.startswith(self._prefix) for name in names_in(buffer))

    def wake(self) -> None:
        self._pipe.wake()

    def close(self) -> None:
        """Called by the waiting thread once it is done (never while another thread waits).

        Retiring a watch takes the kernel an RCU grace period (7-20 ms measured here), paid by
        whoever closes the last descriptor, the process's exit included: a drained gateway's
        exit and the `stop` waiting for it would pay it for nothing.  So the watch is removed
        here (the kernel retires it in the background) and the descriptor is closed by a
        daemon thread; by the time the process ends, the grace period has mostly passed."""
        if self._fd >= 0:
            _load_libc().inotify_rm_watch(self._fd, self._watch)
            threading.Thread(target=os.close, args=(self._fd,), name="hermes-inotify-close", daemon=True).start()
            self._fd = -1
        self._pipe.close()
