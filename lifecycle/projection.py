"""The current state of a stream as a pure fold over its events.

What a run's facts are and which states end them is the lifecycle's knowledge, so the fold
lives here and not in the store: :meth:`Journal.fire` hands :func:`fold_row` to
:func:`hermes_lifecycle.store.append`, which writes the row it returns to the ``streams``
table in the same transaction as each event.  :func:`verify_projection` rebuilds it from
the log alone and compares.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any

from hermes_lifecycle.machine import INITIAL_STATE as INITIAL
from hermes_lifecycle.machine import REST_STATES
from hermes_lifecycle.store import Event, read_stream_row
from hermes_lifecycle.store.queries import iter_stream

#: Facts of a run carried from its events into the projection (``status --json``).
RUN_FACTS = ("port", "host", "cmdline", "app")


@dataclass(frozen=True)
class StreamState:
    stream: str
    state: str = INITIAL
    version: int = 0
    last_seq: int = 0
    run_id: str | None = None
    pid: int | None = None
    create_time: float | None = None
    since: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: tuple) -> "StreamState":
        values = list(row)
        values[7] = values[7] or None
        values[8] = json.loads(values[8]) if values[8] else {}
        return cls(*values)

    def to_row(self) -> tuple:
        return (
            self.stream, self.state, self.version, self.last_seq, self.run_id, self.pid,
            self.create_time, self.since or "", json.dumps(self.data, sort_keys=True),
        )

    @property
    def port(self) -> int | None:
        return self.data.get("port")


def initial_state(stream: str) -> StreamState:
    return StreamState(stream=stream)


def fold(state: StreamState, event: Event) -> StreamState:
    """Apply one event to a stream's state.  Pure: the same log always folds the same."""
    changes: dict[str, Any] = {"version": event.version, "last_seq": event.seq}
    if event.kind != "transition":
        return replace(state, **changes)
    changes["state"] = event.to_state
    changes["since"] = event.at
    if event.trigger == "start":
        changes["run_id"] = event.run_id
        changes["pid"] = event.pid
        changes["create_time"] = event.data.get("create_time")
        changes["data"] = {k: event.data[k] for k in RUN_FACTS if k in event.data}
    else:
        facts = {k: event.data[k] for k in RUN_FACTS if k in event.data}
        if facts:
            changes["data"] = {**state.data, **facts}
    if event.to_state in REST_STATES:
        changes["pid"] = None
        changes["create_time"] = None
        changes["data"] = {k: v for k, v in changes.get("data", state.data).items() if k != "port"}
    return replace(state, **changes)


def fold_row(row: tuple | None, event: Event) -> tuple:
    """The fold as the store takes it: the stored ``lifecycle_streams`` row (None for a new stream) and
    the event just appended, to the row to write back."""
    before = StreamState.from_row(row) if row is not None else initial_state(event.stream)
    return fold(before, event).to_row()


def read_state(conn: sqlite3.Connection, stream: str) -> StreamState:
    """The projection of ``stream`` (the initial state if it has no events yet)."""
    row = read_stream_row(conn, stream)
    return initial_state(stream) if row is None else StreamState.from_row(row)


def rebuild(conn: sqlite3.Connection, stream: str) -> StreamState:
    """Fold the whole log of a stream from scratch."""
    state = initial_state(stream)
    for event in iter_stream(conn, stream):
        state = fold(state, event)
    return state


def verify_projection(conn: sqlite3.Connection, stream: str) -> tuple[StreamState, StreamState]:
    """Return (stored projection, fold of the log); equal when the store is consistent."""
    return read_state(conn, stream), rebuild(conn, stream)
