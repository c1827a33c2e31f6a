"""state.db is the Hermes home's database, shared with hermes-agent: our tables carry our
prefix, our version lives in our own table, others' tables are normal and left alone, and
a file whose lifecycle schema is newer is refused before anything in the home changes."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.store import latest_version, open_store
from tests.conftest import run_hermes
from tests.old_homes import create_pre_prefix_schema

#: Names hermes-agent 0.19.0 creates in state.db (hermes_state.SCHEMA_SQL), as a neighbour would.
NEIGHBOUR_SQL = [
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version VALUES (22)",
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL, started_at REAL NOT NULL)",
    "CREATE INDEX idx_sessions_source ON sessions (source)",
    "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL "
    "REFERENCES sessions (id), content TEXT)",
    "CREATE TABLE state_meta (key TEXT PRIMARY KEY, value TEXT)",
    "INSERT INTO sessions VALUES ('20261206_1', 'telegram', 1.5)",
    "INSERT INTO messages (session_id, content) VALUES ('20261206_1', 'hello')",
    "INSERT INTO state_meta VALUES ('k', 'v')",
]


def _neighbour_db(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in NEIGHBOUR_SQL:
        conn.execute(statement)
    conn.close()


def _dump(path: Path, keep) -> tuple[list, dict]:
    conn = sqlite3.connect(path)
    schema = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
    schema = [row for row in schema if keep(row[2])]
    rows = {row[1]: conn.execute(f'SELECT * FROM "{row[1]}" ORDER BY 1').fetchall()
            for row in schema if row[0] == "table"}
    rows["sqlite_sequence"] = [r for r in conn.execute("SELECT * FROM sqlite_sequence ORDER BY 1") if keep(r[0])]
    conn.close()
    return schema, rows


def _not_ours(name: str) -> bool:
    return not name.startswith("lifecycle_") and name != "sqlite_sequence"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_state_db_holding_hermes_agent_tables_is_adopted_and_theirs_are_untouched(home: Home):
    _neighbour_db(home.state_db)
    before = _dump(home.state_db, _not_ours)
    with Journal(home) as journal:
        journal.fire("start", actor="test", run_id="r1", pid=1, data={"create_time": 1.0})
        assert journal.state().state == "starting"
        assert journal.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _dump(home.state_db, _not_ours) == before
    with sqlite3.connect(home.state_db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0


def test_every_object_of_ours_carries_the_prefix_and_our_version_is_in_our_own_table(tmp_path: Path):
    conn = open_store(tmp_path / "state.db")
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")]
    assert names and all(n.startswith("lifecycle_") and not n.startswith("messages_fts") for n in names), names
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    applied = [r[0] for r in conn.execute("SELECT number FROM lifecycle_schema_migrations ORDER BY number")]
    assert applied == list(range(1, latest_version() + 1))
    conn.close()


def test_a_fresh_file_gets_the_same_schema_as_a_pre_prefix_file_migrated(tmp_path: Path):
    fresh = open_store(tmp_path / "fresh.db")
    legacy_path = tmp_path / "legacy.db"
    _pre_prefix_db(legacy_path)
    legacy = open_store(legacy_path)
    query = "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'lifecycle_%' ORDER BY name"
    assert fresh.execute(query).fetchall() == legacy.execute(query).fetchall()
    fresh.close()
    legacy.close()


def _pre_prefix_db(path: Path, *, version: int = 4) -> None:
    """A state.db as hermes-lifecycle wrote it before the prefix: migrations 1-4 applied,
    recorded in schema_migrations and mirrored in user_version, with a run and a session."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    create_pre_prefix_schema(conn)
    conn.execute(f"PRAGMA user_version = {version}")
    for seq, (trigger, state_from, state_to) in enumerate([("start", "stopped", "starting"),
                                                          ("ready", "starting", "running")], 1):
        conn.execute("INSERT INTO events (seq, stream, version, run_id, at, kind, trigger, from_state, to_state, "
                     "pid, actor, data) VALUES (?, 'default', ?, 'r-old', '2026-01-01T00:00:00.000000Z', "
                     "'transition', ?, ?, ?, 1, 'test', '{\"create_time\": 1.0}')",
                     (seq + 40, seq, trigger, state_from, state_to))
    conn.execute("INSERT INTO streams VALUES ('default', 'running', 2, 42, 'r-old', 1, 1.0, "
                 "'2026-01-01T00:00:00.000000Z', '{}')")
    conn.execute("INSERT INTO sessions (id, stream, created_at, updated_at, resume_pending) "
                 "VALUES ('chat-1', 'default', 'then', 'then', 1)")
    conn.execute("INSERT INTO messages VALUES ('default', 'chat-1', 1, 'user', 'hello', 'then', 'r-old')")
    conn.close()


def test_a_pre_prefix_home_of_ours_moves_into_the_prefixed_tables(home: Home):
    _pre_prefix_db(home.state_db)
    with Journal(home) as journal:
        assert (journal.state().state, journal.state().version, journal.state().run_id) == ("running", 2, "r-old")
        assert [e.seq for e in journal.events()] == [41, 42]
        conn = journal.conn
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not tables & {"events", "streams", "sessions", "messages", "prune_gate", "schema_migrations"}
        assert conn.execute("SELECT id, resume_pending FROM lifecycle_sessions").fetchall() == [("chat-1", 1)]
        assert conn.execute("SELECT text FROM lifecycle_messages").fetchall() == [("hello",)]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        applied = conn.execute("SELECT number, applied_at FROM lifecycle_schema_migrations ORDER BY number").fetchall()
        assert [n for n, _ in applied] == list(range(1, latest_version() + 1)) and applied[0][1] == "then"
        event = journal.fire("stop_requested", actor="test", run_id="r-old")
        assert event.seq == 43
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _newer_by_our_table(db: Path) -> None:
    open_store(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("INSERT INTO lifecycle_schema_migrations VALUES (?, 'from_the_future', 'then')",
                 (latest_version() + 1,))
    conn.close()


def _newer_by_pre_prefix_ledger(db: Path) -> None:
    _pre_prefix_db(db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', 'then')", (latest_version() + 1,))
    conn.close()


NEWER_FILES = {
    "our version table": _newer_by_our_table,
    "a pre-prefix migration row": _newer_by_pre_prefix_ledger,
    "the pre-prefix user_version": lambda db: _pre_prefix_db(db, version=latest_version() + 1),
}


@pytest.mark.parametrize("command", [("status",), ("run",), ("start",), ("events",)], ids=" ".join)
@pytest.mark.parametrize("kind", NEWER_FILES)
def test_a_newer_lifecycle_schema_is_refused_before_anything_in_the_home_changes(home_dir: Path, kind: str,
                                                                                   command: tuple[str, ...]):
    db = home_dir / "state.db"
    NEWER_FILES[kind](db)
    os.chmod(home_dir, 0o755)
    before = (_sha(db), sorted(p.name for p in home_dir.iterdir()), stat.S_IMODE(home_dir.stat().st_mode))
    result = run_hermes(home_dir, *command)
    assert result.returncode != 0 and "newer than this hermes knows" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    after = (_sha(db), sorted(p.name for p in home_dir.iterdir()), stat.S_IMODE(home_dir.stat().st_mode))
    assert after == before
