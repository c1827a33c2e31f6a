"""The event store: ``state.db``, its migrations, the append-only log and its projection.

This package is the recorder.  It stores and reads events; what a trigger means and
whether it is legal is decided by :mod:`hermes_lifecycle.machine`, passed in as ``decide``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hermes_lifecycle.store.connection import connect, ensure_wal
from hermes_lifecycle.store.events import (
    ChangeWatch,
    Event,
    append,
    data_version,
    last_seq,
    parse_at,
    read_events,
    read_state,
    recent_transitions,
    utc_now,
    write_transaction,
)
from hermes_lifecycle.store.migrate import latest_version, migrate, refuse_newer, schema_version
from hermes_lifecycle.store.projection import StreamState, fold, rebuild, verify_projection

__all__ = [
    "ChangeWatch", "Event", "StreamState", "append", "connect", "data_version", "fold", "last_seq",
    "latest_version", "migrate", "open_store", "parse_at", "read_events", "read_state",
    "rebuild", "recent_transitions", "schema_version", "utc_now", "verify_projection",
    "write_transaction",
]


def open_store(path: Path | str, *, sync: str = "durable") -> sqlite3.Connection:
    """Open ``state.db`` at ``path``, creating it owner-only and migrating it if needed."""
    path = Path(path)
    conn = connect(path, sync=sync)
    try:
        refuse_newer(conn, path)
        ensure_wal(conn, path)
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn
