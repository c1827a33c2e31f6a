"""The one deletion the log allows: a stream's events below a version, through the prune gate.

The schema refuses any other deletion (migration 0003): the gate is opened and closed
inside the caller's transaction, so it is never seen open by anyone else.
"""

from __future__ import annotations

import sqlite3
import uuid


def delete_before(conn: sqlite3.Connection, stream: str, version: int) -> int:
    """Delete every event of ``stream`` with a version below ``version``; return how many.

    Call it inside a write transaction (e.g. the ``extra`` of :func:`append`), which commits
    or rolls back the deletion together with whatever records it.
    """
    token = uuid.uuid4().hex
    conn.execute("INSERT INTO lifecycle_prune_gate (token) VALUES (?)", (token,))
    removed = conn.execute("DELETE FROM lifecycle_events WHERE stream = ? AND version < ?", (stream, version)).rowcount
    conn.execute("DELETE FROM lifecycle_prune_gate WHERE token = ?", (token,))
    return removed
