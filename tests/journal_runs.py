"""Runs written into a real state.db through the one write path, shaped like the gateway's own events.

Used where a test needs a particular ending without waiting for a real process
(the real-process tests in tests/lifecycle/test_forensics_real.py cover the same endings).
"""

from __future__ import annotations

import time

from hermes_lifecycle.identity import own_identity
from hermes_lifecycle.journal import Journal

ASKER = {"role": "controller", "user": "alice", "host": "box", "pid": 5000,
         "argv": ["hermes", "gateway", "stop"]}


def boot(journal: Journal, run_id: str, *, ready: bool = True, resumed=(), restart_id: str | None = None) -> None:
    """A run of *this* test process, so reconciliation (status) sees it alive until it ends."""
    me = own_identity()
    journal.fire("start", actor=f"gateway alice@box pid {me.pid}", run_id=run_id, pid=me.pid,
                 data={"create_time": me.create_time, **({"restart_id": restart_id} if restart_id else {})})
    for sid in resumed:
        journal.fire("session_resumed", actor="gateway", data={"session": sid})
    if ready:
        journal.fire("ready", actor="gateway", data={"port": 40000})


def request(journal: Journal, intent: str = "stop", timeout: float = 30.0, **extra) -> None:
    journal.fire("stop_requested", actor="controller alice@box pid 5000", reason=intent,
                 data={"target": {"pid": 4242, "create_time": 1.0}, "intent": intent,
                       "deadline": time.time() + timeout, "requested_by": ASKER, **extra})


def drain(journal: Journal, *, sessions=(), abandoned=None, timeout_s: float = 30.0, code: int = 0,
          signal: str | None = None, restart_id: str | None = None) -> None:
    if signal:
        journal.fire("signal_received", actor="gateway", data={"signal": signal})
    journal.fire("drain", actor="gateway", reason="stop", data={"restart_id": restart_id} if restart_id else {})
    journal.fire("resume_pending_marked", actor="gateway", data={"sessions": list(sessions),
                                                                 "count": len(sessions)})
    if abandoned is not None:
        journal.fire("drain_timeout", actor="gateway", data={"timeout_s": timeout_s, "abandoned": abandoned})
    journal.fire("drained", actor="gateway", data={"exit_code": code})


def planned_stop(journal: Journal, run_id: str, *, sessions=(), resumed=(), intent: str = "stop",
                 restart_id: str | None = None, started_by_restart: str | None = None) -> None:
    """``restart_id``: the restart that stops it; ``started_by_restart``: the one that started it."""
    boot(journal, run_id, resumed=resumed, restart_id=started_by_restart)
    request(journal, intent, **({"restart_id": restart_id} if restart_id else {}))
    drain(journal, sessions=sessions, code=75 if intent == "restart" else 0, restart_id=restart_id)


def crash(journal: Journal, run_id: str) -> None:
    boot(journal, run_id)
    journal.fire("lost", actor="controller alice@box pid 6000", reason="process 4242 is gone")


def ended_run(journal: Journal, run_id: str, ending: str) -> None:
    """One run that ends as ``ending`` says (a word of ``tests.strategies.run_endings``)."""
    if ending == "crash":
        crash(journal, run_id)
    elif ending == "start_failed":
        boot(journal, run_id, ready=False)
        journal.fire("start_failed", actor="gateway", reason="boom", data={"error": "boom", "exit_code": 78})
    elif ending == "kill":
        boot(journal, run_id)
        request(journal, timeout=1)
        journal.fire("escalated", actor="controller", data={"step": "kill_tree", "pids": [1]})
        journal.fire("kill", actor="controller")
    elif ending == "signal":
        boot(journal, run_id)
        drain(journal, signal="SIGTERM", code=1)
    elif ending == "timeout":
        boot(journal, run_id)
        request(journal)
        drain(journal, abandoned=[{"session": "x"}])
    else:
        planned_stop(journal, run_id, sessions=["s"], intent=ending)


def write_history(journal: Journal, history: tuple[list[str], bool]) -> list[str]:
    """Write a ``tests.strategies.run_histories`` example; return the run ids, oldest first."""
    endings, alive = history
    for i, ending in enumerate(endings):
        ended_run(journal, f"r{i}", ending)
    if alive:
        boot(journal, "live")
    return [f"r{i}" for i in range(len(endings))] + (["live"] if alive else [])
