"""Runs: the events of one boot, grouped, with when it began, how long it lasted and how it ended.

Every query here is one of the store's bounded index walks (:mod:`hermes_lifecycle.store.queries`),
so history stays cheap on a log of millions of events.  Nothing here imports
``transitions``, ``sqlite_utils`` or ``psutil``: ``status`` runs through it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hermes_lifecycle.machine import ENDINGS, START_TRIGGER
from hermes_lifecycle.store import Event, parse_at
from hermes_lifecycle.store.queries import first_after, latest_by_trigger, run_events

__all__ = ["ENDINGS", "RunSpan", "first_after", "group_by_run", "last_ended_run_id", "latest_by_trigger",
           "latest_endings", "newest_run_id", "next_run_start", "run_events"]



@dataclass
class RunSpan:
    """One run as seen through some of its transitions (``partial`` when its start is not among them)."""

    run_id: str | None
    transitions: list[Event] = field(default_factory=list)

    @property
    def start(self) -> Event | None:
        return next((e for e in self.transitions if e.trigger == START_TRIGGER), None)

    @property
    def end(self) -> Event | None:
        last = self.transitions[-1] if self.transitions else None
        return last if last is not None and last.trigger in ENDINGS else None

    @property
    def partial(self) -> bool:
        return self.start is None

    @property
    def started_at(self) -> str | None:
        return self.start.at if self.start else None

    @property
    def ended_at(self) -> str | None:
        return self.end.at if self.end else None

    @property
    def state(self) -> str:
        return self.transitions[-1].to_state if self.transitions else "stopped"

    @property
    def started_by_restart(self) -> str | None:
        """The restart id this run's ``start`` carries: the restart that began it."""
        return self.start.data.get("restart_id") if self.start else None

    @property
    def ended_by_restart(self) -> str | None:
        """The restart id its ``drain`` carries: the restart whose stop request ended it."""
        drain = next((e for e in self.transitions if e.trigger == "drain"), None)
        return drain.data.get("restart_id") if drain else None

    def duration_s(self, now: datetime | None = None) -> float | None:
        """Seconds from start to end (to ``now`` while the run is alive); None without a start."""
        if self.start is None:
            return None
        until = parse_at(self.end.at) if self.end else (now or datetime.now(timezone.utc))
        return round((until - parse_at(self.start.at)).total_seconds(), 6)

    def to_json(self, now: datetime | None = None) -> dict:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_s": self.duration_s(now),
            "end": self.end.trigger if self.end else None,
            "state": self.state,
            "partial": self.partial,
            "started_by_restart": self.started_by_restart,
            "ended_by_restart": self.ended_by_restart,
            "transitions": [e.seq for e in self.transitions],
        }


def group_by_run(transitions: list[Event]) -> list[RunSpan]:
    """Consecutive transitions of the same run, oldest run first."""
    runs: list[RunSpan] = []
    for event in transitions:
        if not runs or runs[-1].run_id != event.run_id or event.trigger == START_TRIGGER:
            runs.append(RunSpan(event.run_id))
        runs[-1].transitions.append(event)
    return runs


def latest_endings(conn: sqlite3.Connection, stream: str, limit: int) -> list[Event]:
    """The newest ``limit`` run-ending transitions, newest first: one bounded index walk per trigger."""
    found: list[Event] = []
    for trigger in ENDINGS:
        found.extend(latest_by_trigger(conn, stream, trigger, limit))
    found.sort(key=lambda e: e.seq, reverse=True)
    return found[:limit]


def newest_run_id(conn: sqlite3.Connection, stream: str) -> str | None:
    starts = latest_by_trigger(conn, stream, START_TRIGGER, 1)
    return starts[0].run_id if starts else None


def next_run_start(conn: sqlite3.Connection, stream: str, after_seq: int) -> Event | None:
    """The ``start`` of the run that followed the event at ``after_seq``."""
    return first_after(conn, stream, START_TRIGGER, after_seq)


def last_ended_run_id(conn: sqlite3.Connection, stream: str) -> str | None:
    endings = latest_endings(conn, stream, 1)
    return endings[0].run_id if endings else None
