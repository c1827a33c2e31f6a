"""Waiting on the log: the one loop behind ``wait``, ``start`` and the service path.

``PRAGMA data_version`` (one integer, no table read) tells when another connection has
committed; only then are the new transitions read, so every state passed through is
seen, even one held for a millisecond.  A recorded process that dies without a word is
noticed by a liveness check every half second (reconciliation appends ``lost``).
:func:`poll_log` is that loop; each waiter only says what it looks for.

The wait fails early when the awaited state cannot come any more: a run ended in a rest
state other than the target, and that run was not being restarted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from hermes_lifecycle import store
from hermes_lifecycle.controller.countdown import Countdown, Silent
from hermes_lifecycle.exit_codes import CommandExit
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES, REST_STATES, TRANSITION_TRIGGERS

POLL = 0.01
LIVENESS_EVERY = 0.5

Answer = TypeVar("Answer")


def poll_log(journal: Journal, look: Callable[[bool], Answer | None], *, until: float | None,
             countdown: Countdown | None = None, waiting: str | Callable[[], str] = "",
             liveness: Callable[[], bool] = lambda: True) -> Answer | None:
    """Call ``look(changed)`` now and after every poll until it answers (not None); None once
    ``until`` (a ``time.monotonic()`` reading; None: no limit) has passed.

    ``changed`` says another connection committed since the last look (always true for the
    first).  While ``liveness()`` holds, the recorded process is checked every
    :data:`LIVENESS_EVERY` seconds, so a silent death becomes ``lost`` and counts as a change.
    ``countdown`` shows ``waiting`` (a text, or a function giving it afresh) and the time left
    on a terminal (with no limit: the time waited so far), and is cleared on return.
    """
    from hermes_lifecycle.reconcile import reconcile

    countdown = countdown or Silent()
    watch = store.ChangeWatch(journal.conn)
    changed = True
    began = time.monotonic()
    next_liveness = time.monotonic() + LIVENESS_EVERY
    while True:
        answer = look(changed)
        if answer is not None:
            countdown.done()
            return answer
        remaining = None if until is None else until - time.monotonic()
        if remaining is not None and remaining <= 0:
            countdown.done()
            return None
        if waiting:
            what = waiting() if callable(waiting) else waiting
            if remaining is None:
                countdown.waited(what, time.monotonic() - began)
            else:
                countdown.show(what, remaining)
        time.sleep(POLL if remaining is None else min(POLL, remaining))
        changed = watch.changed()
        if liveness() and time.monotonic() >= next_liveness:
            next_liveness = time.monotonic() + LIVENESS_EVERY
            reconcile(journal)
            changed = True


@dataclass
class WaitOutcome:
    target: str
    reached: bool
    reason: str  # reached, timeout or unreachable
    state: str
    waited_s: float
    run_id: str | None = None
    pid: int | None = None
    port: int | None = None

    @property
    def exit_code(self) -> int:
        return int(CommandExit.OK if self.reached else CommandExit.FAILED)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "reached": self.reached, "reason": self.reason,
                "state": self.state, "waited_s": self.waited_s, "run_id": self.run_id,
                "pid": self.pid, "port": self.port}


def _restart_pending(journal: Journal, run_id: str | None) -> bool:
    """True when the run that just ended was asked to restart (a new run will follow)."""
    requests = journal.events(run_id=run_id, triggers=("stop_requested",)) if run_id else []
    return bool(requests) and requests[-1].data.get("intent") == "restart"


def wait_for_state(journal: Journal, target: str, timeout: float | None,
                   countdown: Countdown | None = None) -> WaitOutcome:
    """Block until the stream is in ``target`` (or passes through it), the timeout passes,
    or ``target`` can no longer come.  ``countdown`` shows the wait on a terminal."""
    try:
        return _wait(journal, target, timeout, countdown or Silent())
    finally:
        (countdown or Silent()).done()


def _wait(journal: Journal, target: str, timeout: float | None, countdown: Countdown) -> WaitOutcome:
    from hermes_lifecycle.reconcile import reconcile

    began = time.monotonic()
    saw_alive_run = journal.state().state in ALIVE_STATES  # as the log said when the wait began
    current = reconcile(journal)
    seen_seq = current.last_seq

    def outcome(reached: bool, reason: str) -> WaitOutcome:
        return WaitOutcome(target, reached, reason, current.state, round(time.monotonic() - began, 3),
                           current.run_id, current.pid, current.port)

    def look(changed: bool) -> WaitOutcome | None:
        nonlocal current, seen_seq, saw_alive_run
        if changed:
            for event in journal.events(after_seq=seen_seq, triggers=tuple(TRANSITION_TRIGGERS)):
                seen_seq = event.seq
                if event.to_state == target:
                    current = journal.state()
                    return outcome(True, "reached")
                saw_alive_run = saw_alive_run or event.to_state in ALIVE_STATES
            current = journal.state()
        if current.state == target:
            return outcome(True, "reached")
        if (saw_alive_run and current.state in REST_STATES
                and not _restart_pending(journal, current.run_id)):
            return outcome(False, "unreachable")
        return None

    found = poll_log(journal, look, until=None if timeout is None else began + timeout, countdown=countdown,
                     waiting=lambda: f"waiting for {target}, now {current.state}",
                     liveness=lambda: current.state in ALIVE_STATES)
    return found if found is not None else outcome(False, "timeout")
