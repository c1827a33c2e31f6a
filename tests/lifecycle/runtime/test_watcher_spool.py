"""The notification-based watcher (i13) and the spool (i12): a stop request kept in the spool
while state.db is locked is seen by the folder's change notification, not by the backstop, and
a spool holding events is landed in the log within about a second, not at the next backstop.

Real thread, real state.db, a real second connection holding SQLite's write lock; the backstop
is ten minutes, so only the notification and the replay's own timer can pass these tests.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from hermes_lifecycle.identity import ProcessIdentity
from hermes_lifecycle.stop_request import request_stop
from hermes_lifecycle.store import read_events
from tests.gateways import wait_for
from tests.lifecycle.runtime.test_watcher import Recorder, started, watch  # noqa: F401 -- fixtures


@contextmanager
def locked(db: Path):
    """Another connection holds state.db's write lock (BEGIN EXCLUSIVE) until the block ends."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _stop_requests_in_log(db: Path) -> list:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return read_events(conn, triggers=("stop_requested",))
    finally:
        conn.close()


def test_a_spooled_stop_request_is_seen_by_the_notification(journal, home, started, watch):  # noqa: F811
    recorder = Recorder()
    watcher = watch(started.seq, recorder, interval=600)
    wait_for(lambda: watcher._waiter is not None, what="the watcher to begin its watch")
    with locked(home.state_db):
        request = request_stop(journal, watcher.me, "stop", time.time() + 30, "controller")
        assert request.seq == 0  # kept in the spool
        assert recorder.event.wait(60), "the spooled request was not noticed"
    assert [r.target for r in recorder.requests] == [watcher.me]


def test_a_spool_holding_events_is_landed_by_the_watcher_within_seconds(journal, home, started, watch):  # noqa: F811
    recorder = Recorder()
    watcher = watch(started.seq, recorder, interval=600)
    wait_for(lambda: watcher._waiter is not None, what="the watcher to begin its watch")
    someone_else = ProcessIdentity(watcher.me.pid + 1_000_000, 1.0)
    with locked(home.state_db):
        assert request_stop(journal, someone_else, "stop", time.time() + 30, "controller").seq == 0
    began = time.monotonic()
    wait_for(lambda: bool(_stop_requests_in_log(home.state_db)), what="the watcher to land the spool")
    assert time.monotonic() - began < 60  # the 600 s backstop would not have
    assert recorder.requests == []  # addressed to another process: left alone
