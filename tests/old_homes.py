"""State databases as code from before the `lifecycle_` prefix left them: migrations 1 to 4 and
their `schema_migrations` rows. No pytest here: bench/migrate_prefix.py builds the same files."""

from __future__ import annotations

import sqlite3

from hermes_lifecycle.store.migrate import available_migrations, split_statements

PRE_PREFIX_MIGRATIONS = 4


def create_pre_prefix_schema(conn: sqlite3.Connection) -> None:
    """The tables, indexes and triggers of migrations 1-4, recorded as the old runner recorded them."""
    conn.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    for migration in available_migrations()[:PRE_PREFIX_MIGRATIONS]:
        for statement in split_statements(migration.sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (migration.number, migration.name))
