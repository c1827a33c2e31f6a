"""The ``lifecycle_sessions`` and ``lifecycle_messages`` tables: conversations and their resume marks.

What a session means to a boot (when to resume it, when to park it) is the runtime's
(:mod:`hermes_lifecycle.runtime.sessions`); this module only reads and writes the rows, so
that no SQL on the store's tables is written outside the store.  Functions documented as
"inside the caller's transaction" are meant for ``append(..., extra=...)``, so the rows
commit or roll back together with the event that records them.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Collection

from hermes_lifecycle.store.events import write_transaction

#: Columns of a session row, in the order :func:`session_row` returns them.
SESSION_COLUMNS = ("id, created_at, updated_at, resume_pending, interruptions, interrupted_runs, parked, parked_at, "
                   "(SELECT count(*) FROM lifecycle_messages m WHERE m.stream = s.stream AND m.session_id = s.id)")


def create_session(conn: sqlite3.Connection, stream: str, session_id: str, now: str) -> None:
    with write_transaction(conn):
        conn.execute("INSERT INTO lifecycle_sessions (id, stream, created_at, updated_at) VALUES (?, ?, ?, ?)",
                     (session_id, stream, now, now))


def session_row(conn: sqlite3.Connection, stream: str, session_id: str) -> tuple | None:
    return conn.execute(f"SELECT {SESSION_COLUMNS} FROM lifecycle_sessions s WHERE id = ? AND stream = ?",
                        (session_id, stream)).fetchone()


def session_rows(conn: sqlite3.Connection, stream: str) -> list[tuple]:
    return conn.execute(f"SELECT {SESSION_COLUMNS} FROM lifecycle_sessions s WHERE stream = ? "
                        "ORDER BY created_at, id", (stream,)).fetchall()


def add_message(conn: sqlite3.Connection, stream: str, session_id: str, role: str, text: str, now: str,
                run_id: str | None, *, completes_turn: bool) -> int:
    """Append a message and touch its session, in one transaction; a completed turn clears the
    session's interruption count.  Return the message's number within the session."""
    with write_transaction(conn):
        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM lifecycle_messages "
                           "WHERE stream = ? AND session_id = ?", (stream, session_id)).fetchone()[0]
        conn.execute("INSERT INTO lifecycle_messages (stream, session_id, seq, role, text, at, run_id) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (stream, session_id, seq, role, text, now, run_id))
        reset = ", interruptions = 0, interrupted_runs = '[]'" if completes_turn else ""
        conn.execute(f"UPDATE lifecycle_sessions SET updated_at = ?{reset} WHERE stream = ? AND id = ?",
                     (now, stream, session_id))
    return seq


def message_rows(conn: sqlite3.Connection, stream: str, session_id: str) -> list[tuple]:
    """(seq, role, text, at, run_id) of every message of a session, in order."""
    return conn.execute("SELECT seq, role, text, at, run_id FROM lifecycle_messages WHERE stream = ? "
                        "AND session_id = ? ORDER BY seq", (stream, session_id)).fetchall()


def unpark(conn: sqlite3.Connection, stream: str, session_id: str) -> None:
    with write_transaction(conn):
        conn.execute("UPDATE lifecycle_sessions SET parked = 0, parked_at = NULL, interruptions = 0, "
                     "interrupted_runs = '[]' WHERE stream = ? AND id = ?", (stream, session_id))


def mark_resume_pending(conn: sqlite3.Connection, stream: str, session_ids: list[str], run_id: str,
                        now: str, *, interrupted: Collection[str] | None = None) -> None:
    """Mark each session (created if unknown) for resume; those in ``interrupted`` (default: all)
    also count the interruption by ``run_id``.  Inside the caller's transaction."""
    for sid in session_ids:
        conn.execute("INSERT OR IGNORE INTO lifecycle_sessions (id, stream, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?)", (sid, stream, now, now))
        if interrupted is not None and sid not in interrupted:
            conn.execute("UPDATE lifecycle_sessions SET resume_pending = 1, updated_at = ? WHERE stream = ? AND id = ?",
                         (now, stream, sid))
            continue
        runs = json.loads(conn.execute("SELECT interrupted_runs FROM lifecycle_sessions WHERE stream = ? AND id = ?",
                                       (stream, sid)).fetchone()[0])
        conn.execute("UPDATE lifecycle_sessions SET resume_pending = 1, interruptions = interruptions + 1, "
                     "interrupted_runs = ?, updated_at = ? WHERE stream = ? AND id = ?",
                     (json.dumps(runs + [run_id]), now, stream, sid))


def clear_resume_pending(conn: sqlite3.Connection, stream: str, session_id: str) -> None:
    """The session was resumed.  Inside the caller's transaction."""
    conn.execute("UPDATE lifecycle_sessions SET resume_pending = 0 WHERE stream = ? AND id = ?", (stream, session_id))


def park(conn: sqlite3.Connection, stream: str, session_id: str, now: str) -> None:
    """The session is parked instead of resumed.  Inside the caller's transaction."""
    conn.execute("UPDATE lifecycle_sessions SET resume_pending = 0, parked = 1, parked_at = ? "
                 "WHERE stream = ? AND id = ?", (now, stream, session_id))


def count_resume_pending(conn: sqlite3.Connection, stream: str) -> int | None:
    """Sessions waiting for resume (parked ones excluded), or None where ``lifecycle_sessions`` does
    not exist (a database not migrated yet: from before migration 0002, or from before the prefix)."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lifecycle_sessions'").fetchone()
    if found is None:
        return None
    columns = {row[1] for row in conn.execute("PRAGMA table_info(lifecycle_sessions)")}
    parked = " AND parked = 0" if "parked" in columns else ""
    return conn.execute(f"SELECT count(*) FROM lifecycle_sessions WHERE stream = ? AND resume_pending = 1{parked}",
                        (stream,)).fetchone()[0]
