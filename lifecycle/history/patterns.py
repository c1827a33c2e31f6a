"""Patterns across runs that a person should hear about in ``status``: crash loops, restarts
that never came back, runs that ended with no shutdown.

Every check looks only at the newest :data:`LOOKBACK` run endings or stop requests
(bounded index walks), so ``status`` costs the same on a log of ten events or ten million.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.durations import human
from hermes_lifecycle.history.runs import first_after, latest_by_trigger, latest_endings
from hermes_lifecycle.machine import ALIVE_STATES
from hermes_lifecycle.projection import StreamState
from hermes_lifecycle.store.events import Event, parse_at

#: How many recent endings / stop requests the warnings look at.
LOOKBACK = 20
#: How many of each the window counts look at (``capped`` says when they ran out).
COUNT_LOOKBACK = 100
#: A crash loop: this many unplanned ends ...
CRASH_LOOP_ENDS = 5
#: ... within this many seconds.
CRASH_LOOP_WINDOW_S = 600
#: The window of ``counts`` in ``status --json``.
COUNT_WINDOW_S = 86400
#: A restart whose new run is still starting after this long is reported.
RESTART_STUCK_S = 60


def _unplanned(ending: Event, requested_runs: set[str | None]) -> bool:
    """An end nobody asked for: a crash, a failed boot, or a drain with no stop request behind it."""
    if ending.trigger in ("lost", "start_failed"):
        return True
    return ending.trigger == "drained" and ending.run_id not in requested_runs


def _context(conn: sqlite3.Connection, stream: str,
             lookback: int = LOOKBACK) -> tuple[list[Event], list[Event], set[str | None]]:
    endings = latest_endings(conn, stream, lookback)
    requests = latest_by_trigger(conn, stream, "stop_requested", lookback)
    return endings, requests, {r.run_id for r in requests}


def counts(conn: sqlite3.Connection, stream: str, now: datetime | None = None,
           window_s: float = COUNT_WINDOW_S) -> dict[str, Any]:
    """Restarts, crashes and unplanned ends in the last ``window_s`` seconds (at most COUNT_LOOKBACK each)."""
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(seconds=window_s)
    endings, requests, requested_runs = _context(conn, stream, COUNT_LOOKBACK)
    recent_ends = [e for e in endings if parse_at(e.at) >= since]
    recent_requests = [r for r in requests if parse_at(r.at) >= since]
    return {
        "window_s": window_s,
        "since": since.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "restarts": sum(1 for r in recent_requests if r.data.get("intent") == "restart"),
        "stops": sum(1 for r in recent_requests if r.data.get("intent", "stop") == "stop"),
        "crashes": sum(1 for e in recent_ends if e.trigger == "lost"),
        "kills": sum(1 for e in recent_ends if e.trigger == "kill"),
        "unplanned_ends": sum(1 for e in recent_ends if _unplanned(e, requested_runs)),
        "capped": len(recent_ends) == COUNT_LOOKBACK or len(recent_requests) == COUNT_LOOKBACK,
    }


def _warning(kind: str, message: str, command: str) -> dict[str, str]:
    return {"kind": kind, "message": message, "command": command}


def _crash_loop(endings: list[Event], requested_runs: set[str | None], now: datetime) -> dict[str, str] | None:
    """Five unplanned ends within ten minutes, the last of them within the past day: an old
    loop the gateway has long recovered from is history, not a warning."""
    recent = now - timedelta(seconds=COUNT_WINDOW_S)
    unplanned = [e for e in reversed(endings) if _unplanned(e, requested_runs) and parse_at(e.at) >= recent]
    for i in range(len(unplanned) - CRASH_LOOP_ENDS, -1, -1):
        first, last = unplanned[i], unplanned[i + CRASH_LOOP_ENDS - 1]
        span = (parse_at(last.at) - parse_at(first.at)).total_seconds()
        if span <= CRASH_LOOP_WINDOW_S:
            return _warning(
                "crash_loop",
                f"crash loop: {CRASH_LOOP_ENDS} unplanned ends within {human(span)} "
                f"(the last at {last.at}, run {last.run_id})",
                f"{CLI} status --history",
            )
    return None


def _restart_not_ready(conn: sqlite3.Connection, stream: str, requests: list[Event],
                       current: StreamState, now: datetime) -> dict[str, str] | None:
    restart = next((r for r in requests if r.data.get("intent") == "restart"), None)
    # The ready of a *new* run: a restart asked while starting may see the old run become ready first.
    if restart is None or first_after(conn, stream, "ready", restart.seq, other_than_run=restart.run_id):
        return None
    if current.state == "starting" and current.run_id != restart.run_id:
        waited = (now - parse_at(current.since)).total_seconds() if current.since else 0
        if waited < RESTART_STUCK_S:
            return None
        message = f"the restart requested at {restart.at} is still starting after {human(waited)}"
    elif current.state in ALIVE_STATES:
        return None
    else:
        message = f"the restart requested at {restart.at} never reached ready (now {current.state})"
    return _warning("restart_not_ready", message, f"{CLI} forensics --run {restart.run_id}")


def warnings(conn: sqlite3.Connection, stream: str, current: StreamState,
             now: datetime | None = None) -> list[dict[str, str]]:
    """One-line warnings, each with the command that shows more."""
    now = now or datetime.now(timezone.utc)
    endings, requests, requested_runs = _context(conn, stream)
    found = []
    loop = _crash_loop(endings, requested_runs, now)
    if loop:
        found.append(loop)
    stuck = _restart_not_ready(conn, stream, requests, current, now)
    if stuck:
        found.append(stuck)
    if endings and endings[0].trigger == "lost" and \
            (now - parse_at(endings[0].at)).total_seconds() <= COUNT_WINDOW_S:
        found.append(_warning(
            "no_shutdown",
            f"run {endings[0].run_id} ended with no shutdown at all (noticed at {endings[0].at})",
            f"{CLI} forensics --run {endings[0].run_id}",
        ))
    return found
