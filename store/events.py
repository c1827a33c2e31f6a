"""The event log: stored events, the one write path, and reads.

This module is the recorder: it knows rows, versions and transactions, not what a
trigger means nor what a stream's state carries.  The caller passes
``decide(state, trigger) -> new_state`` (the lifecycle machine) and
``fold(row, event) -> row`` (the lifecycle's projection); both are called *inside* the
``BEGIN IMMEDIATE`` transaction with the ``lifecycle_streams`` row just read, so the decision, the
append and the projection cannot be separated by another writer.  The
``(stream, version)`` unique key backs that up in the schema.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from hermes_lifecycle.store.errors import RunChanged, StoreError, VersionConflict

EVENT_COLUMNS = (
    "seq, stream, version, run_id, at, kind, trigger, from_state, to_state, "
    "pid, actor, reason, data, idempotency_key"
)

STREAM_COLUMNS = "stream, state, version, last_seq, run_id, pid, create_time, since, data"

#: ``(state, trigger) -> new state``; raises to refuse the trigger (nothing is written).
Decide = Callable[[str, str], str]
#: ``(stored lifecycle_streams row or None, event just appended) -> row to write``.
Fold = Callable[[tuple | None, "Event"], tuple]


def utc_now() -> str:
    """UTC timestamp with microseconds, the one format of the ``at`` column."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_at(at: str) -> datetime:
    """An ``at`` stamp as an aware UTC datetime.  The C parser ``fromisoformat`` reads our one
    format (3.11+); ``strptime`` would import ``_strptime``, ``calendar`` and ``locale`` and
    compile its pattern on every `status` (~3 ms).  Anything else goes to ``strptime``, which
    keeps refusing what is not exactly that format."""
    if len(at) == 27 and at[10] == "T" and at[19] == "." and at[26] == "Z":
        try:
            return datetime.fromisoformat(at)
        except ValueError:
            pass
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Event:
    seq: int
    stream: str
    version: int
    run_id: str | None
    at: str
    kind: str
    trigger: str
    from_state: str
    to_state: str
    pid: int | None
    actor: str
    reason: str | None
    data: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None

    @classmethod
    def from_row(cls, row: tuple) -> "Event":
        values = list(row)
        values[12] = json.loads(values[12]) if values[12] else {}
        return cls(*values)

    @property
    def is_transition(self) -> bool:
        return self.kind == "transition"

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of one event (keys are only ever added)."""
        return {
            "seq": self.seq,
            "stream": self.stream,
            "version": self.version,
            "run_id": self.run_id,
            "at": self.at,
            "kind": self.kind,
            "trigger": self.trigger,
            "from": self.from_state,
            "to": self.to_state,
            "pid": self.pid,
            "actor": self.actor,
            "reason": self.reason,
            "data": self.data,
        }


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def read_stream_row(conn: sqlite3.Connection, stream: str) -> tuple | None:
    """The stored ``lifecycle_streams`` row of ``stream`` (columns :data:`STREAM_COLUMNS`), None before its
    first event.  What the row means is the caller's fold's business."""
    return conn.execute(f"SELECT {STREAM_COLUMNS} FROM lifecycle_streams WHERE stream = ?", (stream,)).fetchone()


def write_stream_row(conn: sqlite3.Connection, row: tuple) -> None:
    """Upsert one ``lifecycle_streams`` row (inside the caller's transaction)."""
    conn.execute(
        f"INSERT INTO lifecycle_streams ({STREAM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (stream) DO UPDATE SET state = excluded.state, version = excluded.version, "
        "last_seq = excluded.last_seq, run_id = excluded.run_id, pid = excluded.pid, "
        "create_time = excluded.create_time, since = excluded.since, data = excluded.data",
        row,
    )


def append(
    conn: sqlite3.Connection,
    stream: str,
    trigger: str,
    decide: Decide,
    fold: Fold,
    *,
    initial: str,
    actor: str,
    run_id: str | None = None,
    pid: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    expect_version: int | None = None,
    extra: Callable[[sqlite3.Connection], None] | None = None,
    expect_run: str | None = None,
    at: str | None = None,
) -> Event:
    """Compare-and-append one event and update the projection, in one transaction.

    ``decide`` judges ``trigger`` in the stream's current state (``initial`` for a stream
    without events); ``fold`` turns the stored ``lifecycle_streams`` row and the new event into the
    row to write.  ``run_id`` defaults to the stream's current run.  ``expect_version``, when given,
    turns a concurrent change into :class:`VersionConflict` instead of a fresh decision.
    An event that changes the state is a ``transition``, any other a ``step``.  With an
    ``idempotency_key`` already used on this stream, the earlier event is returned and
    nothing is written (the key used by another trigger is a :class:`StoreError`).  Raises whatever
    ``decide`` raises, having written nothing.
    ``extra(conn)``, when given, runs inside the same transaction once the machine has
    allowed the trigger, so a caller's own rows (e.g. sessions marked for resume) commit
    or roll back together with the event.  ``expect_run``, when given, is compared with the
    stream's current run read in the same transaction: another run is :class:`RunChanged`.
    ``at`` keeps an event's original time when it is replayed from the spool
    (:mod:`hermes_lifecycle.spooled`); otherwise it is now.
    """
    payload = json.dumps(data or {}, sort_keys=True, default=str)
    with write_transaction(conn):
        if idempotency_key is not None:
            row = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? AND idempotency_key = ?",
                (stream, idempotency_key),
            ).fetchone()
            if row is not None:
                earlier = Event.from_row(row)
                if earlier.trigger != trigger:
                    raise StoreError(f"idempotency key {idempotency_key!r} was already used by "
                                     f"{earlier.trigger!r} (seq {earlier.seq}), not {trigger!r}; nothing was written")
                return earlier
        row = read_stream_row(conn, stream)
        state, version, current_run = (row[1], row[2], row[4]) if row is not None else (initial, 0, None)
        if expect_version is not None and version != expect_version:
            raise VersionConflict(
                f"stream {stream!r} moved to version {version} ({state}) "
                f"while version {expect_version} was expected"
            )
        if expect_run is not None and current_run != expect_run:
            raise RunChanged(stream, expect_run, current_run, state)
        after_state = decide(state, trigger)
        if extra is not None:
            extra(conn)
        event = Event(
            seq=0,
            stream=stream,
            version=version + 1,
            run_id=run_id if run_id is not None else current_run,
            at=at or utc_now(),
            kind="transition" if after_state != state else "step",
            trigger=trigger,
            from_state=state,
            to_state=after_state,
            pid=pid,
            actor=actor,
            reason=reason,
            data=json.loads(payload),
            idempotency_key=idempotency_key,
        )
        cursor = conn.execute(
            "INSERT INTO lifecycle_events (stream, version, run_id, at, kind, trigger, from_state, to_state, "
            "pid, actor, reason, data, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.stream, event.version, event.run_id, event.at, event.kind, event.trigger,
                event.from_state, event.to_state, event.pid, event.actor, event.reason, payload,
                event.idempotency_key,
            ),
        )
        event = Event(**{**event.__dict__, "seq": cursor.lastrowid})
        write_stream_row(conn, fold(row, event))
    return event


def read_events(
    conn: sqlite3.Connection,
    stream: str | None = None,
    *,
    after_seq: int = 0,
    limit: int | None = None,
    run_id: str | None = None,
    triggers: tuple[str, ...] | None = None,
) -> list[Event]:
    """Events in log order, optionally of one stream or run, after a sequence number."""
    where: list[str] = ["seq > ?"]
    params: list[Any] = [after_seq]
    if stream is not None:
        where.append("stream = ?")
        params.append(stream)
    if run_id is not None:
        where.append("run_id = ?")
        params.append(run_id)
    if triggers:
        where.append(f"trigger IN ({', '.join('?' * len(triggers))})")
        params.extend(triggers)
    sql = f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE {' AND '.join(where)} ORDER BY seq"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [Event.from_row(r) for r in conn.execute(sql, params)]


def recent_transitions(conn: sqlite3.Connection, stream: str, limit: int) -> list[Event]:
    """The last ``limit`` transitions of a stream, oldest first, through the partial index."""
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE stream = ? AND kind = 'transition' "
        "ORDER BY seq DESC LIMIT ?",
        (stream, limit),
    ).fetchall()
    return [Event.from_row(r) for r in reversed(rows)]


def last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(seq) FROM lifecycle_events").fetchone()
    return row[0] or 0


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever *another* connection commits: the cheap change detector."""
    return conn.execute("PRAGMA data_version").fetchone()[0]


class ChangeWatch:
    """Answers "has another connection committed since I last looked?" for one connection,
    so waiters and followers read the log only when it has grown."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.version = data_version(conn)

    def changed(self) -> bool:
        now = data_version(self.conn)
        if now != self.version:
            self.version = now
            return True
        return False
