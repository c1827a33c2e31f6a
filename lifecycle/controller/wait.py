"""Waiting for a profile to reach a state, without busy-reading the log.

``PRAGMA data_version`` (one integer, no table read) tells when another connection has
committed; only then are the new transitions read, so every state passed through is
seen, even one held for a millisecond.  A recorded process that dies without a word is
noticed by a liveness check every half second (reconciliation appends ``lost``).

The wait fails early when the awaited state cannot come any more: a run ended in a rest
state other than the target, and that run was not being restarted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hermes_lifecycle import store
from hermes_lifecycle.controller.countdown import Countdown, Silent
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES, REST_STATES, TRANSITION_TRIGGERS

POLL = 0.01
LIVENESS_EVERY = 0.5


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
        return 0 if self.reached else 1

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
    until = None if timeout is None else began + timeout
    watch = store.ChangeWatch(journal.conn)
    saw_alive_run = journal.state().state in ALIVE_STATES  # as the log said when the wait began
    current = reconcile(journal)
    seen_seq = current.last_seq
    next_liveness = began + LIVENESS_EVERY

    def outcome(reached: bool, reason: str) -> WaitOutcome:
        return WaitOutcome(target, reached, reason, current.state, round(time.monotonic() - began, 3),
                           current.run_id, current.pid, current.port)

    while True:
        if current.state == target:
            return outcome(True, "reached")
        if (saw_alive_run and current.state in REST_STATES
                and not _restart_pending(journal, current.run_id)):
            return outcome(False, "unreachable")
        now = time.monotonic()
        if until is not None and now >= until:
            return outcome(False, "timeout")
        what = f"waiting for {target}, now {current.state}"
        if until is None:
            countdown.waited(what, now - began)
        else:
            countdown.show(what, until - now)
        time.sleep(POLL if until is None else max(min(POLL, until - now), 0))
        check_liveness = current.state in ALIVE_STATES and time.monotonic() >= next_liveness
        if not watch.changed() and not check_liveness:
            continue
        if check_liveness:
            next_liveness = time.monotonic() + LIVENESS_EVERY
            reconcile(journal)
        for event in journal.events(after_seq=seen_seq, triggers=tuple(TRANSITION_TRIGGERS)):
            seen_seq = event.seq
            if event.to_state == target:
                current = journal.state()
                return outcome(True, "reached")
            saw_alive_run = saw_alive_run or event.to_state in ALIVE_STATES
        current = journal.state()
