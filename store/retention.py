"""The one deletion the log allows: a stream's events below a version, with the guard lifted
inside the caller's transaction, row by row (:func:`delete_before`) or by rebuilding the
table from what stays (:func:`rebuild_keeping`).

The schema refuses any other deletion (migration 0003, named in 0005: the guard trigger).
Instead of opening the prune gate for every row it checks (a sixth of the delete's time
at 1M events), the trigger is dropped and created again from its own stored SQL inside
the caller's transaction: SQLite DDL is transactional, so no other connection ever sees
the log unguarded, and a failure rolls the trigger back with the rest.
"""

from __future__ import annotations

import re
import sqlite3

from hermes_lifecycle.store.errors import StoreError

TABLE = "lifecycle_events"
#: The trigger that refuses deletions (migration 0005's name for 0003's trigger).
GUARD_TRIGGER = "lifecycle_events_are_deleted_only_by_prune"
#: Where a rebuild puts the old table aside until the kept rows are copied out of it.
ASIDE = "lifecycle_events_removed_by_prune"
_CREATE_HEAD = re.compile(r'^\s*CREATE\s+TABLE\s+("?)lifecycle_events\1\s*\(', re.IGNORECASE)


def delete_before(conn: sqlite3.Connection, stream: str, version: int) -> int:
    """Delete every event of ``stream`` with a version below ``version``; return how many.

    Call it inside a write transaction (e.g. the ``extra`` of :func:`append`), which commits
    or rolls back the deletion together with whatever records it, and the guard with them.
    """
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                       (GUARD_TRIGGER,)).fetchone()
    if row is None:
        raise StoreError(f"the guard trigger {GUARD_TRIGGER} is missing from the schema: "
                         "the store was altered by hand; nothing was removed")
    conn.execute(f"DROP TRIGGER {GUARD_TRIGGER}")
    removed = conn.execute(f"DELETE FROM {TABLE} WHERE stream = ? AND version < ?", (stream, version)).rowcount
    conn.execute(row[0])
    return removed


def rebuild_keeping(conn: sqlite3.Connection, stream: str, cut_version: int) -> int:
    """Inside the caller's transaction: keep every event but ``stream``'s below ``cut_version``;
    return how many were removed.

    Deleting 990,000 of 1,000,000 events row by row costs seconds (each row leaves the
    table and its four indexes).  When what stays is small it is cheaper to copy it: the
    old table is renamed aside, a new one created from the log's own stored definition
    (the same columns, checks and AUTOINCREMENT, the same SQL text), the kept rows copied
    in, the old table dropped (its pages go to the free list in a few writes), the indexes
    and triggers created again from their stored SQL and the AUTOINCREMENT counter put
    back where it was, so no seq is ever reused.  Every other connection sees the old log
    or the new one, never one without its guard, and a failure leaves the old log
    untouched.  The WAL holds only the kept rows; the caller gives the free pages back.
    """
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
                        (TABLE,)).fetchall()
    create = next((sql for kind, _, sql in rows if kind == "table"), None)
    if create is None or not _CREATE_HEAD.match(create):
        raise StoreError(f"the {TABLE} table's definition is not the one the store knows; nothing was removed")
    others = [sql for kind, _, sql in rows if kind in ("index", "trigger")]
    counter = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (TABLE,)).fetchone()
    before = conn.execute(f"SELECT count(*) FROM {TABLE} WHERE stream = ? AND version < ?",
                          (stream, cut_version)).fetchone()[0]
    conn.execute(f"ALTER TABLE {TABLE} RENAME TO {ASIDE}")
    conn.execute(create)
    conn.execute(f"INSERT INTO {TABLE} SELECT * FROM {ASIDE} WHERE NOT (stream = ? AND version < ?) ORDER BY seq",
                 (stream, cut_version))
    conn.execute(f"DROP TABLE {ASIDE}")  # with its renamed indexes and triggers
    for sql in others:
        conn.execute(sql)
    if counter is not None:
        conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (counter[0], TABLE))
        if conn.execute("SELECT changes()").fetchone()[0] == 0:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (TABLE, counter[0]))
    return before
