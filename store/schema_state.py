"""What a ``state.db`` records about our schema, read without writing anything.

Two eras of files exist.  Since migration 5 our tables carry the prefix ``lifecycle_``
and the applied migrations are rows of ``lifecycle_schema_migrations``.  Before it (the
pre-prefix era) they were rows of ``schema_migrations`` and ``PRAGMA user_version``
mirrored the highest.  Either may say the file is newer than this code: any such sign
refuses the file untouched.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

LEDGER = "lifecycle_schema_migrations"
LEGACY_LEDGER = "schema_migrations"
_LEGACY_COLUMNS = {"number", "name", "applied_at"}


@dataclass(frozen=True)
class SchemaState:
    """``version``: highest lifecycle migration applied here (0: none).  ``legacy``: a
    pre-prefix file.  ``newest_sign``: the highest version any record claims."""

    version: int
    legacy: bool
    newest_sign: int


def read_schema_state(conn: sqlite3.Connection) -> SchemaState:
    """Read our ledger (either era) and the pre-prefix era's ``user_version``."""
    tables = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", (LEDGER, LEGACY_LEDGER))}
    if LEDGER in tables:
        version = conn.execute(f"SELECT coalesce(max(number), 0) FROM {LEDGER}").fetchone()[0]
        return SchemaState(version, False, version)
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    if LEGACY_LEDGER in tables and _is_ours(conn):
        recorded = conn.execute(f"SELECT coalesce(max(number), 0) FROM {LEGACY_LEDGER}").fetchone()[0]
        version = max(recorded, user_version)
        return SchemaState(version, True, version)
    # No ledger of ours: a new file, or hermes-agent's (which never sets user_version).
    return SchemaState(0, False, user_version)


def _is_ours(conn: sqlite3.Connection) -> bool:
    columns = {row[1] for row in conn.execute(f"PRAGMA table_info({LEGACY_LEDGER})")}
    return columns == _LEGACY_COLUMNS
