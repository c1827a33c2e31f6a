"""Numbered schema migrations, applied in order, recorded, and serialized between processes.

Each ``migrations/NNNN_name.sql`` file is applied once and recorded in our own table,
``lifecycle_schema_migrations``: ``state.db`` is the Hermes home's database, shared with
hermes-agent, which owns ``schema_version``, ``state_meta`` and its tables; we use neither
them nor ``PRAGMA user_version`` (our pre-prefix era did, see :mod:`.schema_state`).
An up-to-date database is recognised with two cheap reads.

A file with no lifecycle tables yet (new, or made by hermes-agent first) gets the latest
schema in one step, replayed from the migrations in memory: migrations 1-4 created
unprefixed tables that would collide with hermes-agent's own ``sessions`` and ``messages``.

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
from hermes_lifecycle.store.schema_state import LEDGER, LEGACY_LEDGER, SchemaState, read_schema_state

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
    """The highest lifecycle migration recorded in this file (0: none yet)."""
    return read_schema_state(conn).version


def refuse_newer(conn: sqlite3.Connection, path: Path | str = "state.db") -> SchemaState:
    """Return what the file records; raise before anything is written if it is not usable.

    A lifecycle schema newer than this code, or a corrupt file, is refused while nothing
    has touched it (the caller switches to WAL and migrates only afterwards).  Tables of
    others (hermes-agent's) are normal: the home's state.db is shared.
    """
    known = latest_version()
    # One read transaction: the version and the tables must come from the same snapshot.
    own_snapshot = not conn.in_transaction
    try:
        if own_snapshot:
            conn.execute("BEGIN")
        state = read_schema_state(conn)
        if state.newest_sign > known:
            raise SchemaTooNew(path, state.newest_sign, known)
        if state.version < known:
            _refuse_corrupt(conn, path)
    except sqlite3.DatabaseError as exc:
        raise unusable(path, exc) from None
    finally:
        if own_snapshot and conn.in_transaction:
            conn.execute("COMMIT")
    return state


def _refuse_corrupt(conn: sqlite3.Connection, path: Path | str) -> None:
    """Before the first write to an existing file: it must be sound."""
    try:
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            return
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        raise unusable(path, exc) from None
    if problems != ["ok"]:
        raise CorruptStore(path, f"integrity check failed: {problems[0]}")


@lru_cache(maxsize=1)
def latest_schema() -> tuple[str, ...]:
    """The CREATE statements of our latest schema: every migration replayed on an empty
    in-memory database, so the migration files stay the only place the schema is written."""
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for migration in available_migrations():
            for statement in split_statements(migration.sql):
                scratch.execute(statement)
        rows = scratch.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid").fetchall()
    finally:
        scratch.close()
    return tuple(row[0] for row in rows)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _apply_pending(conn: sqlite3.Connection, state: SchemaState) -> None:
    """Inside the caller's write transaction: bring ``state`` up to the latest."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {LEDGER} ("
                 " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    record = f"INSERT INTO {LEDGER} (number, name, applied_at) VALUES (?, ?, ?)"
    if not state.legacy and state.version == 0:
        for statement in latest_schema():
            conn.execute(statement)
        conn.executemany(record, [(m.number, m.name, _now()) for m in available_migrations()])
        return
    if state.legacy:  # the pre-prefix ledger moves into ours; user_version goes back to hermes-agent's 0
        conn.execute(f"INSERT INTO {LEDGER} (number, name, applied_at) "
                     f"SELECT number, name, applied_at FROM {LEGACY_LEDGER}")
        conn.execute(f"DROP TABLE {LEGACY_LEDGER}")
        conn.execute("PRAGMA user_version = 0")
    for migration in available_migrations():
        if migration.number <= state.version:
            continue
        for statement in split_statements(migration.sql):
            conn.execute(statement)
        conn.execute(record, (migration.number, migration.name, _now()))


def migrate(conn: sqlite3.Connection, path: Path | str = "state.db") -> int:
    """Bring the schema up to date; return the version.  Refuse a newer database untouched."""
    known = latest_version()
    if refuse_newer(conn, path).version == known:
        return known
    conn.execute("BEGIN IMMEDIATE")
    try:
        state = refuse_newer(conn, path)
        if state.version == known:
            conn.execute("ROLLBACK")
            return known
        _apply_pending(conn, state)
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise unusable(path, exc) from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return known
