"""The event store: ``state.db``, its migrations, the append-only log and its projection row.

This package is a generic recorder and imports nothing from the lifecycle
(``tests/store/test_recorder_boundary.py`` fails when it does).  It stores and reads events;
whether a trigger is legal and what the ``lifecycle_streams`` row holds are its caller's, passed to
:func:`append` as ``decide`` and ``fold`` (see :mod:`hermes_lifecycle.journal` and
:mod:`hermes_lifecycle.projection`).  Every SQL statement on its tables lives in this package.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

    from hermes_lifecycle.store.connection import connect
    from hermes_lifecycle.store.errors import CorruptStore, SchemaTooNew, StoreError, VersionConflict
    from hermes_lifecycle.store.events import (
        ChangeWatch,
        Decide,
        Event,
        Fold,
        append,
        data_version,
        last_seq,
        parse_at,
        read_events,
        read_stream_row,
        recent_transitions,
        utc_now,
        write_stream_row,
        write_transaction,
    )
    from hermes_lifecycle.store.migrate import latest_version, migrate, schema_version

# Imported on first use, so that importing the errors (every command does) costs no sqlite3.
_EXPORTS = {
    "connect": "connection",
    **dict.fromkeys(("CorruptStore", "SchemaTooNew", "StoreError", "VersionConflict"), "errors"),
    **dict.fromkeys(("ChangeWatch", "Decide", "Event", "Fold", "append", "data_version", "last_seq", "parse_at",
                     "read_events", "read_stream_row", "recent_transitions", "utc_now", "write_stream_row",
                     "write_transaction"), "events"),
    **dict.fromkeys(("latest_version", "migrate", "schema_version"), "migrate"),
}

__all__ = [
    "ChangeWatch", "CorruptStore", "Decide", "Event", "Fold", "SchemaTooNew", "StoreError", "VersionConflict",
    "append", "connect", "data_version", "last_seq", "latest_version", "migrate", "open_store", "parse_at",
    "read_events", "read_stream_row", "recent_transitions", "schema_version", "utc_now", "write_stream_row",
    "write_transaction",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"hermes_lifecycle.store.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'hermes_lifecycle.store' has no attribute {name!r}")


def open_store(path: Path | str, *, sync: str = "durable") -> sqlite3.Connection:
    """Open ``state.db`` at ``path``, creating it owner-only and migrating it if needed."""
    from hermes_lifecycle.store.connection import connect, ensure_wal
    from hermes_lifecycle.store.migrate import migrate, refuse_newer

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
