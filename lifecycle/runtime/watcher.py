"""The stop-request watcher: a daemon thread that turns a ``stop_requested`` event into a drain.

On Windows the asyncio loop cannot take SIGTERM, so this is the only way a stop
reaches the gateway; elsewhere it is the planned path and signals are the backup.
It sleeps on the OS's change notification for the database's folder (a
:class:`~hermes_lifecycle.platforms.changes.CommitWaiter`: inotify, kqueue or a
Windows change notification, with a backstop poll) and reads the log only when SQLite
``PRAGMA data_version`` says another connection committed; an idle gateway wakes
about once per backstop instead of 50 times a second at the old 20 ms poll.

A stop request the controller could only keep in the spool (a full disk, a locked
database: see :mod:`hermes_lifecycle.spooled`) is seen the same way, through the
spool's fingerprint; while the spool holds events, the watcher also tries every
:data:`REPLAY_INTERVAL` to land them in the log.

Rules: it dispatches at most once; it does nothing while the gateway already drains;
a database error is logged and retried with its own fresh connection, never fatal;
``stop()`` wakes it and ends it at once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Callable

from hermes_lifecycle import store
from hermes_lifecycle.errors import USER_ERRORS, HermesError, IllegalTransition
from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import ProcessIdentity, who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms.changes import CommitWaiter
from hermes_lifecycle.stop_request import MINE, REFUSE, SPOOL_AFTER, StopRequest, judge

ERROR_BACKOFF = 0.2
REPLAY_INTERVAL = 1.0

log = logging.getLogger("hermes.watcher")


class StopRequestWatcher:
    """Watches ``home``'s stream for stop requests addressed to ``me`` after ``after_seq``.

    ``dispatch(request)`` is called from the watcher thread (use
    ``loop.call_soon_threadsafe`` inside it); ``is_draining()`` says whether a
    shutdown is already under way.
    """

    def __init__(self, home: Home, me: ProcessIdentity, *, run_id: str, after_seq: int,
                 dispatch: Callable[[StopRequest], None], is_draining: Callable[[], bool],
                 interval: float | None = None) -> None:
        self.home = home
        self.me = me
        self.run_id = run_id
        self.after_seq = after_seq
        self._dispatch = dispatch
        self._is_draining = is_draining
        self.interval = interval  # the backstop poll; None: the platform's
        self._waiter: CommitWaiter | None = None
        self.fired: StopRequest | None = None
        self.ignored: list[tuple[int, str]] = []  # (seq, why) of requests seen and not acted on
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hermes-stop-watcher", daemon=True)
        self._journal: Journal | None = None
        self._seen_keys: set[str] = set()  # idempotency keys of spooled requests already judged
        self._next_replay = 0.0
        self._seen_spool: tuple[int, int, int, int] | None = None  # the spool's fingerprint at the last scan

    def start(self) -> "StopRequestWatcher":
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        waiter = self._waiter
        if waiter is not None:
            waiter.wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        keep_going = lambda: not self._stop.is_set()  # noqa: E731
        try:
            while keep_going():
                try:
                    journal = self._open()
                    if self._waiter is None:
                        self._waiter = CommitWaiter(journal.conn, backstop=self.interval)
                        self._seen_spool = _spool_print(journal)
                        self._scan(journal)  # whatever came before the watch began
                    else:
                        self._wait_and_scan(journal, self._waiter, keep_going)
                    if self._seen_spool is not None and self._seen_spool[2]:
                        self._try_replay(journal)
                except (sqlite3.Error, OSError, *USER_ERRORS) as exc:
                    self.errors.append(str(exc))
                    log.warning("stop-request watcher: database error, retrying: %s", exc)
                    self._close()
                    self._stop.wait(ERROR_BACKOFF)
                    continue
        finally:
            self._close()

    def _open(self) -> Journal:
        if self._journal is None:
            if not self.home.state_db.exists():
                raise OSError(f"{self.home.state_db} does not exist")
            journal = Journal(self.home)
            try:
                journal.conn  # noqa: B018 -- open now so a broken database fails here
            except BaseException:
                journal.close()
                raise
            self._journal = journal
        return self._journal

    def _close(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.close()
        if self._journal is not None:
            try:
                self._journal.close()
            except sqlite3.Error:
                pass
            self._journal = None

    def _wait_and_scan(self, journal: Journal, waiter: CommitWaiter, keep_going: Callable[[], bool]) -> None:
        """Sleep until another connection commits, the spool changes (a stop request kept
        there: the spool sits beside state.db, so the folder's notification wakes us), or,
        while the spool holds events, the next replay attempt is due; then scan if the log
        or the spool changed.  An empty spool adds no wakeup: an idle gateway sleeps a backstop."""
        seen = self._seen_spool
        holding = seen is not None and bool(seen[2])

        def quiet() -> bool:
            if not keep_going() or _spool_print(journal) != seen:
                return False
            return not (holding and time.monotonic() >= self._next_replay)

        committed = waiter.wait(quiet, longest=REPLAY_INTERVAL if holding else None)
        if not keep_going():
            return
        now = _spool_print(journal)
        if committed or now != seen:
            self._seen_spool = now  # before the scan: a change during it is seen on the next look
            self._scan(journal)

    def _try_replay(self, journal: Journal) -> None:
        """Now and then, land the spooled events (the log may take writes again)."""
        now = time.monotonic()
        if now < self._next_replay:
            return
        self._next_replay = now + REPLAY_INTERVAL
        assert journal.spool is not None
        try:
            with journal.spool.write_lock.held(0.05, "the write lock"):
                journal.replay()
        except (sqlite3.OperationalError, *USER_ERRORS) as exc:
            log.info("the spool still waits for state.db: %s", exc)

    def _scan(self, journal: Journal) -> None:
        for event in journal.events(after_seq=self.after_seq, triggers=("stop_requested",)):
            if event.idempotency_key not in self._seen_keys:
                self._consider(journal, event)
            self.after_seq = event.seq
        for event in journal.pending():
            if event.trigger == "stop_requested" and event.idempotency_key not in self._seen_keys:
                self._seen_keys.add(event.idempotency_key or "")
                self._consider(journal, event)

    def _consider(self, journal: Journal, event: store.Event) -> None:
        try:
            request = StopRequest.from_event(event)
        except HermesError as exc:
            self._refuse(journal, event.seq, str(exc), None, event.idempotency_key)
            return
        verdict = judge(request, self.me)
        if verdict.decision == REFUSE:
            self._refuse(journal, event.seq, verdict.why, request, event.idempotency_key)
        elif verdict.decision != MINE:
            self.ignored.append((event.seq, verdict.why))
        elif self.fired is not None:
            self.ignored.append((event.seq, f"already acted on request seq {self.fired.seq}"))
        elif self._is_draining():
            self.ignored.append((event.seq, "the gateway is already draining"))
        else:
            self.fired = request
            self._dispatch(request)

    def _refuse(self, journal: Journal, seq: int, why: str, request: StopRequest | None,
                request_key: str | None = None) -> None:
        self.ignored.append((seq, why))
        data = {"request_seq": seq, "why": why, "me": self.me.to_json()}
        if request is not None:
            data["target"] = request.target.to_json()
        try:
            journal.fire("stop_refused", actor=who("watcher"), run_id=self.run_id, pid=self.me.pid,
                         reason=why, data=data, idempotency_key=f"stop_refused:{seq or request_key}",
                         spool_after=SPOOL_AFTER)
        except IllegalTransition:
            log.info("stop request seq %s refused, but the stream is at rest: %s", seq, why)


def _spool_print(journal: Journal) -> tuple[int, int, int, int] | None:
    """The spool's fingerprint (None without a spool): a cheap look, no lock."""
    spool = journal.spool
    return spool.fingerprint() if spool is not None else None
