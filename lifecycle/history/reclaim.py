"""Giving a pruned log's space back to the disk, without doubling it on the way.

Deleted rows leave free pages inside ``state.db``: a prune of 1M events left a 200 MB
file holding 2 MB of events.  After a prune, when at least half of the file is free
and what is left is small (:data:`VACUUM_LIVE_MAX`), ``VACUUM`` rewrites it: its cost
is the live data, written once to a temporary copy in memory and once through the WAL,
checkpointed and truncated at once.  A bigger remainder keeps its free pages (the next
appends reuse them) rather than pay a rewrite as large as the log.
"""

from __future__ import annotations

import sqlite3

#: Rewrite the file only when at most this much is left (the rewrite's memory and WAL).
VACUUM_LIVE_MAX = 64 * 1024 * 1024
#: ... and at least this share of the file is free pages.
VACUUM_FREE_SHARE = 0.5


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database and truncate it (to ``journal_size_limit``); a reader
    holding an old snapshot only makes it partial, never an error."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def reclaim(conn: sqlite3.Connection, *, force: bool = False) -> bool:
    """VACUUM when the file is mostly free pages and the rest is small, or when ``force``d (a
    rebuilt log's dropped pages, left unzeroed, must leave the file); True if it did."""
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    live = (pages - free) * page_size
    if not force and (not pages or free / pages < VACUUM_FREE_SHARE or live > VACUUM_LIVE_MAX):
        return False
    conn.execute("PRAGMA temp_store = MEMORY")  # the copy stays off the disk (it is small)
    try:
        conn.execute("VACUUM")
    except sqlite3.OperationalError:  # another connection is writing: the free pages stay, no harm
        return False
    checkpoint(conn)
    return True
