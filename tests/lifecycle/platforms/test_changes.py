"""Waiting for commits on the OS's change notification: inotify for real (Linux); kqueue and the
Windows change notification through their seams (a stand-in ``select`` module and ``kernel32``
that record what is asked of them), since this machine has neither."""

from __future__ import annotations

import os
import struct
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import platform_named
from hermes_lifecycle.platforms.changes import ChangeNotifier, CommitWaiter, database_path
from hermes_lifecycle.platforms.kqueue import KqueueNotifier
from hermes_lifecycle.platforms.win_changes import (NOTIFY_FILTER, WAIT_OBJECT_0, WAIT_TIMEOUT,
                                                    WindowsChangeNotifier)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


def _wait_in_thread(call) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    return thread, result


# --- inotify, for real ----------------------------------------------------------------

@linux_only
def test_loading_inotify_starts_no_process(tmp_path, monkeypatch):
    """ctypes.util.find_library runs `ldconfig -p`: a child in the gateway's tree at boot, which
    escalation then reports among the pids it signalled."""
    import subprocess

    from hermes_lifecycle.platforms import inotify

    def refuse(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[0]!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(inotify, "_libc", None)
    notifier = inotify.InotifyNotifier(tmp_path / "state.db")
    notifier.close()


@linux_only
def test_inotify_wakes_on_a_write_to_the_database_and_not_on_another_file(tmp_path):
    from hermes_lifecycle.platforms.inotify import InotifyNotifier

    db = tmp_path / "state.db"
    db.write_bytes(b"")
    notifier = InotifyNotifier(db)
    try:
        (tmp_path / "gateway.log").write_text("a line of the sidecar log\n")
        assert notifier.wait(0.2) is False  # another file in the folder: read and dropped
        (tmp_path / "state.db-wal").write_bytes(b"frame")
        assert notifier.wait(60) is True
    finally:
        notifier.close()


@linux_only
def test_inotify_wake_ends_a_wait_from_another_thread(tmp_path):
    from hermes_lifecycle.platforms.inotify import InotifyNotifier

    notifier = InotifyNotifier(tmp_path / "state.db")
    try:
        thread, result = _wait_in_thread(lambda: notifier.wait(600))
        notifier.wake()
        thread.join(60)
        assert not thread.is_alive() and result == [False]
    finally:
        notifier.close()


def test_a_wake_after_close_is_harmless(tmp_path):
    notifier = platform_named("linux").change_notifier(tmp_path / "state.db") if sys.platform.startswith(
        "linux") else ChangeNotifier()
    notifier.close()
    notifier.wake()  # the watcher's stop() may race its thread's close: no write to a closed fd


@linux_only
def test_the_linux_platform_gives_inotify_and_a_slow_backstop(tmp_path):
    from hermes_lifecycle.platforms.inotify import InotifyNotifier

    linux = platform_named("linux")
    notifier = linux.change_notifier(tmp_path / "state.db")
    notifier.close()
    assert isinstance(notifier, InotifyNotifier) and linux.change_backstop >= 1.0


def test_commit_waiter_returns_on_another_connections_commit_long_before_its_backstop(tmp_path):
    home = Home.resolve(tmp_path / "home")
    with Journal(home) as writer, Journal(home) as reader:
        writer.fire("exited", actor="test")
        waiter = CommitWaiter(reader.conn, backstop=600)
        assert database_path(reader.conn) == home.state_db
        try:
            thread, result = _wait_in_thread(waiter.wait)
            writer.fire("exited", actor="test", data={"n": 1})
            thread.join(60)
            assert result == [True], "the commit was not noticed within a minute (backstop: 10 minutes)"
        finally:
            waiter.close()


def test_commit_waiter_without_notification_polls_at_the_old_cadence(tmp_path):
    """A filesystem or OS with no notification: the waiter polls (20 ms) instead of sleeping
    out a backstop meant for a notifier that stays silent."""
    home = Home.resolve(tmp_path / "home")
    with Journal(home) as journal:
        waiter = CommitWaiter(journal.conn, ChangeNotifier(), backstop=600)
        assert waiter.backstop <= 0.05


# --- kqueue (macOS), through a stand-in select module ----------------------------------

class FakeKqueue:
    def __init__(self, module: "FakeSelect") -> None:
        self.module = module
        self.closed = False

    def control(self, changes, max_events, timeout=None):
        if changes:
            self.module.registered.extend(changes)
            return []
        self.module.timeouts.append(timeout)
        return self.module.script.pop(0) if self.module.script else []

    def close(self) -> None:
        self.closed = True


class FakeSelect:
    KQ_FILTER_READ, KQ_FILTER_VNODE = -1, -4
    KQ_EV_ADD, KQ_EV_CLEAR = 0x1, 0x20
    KQ_NOTE_DELETE, KQ_NOTE_WRITE, KQ_NOTE_EXTEND, KQ_NOTE_RENAME = 0x1, 0x2, 0x4, 0x20

    def __init__(self) -> None:
        self.registered: list = []
        self.timeouts: list = []
        self.script: list[list] = []
        self.queue: FakeKqueue | None = None

    def kqueue(self) -> FakeKqueue:
        self.queue = FakeKqueue(self)
        return self.queue

    @staticmethod
    def kevent(ident, filter, flags, fflags=0):  # noqa: A002 -- select.kevent's own names
        return SimpleNamespace(ident=ident, filter=filter, flags=flags, fflags=fflags)


def _watched(fake: FakeSelect) -> dict[str, SimpleNamespace]:
    """Registered vnode filters by the name of the file behind their descriptor."""
    names = {}
    for event in fake.registered:
        if event.filter == fake.KQ_FILTER_VNODE:
            try:
                names[os.path.basename(os.readlink(f"/proc/self/fd/{event.ident}"))] = event
            except OSError:
                continue
    return names


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="names descriptors through /proc")
def test_kqueue_watches_the_folder_the_database_and_its_wal_for_writes(tmp_path):
    db = tmp_path / "state.db"
    db.write_bytes(b"")
    (tmp_path / "state.db-wal").write_bytes(b"")
    fake = FakeSelect()
    notifier = KqueueNotifier(db, select_module=fake)
    try:
        watched = _watched(fake)
        assert set(watched) == {tmp_path.name, "state.db", "state.db-wal"}
        wal = watched["state.db-wal"]
        assert wal.flags == fake.KQ_EV_ADD | fake.KQ_EV_CLEAR
        assert wal.fflags & fake.KQ_NOTE_WRITE and wal.fflags & fake.KQ_NOTE_EXTEND
        reads = [e for e in fake.registered if e.filter == fake.KQ_FILTER_READ]
        assert len(reads) == 1  # the wake pipe
        fake.script.append([SimpleNamespace(ident=wal.ident, fflags=fake.KQ_NOTE_WRITE)])
        assert notifier.wait(5.0) is True and fake.timeouts == [5.0]
        assert notifier.wait(0.5) is False  # nothing scripted: a timeout
    finally:
        notifier.close()
    assert fake.queue.closed


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="names descriptors through /proc")
def test_kqueue_watches_a_wal_created_after_it_began(tmp_path):
    db = tmp_path / "state.db"
    db.write_bytes(b"")
    fake = FakeSelect()
    notifier = KqueueNotifier(db, select_module=fake)
    try:
        assert "state.db-wal" not in _watched(fake)
        folder = _watched(fake)[tmp_path.name]
        (tmp_path / "state.db-wal").write_bytes(b"")
        fake.script.append([SimpleNamespace(ident=folder.ident, fflags=fake.KQ_NOTE_WRITE)])
        assert notifier.wait(1.0) is True
        assert "state.db-wal" in _watched(fake)
    finally:
        notifier.close()


def test_kqueue_wake_is_a_pipe_the_queue_reads(tmp_path):
    fake = FakeSelect()
    notifier = KqueueNotifier(tmp_path / "state.db", select_module=fake)
    try:
        pipe = next(e for e in fake.registered if e.filter == fake.KQ_FILTER_READ)
        notifier.wake()
        assert os.read(pipe.ident, 1) == b"x"
        fake.script.append([SimpleNamespace(ident=pipe.ident, fflags=0)])
        assert notifier.wait(600) is False  # woken, not a change
    finally:
        notifier.close()


# --- Windows, through a stand-in kernel32 ----------------------------------------------

class FakeKernel32:
    def __init__(self, results: list[int]) -> None:
        self.calls: list[tuple] = []
        self.results = results

    def FindFirstChangeNotificationW(self, path, subtree, flags):  # noqa: N802 -- the API's names
        self.calls.append(("FindFirstChangeNotificationW", path, subtree, flags))
        return 101

    def CreateEventW(self, attributes, manual, initial, name):  # noqa: N802
        self.calls.append(("CreateEventW", attributes, manual, initial, name))
        return 202

    def WaitForMultipleObjects(self, count, handles, wait_all, millis):  # noqa: N802
        self.calls.append(("WaitForMultipleObjects", count, tuple(handles), wait_all, millis))
        return self.results.pop(0)

    def FindNextChangeNotification(self, handle):  # noqa: N802
        self.calls.append(("FindNextChangeNotification", handle))
        return 1

    def SetEvent(self, handle):  # noqa: N802
        self.calls.append(("SetEvent", handle))
        return 1

    def FindCloseChangeNotification(self, handle):  # noqa: N802
        self.calls.append(("FindCloseChangeNotification", handle))
        return 1

    def CloseHandle(self, handle):  # noqa: N802
        self.calls.append(("CloseHandle", handle))
        return 1


def test_windows_waits_on_the_folders_change_notification_and_its_own_wake_event():
    db = Path("C:/Users/Tom (Work)/AppData/Local/hermes/state.db")
    kernel32 = FakeKernel32([WAIT_OBJECT_0, WAIT_TIMEOUT, WAIT_OBJECT_0 + 1])
    notifier = WindowsChangeNotifier(db, kernel32=kernel32, handles=lambda *h: list(h))
    assert kernel32.calls[0] == ("FindFirstChangeNotificationW", str(db.parent), False, NOTIFY_FILTER)
    assert kernel32.calls[1] == ("CreateEventW", None, False, False, None)
    assert notifier.wait(0.02) is True  # the folder changed: re-armed for the next change
    assert kernel32.calls[2:4] == [("WaitForMultipleObjects", 2, (101, 202), False, 20),
                                   ("FindNextChangeNotification", 101)]
    assert notifier.wait(5) is False  # a timeout
    notifier.wake()
    assert kernel32.calls[-1] == ("SetEvent", 202)
    assert notifier.wait(5) is False  # the wake event
    notifier.close()
    notifier.wake()  # after close: no handle is touched
    assert kernel32.calls[-2:] == [("FindCloseChangeNotification", 101), ("CloseHandle", 202)]


def test_windows_keeps_the_old_20_ms_cadence_as_its_backstop():
    """The log is Windows' only stop channel; NTFS may announce an open file's writes late."""
    assert platform_named("windows").change_backstop <= 0.02


def test_inotify_event_names_are_read_from_the_packed_buffer():
    from hermes_lifecycle.platforms.inotify import names_in

    def event(name: bytes) -> bytes:
        padded = name + b"\0" * (16 - len(name))
        return struct.pack("iIII", 1, 2, 0, len(padded)) + padded

    assert names_in(event(b"state.db-wal") + event(b"gateway.log") + struct.pack("iIII", 1, 4, 0, 0)) == [
        b"state.db-wal", b"gateway.log", b""]


def test_kqueue_on_a_missing_folder_fails_with_os_error_and_gives_its_queue_back(tmp_path):
    """The waiter then falls back to polling (open_notifier catches OSError)."""
    fake = FakeSelect()
    with pytest.raises(OSError):
        KqueueNotifier(tmp_path / "no-such-folder" / "state.db", select_module=fake)
    assert fake.queue.closed


def test_a_notifier_the_os_refuses_leaves_the_waiter_polling(tmp_path, monkeypatch):
    from hermes_lifecycle.platforms import changes

    class Refusing:
        change_backstop = 5.0

        def change_notifier(self, db_path):
            raise OSError(24, "Too many open files")

    monkeypatch.setattr("hermes_lifecycle.platforms.current_platform", lambda: Refusing())
    notifier, _ = changes.open_notifier(tmp_path / "state.db")
    assert type(notifier) is ChangeNotifier and not notifier.notifies


def test_after_a_commit_a_polling_waiter_never_looks_less_often_than_its_poll(tmp_path):
    class Recording(ChangeNotifier):
        def __init__(self) -> None:
            super().__init__()
            self.timeouts: list[float] = []

        def wait(self, timeout: float) -> bool:
            self.timeouts.append(timeout)
            return super().wait(0)

    home = Home.resolve(tmp_path / "home")
    with Journal(home) as writer, Journal(home) as reader:
        writer.fire("exited", actor="test")
        notifier = Recording()
        waiter = CommitWaiter(reader.conn, notifier, backstop=600)
        writer.fire("exited", actor="test", data={"n": 1})
        assert waiter.wait() is True
        looks = iter(range(12))
        waiter.wait(lambda: next(looks, None) is not None)
        assert notifier.timeouts and max(notifier.timeouts) <= waiter.backstop <= 0.05


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="names descriptors through /proc")
def test_kqueue_watches_the_spool_beside_the_database(tmp_path):
    """A stop request kept in the spool (i12) is written in place: only a watch on the spool
    file itself tells the watcher on macOS, the folder's watch sees no new name."""
    db = tmp_path / "state.db"
    db.write_bytes(b"")
    (tmp_path / "state.db-spool").write_bytes(b"")
    fake = FakeSelect()
    notifier = KqueueNotifier(db, select_module=fake)
    try:
        spool = _watched(fake)["state.db-spool"]
        assert spool.fflags & fake.KQ_NOTE_WRITE
        fake.script.append([SimpleNamespace(ident=spool.ident, fflags=fake.KQ_NOTE_WRITE)])
        assert notifier.wait(1.0) is True
    finally:
        notifier.close()
