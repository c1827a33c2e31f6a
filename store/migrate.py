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
from functools import lru_cache
from pathlib import Path

import hermes_lifecycle.migrations as _migrations_package
from hermes_lifecycle.store.connection import unusable
from hermes_lifecycle.store.errors import CorruptStore, SchemaTooNew, StoreError

_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
MIGRATIONS_DIR = Path(_migrations_package.__file__).resolve().parent


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text("utf-8")


@lru_cache(maxsize=1)
def available_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in the ``migrations`` package, in order (file names only).

    Listing is cached and reads no file contents, so a ``status`` on an up-to-date
    database pays one directory listing.  An installation without them is refused:
    it could never create the tables.
    """
    found = []
    for entry in MIGRATIONS_DIR.iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if not numbers:
        raise StoreError(f"no migration files in {MIGRATIONS_DIR}: the installation is incomplete, "
                         "reinstall hermes-lifecycle")
    if numbers != list(range(1, len(numbers) + 1)):
        raise StoreError(f"migration files are not numbered 1..n without gaps: {numbers}")
    return tuple(found)


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
    if buffer.strip() and not all(line.strip().startswith("--") or not line.strip() for line in buffer.splitlines()):
        raise StoreError("a migration ends with an incomplete SQL statement")
    return statements


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def refuse_newer(conn: sqlite3.Connection, path: Path | str = "state.db") -> int:
    """Return the schema version; raise before anything is written if the file is not ours.

    Newer than this code, corrupt, or someone else's SQLite database: refused while
    nothing has touched it (the caller switches to WAL and migrates only afterwards).
    """
    known = latest_version()
    # One read transaction: the version and the tables must come from the same snapshot,
    # or a concurrent opener's fresh migration looks like someone else's database.
    own_snapshot = not conn.in_transaction
    try:
        if own_snapshot:
            conn.execute("BEGIN")
        current = schema_version(conn)
        if current > known:
            raise SchemaTooNew(path, current, known)
        if current < known:
            _refuse_foreign_or_corrupt(conn, path, current)
    except sqlite3.DatabaseError as exc:
        raise unusable(path, exc) from None
    finally:
        if own_snapshot and conn.in_transaction:
            conn.execute("COMMIT")
    return current


def _refuse_foreign_or_corrupt(conn: sqlite3.Connection, path: Path | str, current: int) -> None:
    """Before the first write to an existing file: it must be sound, and ours."""
    try:
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            return
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    except sqlite3.DatabaseError as exc:
        raise unusable(path, exc) from None
    if problems != ["ok"]:
        raise CorruptStore(path, f"integrity check failed: {problems[0]}")
    if current == 0 and tables:
        raise CorruptStore(path, "an SQLite database without the Hermes schema "
                                 f"(tables: {', '.join(sorted(tables)[:5])})")


def migrate(conn: sqlite3.Connection, path: Path | str = "state.db") -> int:
    """Bring the schema up to date; return the version.  Refuse a newer database untouched."""
    known = latest_version()
    if refuse_newer(conn, path) == known:
        return known
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = refuse_newer(conn, path)
        if current == known:
            conn.execute("ROLLBACK")
            return known
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
            db.table("schema_migrations").insert(
                {
                    "number": migration.number,
                    "name": migration.name,
                    "applied_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                }
            )
        conn.execute(f"PRAGMA user_version = {known}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return known
