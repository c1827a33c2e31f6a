"""One fresh Hermes home, one state.db, both programs, both orders: the real hermes-agent
``SessionDB`` and our journal each open, write and read their data, the file stays sound, and
hermes-agent's tables are byte-for-byte what they were before our migrations ran."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.hermes_agent.tier import require_hermes_agent

require_hermes_agent()

import hermes_state  # noqa: E402  (only once the tier knows hermes-agent is there)

from hermes_lifecycle.home import Home  # noqa: E402
from hermes_lifecycle.journal import Journal  # noqa: E402
from hermes_lifecycle.runtime.sessions import SessionStore  # noqa: E402
from tests.old_homes import create_pre_prefix_schema  # noqa: E402


def _theirs(name: str) -> bool:
    return not name.startswith("lifecycle_") and name != "sqlite_sequence"


def _dump_theirs(db: Path) -> tuple[list, dict]:
    """hermes-agent's schema objects and every row of its tables (FTS shadow tables included)."""
    conn = sqlite3.connect(db)
    try:
        schema = [row for row in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
                  if _theirs(row[2])]
        rows = {name: conn.execute(f'SELECT * FROM "{name}"').fetchall()
                for kind, name, _, _ in schema if kind == "table"}
        rows["sqlite_sequence"] = [r for r in conn.execute("SELECT * FROM sqlite_sequence ORDER BY name")
                                   if _theirs(r[0])]
    finally:
        conn.close()
    return schema, rows


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _hermes_agent_writes_and_reads(db: Path, session_id: str) -> None:
    agent = hermes_state.SessionDB(db_path=db)
    try:
        agent.create_session(session_id, source="telegram")
        agent.append_message(session_id, "user", content=f"hello from {session_id}")
        assert agent.get_session(session_id)["source"] == "telegram"
        assert [m["content"] for m in agent.get_messages(session_id)] == [f"hello from {session_id}"]
    finally:
        agent.close()


def _we_write_and_read(home: Home, run_id: str) -> None:
    with Journal(home) as journal:
        journal.fire("start", actor="test", run_id=run_id, pid=1, data={"create_time": 1.0})
        journal.fire("start_failed", actor="test", run_id=run_id, reason="a test run")
        sessions = SessionStore(journal)
        sessions.create(f"chat-{run_id}")
        sessions.add_message(f"chat-{run_id}", "user", f"hi from {run_id}", run_id)
        assert [m.text for m in sessions.history(f"chat-{run_id}")] == [f"hi from {run_id}"]
        assert [e.trigger for e in journal.events(run_id=run_id)] == ["start", "start_failed"]


def test_hermes_agent_first_then_ours_leaves_theirs_untouched_and_both_work(tmp_path: Path):
    home = Home.resolve(tmp_path / "hermes")
    home.root.mkdir()
    _hermes_agent_writes_and_reads(home.state_db, "s-first")
    before = _dump_theirs(home.state_db)
    assert before[1]["schema_version"] == [(hermes_state.SCHEMA_VERSION,)]

    _we_write_and_read(home, "r-1")
    assert _dump_theirs(home.state_db) == before
    assert _integrity(home.state_db) == "ok"

    _hermes_agent_writes_and_reads(home.state_db, "s-again")
    _we_write_and_read(home, "r-2")
    assert _integrity(home.state_db) == "ok"


def test_ours_first_then_hermes_agent_opens_the_same_file_and_both_work(tmp_path: Path):
    home = Home.resolve(tmp_path / "hermes")
    _we_write_and_read(home, "r-1")
    _hermes_agent_writes_and_reads(home.state_db, "s-1")  # crashed with "no such column: source" before
    before = _dump_theirs(home.state_db)

    _we_write_and_read(home, "r-2")
    assert _dump_theirs(home.state_db) == before
    _hermes_agent_writes_and_reads(home.state_db, "s-2")
    assert _integrity(home.state_db) == "ok"
    with Journal(home) as journal:
        assert [e.run_id for e in journal.events()] == ["r-1", "r-1", "r-2", "r-2"]


def test_a_pre_prefix_home_hermes_agent_crashed_on_is_moved_and_then_serves_both(tmp_path: Path):
    """Finding 1, the other way round: hermes-agent met our old unprefixed `sessions`, added
    its tables and crashed.  Migration 5 moves ours aside; then hermes-agent opens cleanly."""
    home = Home.resolve(tmp_path / "hermes")
    home.root.mkdir()
    conn = sqlite3.connect(home.state_db, isolation_level=None)
    create_pre_prefix_schema(conn)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO sessions (id, stream, created_at, updated_at) VALUES ('chat-old', 'default', 'a', 'a')")
    conn.close()
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        hermes_state.SessionDB(db_path=home.state_db)

    _we_write_and_read(home, "r-1")
    _hermes_agent_writes_and_reads(home.state_db, "s-1")
    with Journal(home) as journal:
        assert SessionStore(journal).get("chat-old") is not None
    assert _integrity(home.state_db) == "ok"
