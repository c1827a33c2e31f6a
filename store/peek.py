"""Read-only looks into a ``state.db`` that must never create, migrate or lock it: shell
completion (run on every Tab) and the listing of a home's profiles.

A database from before the ``lifecycle_`` prefix is read under its old table names, since a
look may not migrate it.  Any failure (no file, not a database, a table missing) answers
nothing rather than raising: these looks only offer choices, they decide nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def _read_only(path: Path, table: str, sql: str, args: tuple = ()) -> list[str]:
    """The first column of ``sql`` (``{t}`` naming ``lifecycle_<table>``, or ``<table>`` in a
    database from before the prefix), non-empty values only; [] when anything is amiss."""
    if not path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return []
    try:
        names = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", (f"lifecycle_{table}", table))}
        if not names:
            return []
        name = f"lifecycle_{table}" if f"lifecycle_{table}" in names else table
        return [row[0] for row in conn.execute(sql.format(t=name), args) if row[0]]
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def stream_names(path: Path) -> list[str]:
    """The streams recorded in the database at ``path``, by name."""
    return _read_only(path, "streams", "SELECT stream FROM {t} ORDER BY stream")


def recent_run_ids(path: Path, stream: str, limit: int = 100) -> list[str]:
    """The run ids of ``stream``'s last ``limit`` starts, newest first."""
    return _read_only(path, "events", "SELECT run_id FROM {t} WHERE stream = ? AND trigger = 'start' "
                                      "ORDER BY seq DESC LIMIT ?", (stream, limit))
