"""The stop-request watcher: a real thread on a real state.db, one behaviour per test.

The gateway process is this test process: its identity is the target of the requests.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from hermes_lifecycle.identity import ProcessIdentity, own_identity
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.runtime.watcher import StopRequestWatcher
from hermes_lifecycle.stop_request import request_stop
from tests.gateways import wait_for


@pytest.fixture
def started(journal):
    """The stream in ``running`` for this process; returns the ``start`` event."""
    me = own_identity()
    start = journal.fire("start", actor="test", run_id="r-test", pid=me.pid, data={"create_time": me.create_time})
    journal.fire("ready", actor="test", data={"port": 1})
    return start


class Recorder:
    def __init__(self, draining: bool = False) -> None:
        self.requests = []
        self.draining = draining
        self.event = threading.Event()

    def dispatch(self, request) -> None:
        self.requests.append(request)
        self.event.set()

    def is_draining(self) -> bool:
        return self.draining


@pytest.fixture
def watch(home):
    watchers = []

    def make(after_seq: int, recorder: Recorder, **kwargs) -> StopRequestWatcher:
        watcher = StopRequestWatcher(home, own_identity(), run_id="r-test", after_seq=after_seq,
                                     dispatch=recorder.dispatch, is_draining=recorder.is_draining, **kwargs)
        watchers.append(watcher)
        return watcher.start()

    yield make
    for watcher in watchers:
        watcher.stop()


def _ask(journal, target: ProcessIdentity | None = None, intent: str = "stop"):
    return request_stop(journal, target or own_identity(), intent, time.time() + 30, "controller")


def test_request_for_this_process_is_dispatched(journal, started, watch):
    recorder = Recorder()
    watch(started.seq, recorder)
    event = _ask(journal, intent="restart")
    assert recorder.event.wait(30)
    assert [(r.seq, r.intent) for r in recorder.requests] == [(event.seq, "restart")]


def test_idle_without_a_request_dispatches_nothing_and_writes_nothing(journal, started, watch):
    recorder = Recorder()
    watch(started.seq, recorder)
    journal.fire("signal_received", actor="test", data={"signal": "SIGHUP"})  # a change, not a request
    versions = journal.state().version
    assert not recorder.event.wait(0.5)
    assert recorder.requests == [] and journal.state().version == versions


def test_request_while_already_draining_is_left_to_the_drain_under_way(journal, started, watch):
    recorder = Recorder(draining=True)
    watcher = watch(started.seq, recorder)
    event = _ask(journal)
    wait_for(lambda: watcher.ignored, what="the request to be seen")
    assert recorder.requests == []
    assert watcher.ignored == [(event.seq, "the gateway is already draining")]


def test_fires_once_however_many_requests_arrive(journal, started, watch):
    recorder = Recorder()
    watcher = watch(started.seq, recorder)
    first = _ask(journal)
    assert recorder.event.wait(30)
    second = _ask(journal, intent="restart")
    wait_for(lambda: watcher.ignored, what="the second request to be seen")
    assert [r.seq for r in recorder.requests] == [first.seq]
    assert watcher.ignored == [(second.seq, f"already acted on request seq {first.seq}")]


def test_request_for_another_process_is_ignored_and_left_alone(journal, started, watch):
    recorder = Recorder()
    watcher = watch(started.seq, recorder)
    other = _ask(journal, ProcessIdentity(own_identity().pid + 1, 1.0))
    wait_for(lambda: watcher.ignored, what="the request to be seen")
    assert recorder.requests == [] and watcher.ignored[0][0] == other.seq
    assert journal.events(triggers=("stop_refused",)) == []


def test_request_for_a_reused_pid_is_refused_with_an_event_saying_why(journal, started, watch):
    recorder = Recorder()
    watch(started.seq, recorder)
    me = own_identity()
    stale = _ask(journal, ProcessIdentity(me.pid, me.create_time - 3600))
    refused = wait_for(lambda: journal.events(triggers=("stop_refused",)), what="stop_refused")
    assert recorder.requests == []
    assert refused[0].data["request_seq"] == stale.seq
    assert "reused" in refused[0].reason


def test_database_error_is_logged_and_retried_never_fatal(home, home_dir, watch):
    """The watcher starts on a file that is not a database; once it is, requests still arrive."""
    home_dir.mkdir(parents=True)
    home.state_db.write_bytes(b"this is not an SQLite database, it is a test" * 4)
    recorder = Recorder()
    watcher = watch(0, recorder)
    wait_for(lambda: len(watcher.errors) >= 2, what="repeated database errors")
    assert watcher.alive
    home.state_db.unlink()
    with Journal(home) as journal:
        me = own_identity()
        journal.fire("start", actor="test", pid=me.pid, data={"create_time": me.create_time})
        _ask(journal)
        assert recorder.event.wait(30), f"no dispatch after recovery; errors: {watcher.errors[-1:]}"


def test_request_written_during_start_is_dispatched(journal, home, watch):
    """A request in ``starting`` (before ``ready``) is not lost."""
    me = own_identity()
    start = journal.fire("start", actor="test", pid=me.pid, data={"create_time": me.create_time})
    recorder = Recorder()
    watch(start.seq, recorder)
    _ask(journal)
    assert recorder.event.wait(30)
    assert journal.state().state == "starting"


def test_stop_ends_the_thread_promptly(journal, started, watch):
    recorder = Recorder()
    watcher = watch(started.seq, recorder, interval=0.005)
    began = time.monotonic()
    watcher.stop(timeout=30)
    assert not watcher.alive
    assert time.monotonic() - began < 10  # generous: proves it did not hang


def test_stop_wakes_a_watcher_asleep_on_a_long_backstop(journal, started, watch):
    """The watcher sleeps on the change notification; ``stop()`` must not wait out its backstop."""
    recorder = Recorder()
    watcher = watch(started.seq, recorder, interval=600)
    wait_for(lambda: watcher._waiter is not None, what="the watcher to begin its watch")
    began = time.monotonic()
    watcher.stop(timeout=60)
    assert not watcher.alive
    assert time.monotonic() - began < 30  # a missed wake would take the 600 s backstop


def test_request_is_seen_by_the_notification_not_the_backstop(journal, started, watch):
    """With a backstop of 10 minutes, only the OS's change notification can bring the request in."""
    recorder = Recorder()
    watcher = watch(started.seq, recorder, interval=600)
    wait_for(lambda: watcher._waiter is not None, what="the watcher to begin its watch")
    event = _ask(journal)
    assert recorder.event.wait(60), "the commit was not noticed"
    assert [r.seq for r in recorder.requests] == [event.seq]


def _voluntary_switches(native_id: int) -> int:
    with open(f"/proc/self/task/{native_id}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="counts context switches in /proc")
def test_an_idle_watcher_does_not_wake(journal, started, watch):
    """At rest the watcher thread sleeps on the notification: a handful of wakeups in a second,
    not one per 20 ms poll (50) as before."""
    watcher = watch(started.seq, Recorder())
    wait_for(lambda: watcher._waiter is not None and watcher._waiter._pending_since is None,
             what="the watcher to settle after its first look")
    thread = watcher._thread
    before = _voluntary_switches(thread.native_id)
    time.sleep(1.0)
    assert _voluntary_switches(thread.native_id) - before <= 5
