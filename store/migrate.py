"""Numbered schema migrations, applied in order, recorded, and serialized between processes.

Each ``migrations/NNNN_name.sql`` file is applied once.  ``PRAGMA user_version``
mirrors the highest applied number so that an up-to-date database is recognised
with one cheap read and the runner (and ``sqlite_utils``) stay off the read path.

The runner takes ``BEGIN IMMEDIATE`` *before* it looks at what is pending, so two
processes opening a fresh home at once apply every migration exactly once: the second
waits on the busy timeout, then finds nothing to do.  (``sqlite_utils.Migrations``
picks its pending list outside any lock, which crashes the loser with "database is
locked".)  SQLite DDL is transactional, so a failed migration leaves nothing behind.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from lifecycle.errors import CorruptStore, SchemaTooNew, StoreError

_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped in the ``migrations`` package, in order."""
    found = []
    for entry in resources.files("migrations").iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise StoreError(f"migration files are not numbered 1..n without gaps: {numbers}")
    return found


def latest_version() -> int:
    return len(available_migrations())


def split_statements(sql: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(l.strip().startswith("--") or not l.strip() for l in buffer.splitlines()):
        raise StoreError("a migration ends with an incomplete SQL statement")
    return statements


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, path: Path | str = "state.db") -> int:
    """Bring the schema up to date; return the version.  Refuse a newer database untouched."""
    known = latest_version()
    try:
        current = schema_version(conn)
    except sqlite3.DatabaseError as exc:
        raise CorruptStore(path, str(exc)) from None
    if current > known:
        raise SchemaTooNew(path, current, known)
    if current == known:
        return current
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)
        if current > known:
            raise SchemaTooNew(path, current, known)
        import sqlite_utils

        db = sqlite_utils.Database(conn)
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in db.execute("SELECT number FROM schema_migrations")}
        for migration in available_migrations():
            if migration.number in applied:
                continue
            for statement in split_statements(migration.sql):
                db.execute(statement)
            db["schema_migrations"].insert(
                {
                    "number": migration.number,
                    "name": migration.name,
                    "applied_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                }
            )
        conn.execute(f"PRAGMA user_version = {known}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return known
