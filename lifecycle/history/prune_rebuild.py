"""A prune that keeps little of a big log: copy what stays into a new table, drop the old.

Deleting 990,000 of 1,000,000 events row by row costs seconds (each row leaves the
table and its four indexes).  When what stays is small, it is cheaper to copy it:
inside one transaction, the old table is renamed aside, a new one created from the
log's own stored definition (the same columns, checks and AUTOINCREMENT, the same SQL
text), the kept rows copied in, the old table dropped (its pages go to the free list
in a few writes), the log's indexes and triggers created again from their stored SQL
and the AUTOINCREMENT counter put back where it was, so no seq is ever reused.  SQLite DDL
is transactional: every other connection sees the old log or the new one, never a log
without its guard trigger, and a failure leaves the old log untouched.  The WAL holds
only the kept rows, and the free pages are given back afterwards (:mod:`.reclaim`).
"""

from __future__ import annotations

import re
import sqlite3

from hermes_lifecycle.errors import StoreError

TABLE = "events"
OLD = "events_removed_by_prune"
_CREATE_HEAD = re.compile(r'^\s*CREATE\s+TABLE\s+("?)events\1\s*\(', re.IGNORECASE)


def rebuild_keeping(conn: sqlite3.Connection, stream: str, cut_version: int) -> int:
    """Inside the caller's transaction: keep every event but ``stream``'s below ``cut_version``;
    return how many were removed."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
                        (TABLE,)).fetchall()
    create = next((sql for kind, _, sql in rows if kind == "table"), None)
    if create is None or not _CREATE_HEAD.match(create):
        raise StoreError("the events table's definition is not the one prune knows; nothing was removed")
    others = [sql for kind, _, sql in rows if kind in ("index", "trigger")]
    counter = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (TABLE,)).fetchone()
    before = conn.execute(f"SELECT count(*) FROM {TABLE} WHERE stream = ? AND version < ?",
                          (stream, cut_version)).fetchone()[0]
    conn.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    conn.execute(create)
    conn.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD} WHERE NOT (stream = ? AND version < ?) ORDER BY seq",
                 (stream, cut_version))
    conn.execute(f"DROP TABLE {OLD}")  # with its renamed indexes and triggers
    for sql in others:
        conn.execute(sql)
    if counter is not None:
        conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (counter[0], TABLE))
        if conn.execute("SELECT changes()").fetchone()[0] == 0:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (TABLE, counter[0]))
    return before
