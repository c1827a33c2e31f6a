"""Bounded reads of the log that history, forensics and prune ask for.

Every query here goes through an index of ``lifecycle_events`` (``lifecycle_events_stream_trigger``,
``lifecycle_events_run`` or the ``(stream, version)`` key) and is bounded by a limit where it can
grow with the log, so history stays cheap on a log of millions of events.  They live in
the store so that no SQL on the store's tables is written anywhere else.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from hermes_lifecycle.store.events import EVENT_COLUMNS, Event


def _rows(conn: sqlite3.Connection, sql: str, params: tuple) -> list[Event]:
    return [Event.from_row(r) for r in conn.execute(sql, params)]


def iter_stream(conn: sqlite3.Connection, stream: str) -> Iterator[Event]:
    """Every event of a stream in log order, one row at a time (a rebuild of a long log)."""
    for row in conn.execute(f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? ORDER BY seq", (stream,)):
        yield Event.from_row(row)


def latest_by_trigger(conn: sqlite3.Connection, stream: str, trigger: str, limit: int,
                      *, before_seq: int | None = None) -> list[Event]:
    """The newest ``limit`` events with this trigger, newest first (index ``lifecycle_events_stream_trigger``)."""
    if before_seq is None:
        return _rows(conn, f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? AND trigger = ? "
                           "ORDER BY seq DESC LIMIT ?", (stream, trigger, limit))
    return _rows(conn, f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? AND trigger = ? "
                       "AND seq < ? ORDER BY seq DESC LIMIT ?", (stream, trigger, before_seq, limit))


def all_by_trigger(conn: sqlite3.Connection, stream: str, trigger: str) -> list[Event]:
    """Every event with this trigger, newest first (index ``lifecycle_events_stream_trigger``)."""
    return _rows(conn, f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? AND trigger = ? "
                       "ORDER BY seq DESC", (stream, trigger))


def first_after(conn: sqlite3.Connection, stream: str, trigger: str, after_seq: int, *,
                other_than_run: str | None = None) -> Event | None:
    """The first event with this trigger after ``after_seq``, of a run other than ``other_than_run``
    when given (index ``lifecycle_events_stream_trigger``)."""
    found = _rows(conn, f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? AND trigger = ? "
                        "AND seq > ? AND run_id IS NOT ? ORDER BY seq LIMIT 1",
                  (stream, trigger, after_seq, other_than_run))
    return found[0] if found else None


def run_events(conn: sqlite3.Connection, stream: str, run_id: str) -> list[Event]:
    """Every event of one run in log order (index ``lifecycle_events_run``)."""
    return _rows(conn, f"SELECT {EVENT_COLUMNS} FROM lifecycle_events INDEXED BY lifecycle_events_run "
                       "WHERE run_id = ? AND stream = ? ORDER BY seq", (run_id, stream))


def event_at_version(conn: sqlite3.Connection, stream: str, version: int) -> Event | None:
    """The event with this version of the stream (the ``(stream, version)`` key)."""
    found = _rows(conn, f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? AND version = ?",
                  (stream, version))
    return found[0] if found else None


def count_by_trigger(conn: sqlite3.Connection, stream: str, trigger: str) -> int:
    """How many events of the stream have this trigger (counted in index ``lifecycle_events_stream_trigger``)."""
    return conn.execute("SELECT count(*) FROM lifecycle_events WHERE stream = ? AND trigger = ?",
                        (stream, trigger)).fetchone()[0]


def oldest_by_trigger(conn: sqlite3.Connection, stream: str, trigger: str) -> Event | None:
    """The oldest event with this trigger (index ``lifecycle_events_stream_trigger``)."""
    found = _rows(conn, f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? AND trigger = ? "
                        "ORDER BY seq LIMIT 1", (stream, trigger))
    return found[0] if found else None


def lowest_version(conn: sqlite3.Connection, stream: str) -> int | None:
    """The stream's lowest version still in the log (the ``(stream, version)`` key); None when empty.
    A stream's versions are contiguous (appends add 1, retention removes a prefix), so the
    events below ``v`` number ``v - lowest_version`` without counting them."""
    return conn.execute("SELECT min(version) FROM lifecycle_events WHERE stream = ?", (stream,)).fetchone()[0]


def count_from_seq(conn: sqlite3.Connection, seq: int) -> int:
    """How many events of every stream have a seq of at least ``seq`` (the primary key)."""
    return conn.execute("SELECT count(*) FROM lifecycle_events WHERE seq >= ?", (seq,)).fetchone()[0]
