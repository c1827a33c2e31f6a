"""macOS: kqueue vnode filters on the database's files (``select.kqueue``, the stdlib).

A kqueue watch on a folder fires only when entries come and go, not when a file in
it is written, so the database and its WAL are watched themselves (NOTE_WRITE,
NOTE_EXTEND), and the folder too: when SQLite deletes or creates the WAL the file
watches are opened again.  ``select`` is a parameter so tests on Linux, which has no
kqueue, drive this path with a recording stand-in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hermes_lifecycle.platforms.changes import ChangeNotifier, PipeWake


class KqueueNotifier(ChangeNotifier):
    notifies = True

    def __init__(self, db_path: Path, *, select_module: Any = None) -> None:
        super().__init__()
        if select_module is None:
            import select as select_module
        self._select = select_module
        self._db = db_path
        self._kq = select_module.kqueue()
        self._files: dict[int, str] = {}  # fd -> name, for the database, its WAL and spool
        self._folder = -1
        try:
            self._pipe = PipeWake()
        except OSError:
            self._kq.close()
            raise
        try:
            self._folder = self._open(db_path.parent)
            self._control([self._event(self._pipe.read_fd, select_module.KQ_FILTER_READ, 0)])
            self._control([self._vnode(self._folder)])
            self._watch_files()
        except OSError:  # no folder, or out of descriptors: give back what was taken
            self.close()
            raise

    def _open(self, path: Path) -> int:
        return os.open(path, getattr(os, "O_EVTONLY", os.O_RDONLY))

    def _event(self, fd: int, kq_filter: int, fflags: int) -> Any:
        sel = self._select
        return sel.kevent(fd, filter=kq_filter, flags=sel.KQ_EV_ADD | sel.KQ_EV_CLEAR, fflags=fflags)

    def _vnode(self, fd: int) -> Any:
        sel = self._select
        return self._event(fd, sel.KQ_FILTER_VNODE,
                           sel.KQ_NOTE_WRITE | sel.KQ_NOTE_EXTEND | sel.KQ_NOTE_DELETE | sel.KQ_NOTE_RENAME)

    def _control(self, changes: list) -> list:
        return self._kq.control(changes, 0, 0)

    def _watch_files(self) -> None:
        """(Re)open the watches (O_EVTONLY where the OS has it: it keeps no volume busy) on the
        database, its WAL and its spool; closing an fd drops its filter."""
        for fd in self._files:
            os.close(fd)
        self._files = {}
        for name in (self._db.name, self._db.name + "-wal", self._db.name + "-spool"):
            try:
                fd = self._open(self._db.parent / name)
            except OSError:  # no WAL yet: the folder's watch says when it appears
                continue
            self._files[fd] = name
            self._control([self._vnode(fd)])

    def wait(self, timeout: float) -> bool:
        try:
            events = self._kq.control(None, 8, timeout)
        except (OSError, ValueError):
            return False
        changed = False
        for event in events:
            if event.ident == self._pipe.read_fd:
                self._pipe.drain()
            elif event.ident == self._folder or event.fflags & (self._select.KQ_NOTE_DELETE
                                                              | self._select.KQ_NOTE_RENAME):
                self._watch_files()
                changed = True
            else:
                changed = True
        return changed

    def wake(self) -> None:
        self._pipe.wake()

    def close(self) -> None:
        for fd in [*self._files, self._folder]:
            if fd < 0:
                continue
            try:
                os.close(fd)
            except OSError:
                pass
        self._files = {}
        self._kq.close()
        self._pipe.close()
