"""Sessions in state.db: one home holds every profile's sessions, each profile sees only its own."""

from __future__ import annotations

import asyncio
import sqlite3

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.runtime.sessions import SessionStore
from hermes_lifecycle.store.migrate import available_migrations, split_statements


async def _accept(session_id: str) -> None:
    pass


def _draining(journal: Journal, run_id: str) -> None:
    journal.fire("start", actor="test", run_id=run_id, pid=1, data={"create_time": 1.0})
    journal.fire("drain", actor="test", run_id=run_id, pid=1)


def test_two_profiles_may_use_the_same_session_id_without_touching_each_other(home_dir):
    with Journal(Home.resolve(home_dir, "alpha")) as alpha, Journal(Home.resolve(home_dir, "beta")) as beta:
        _draining(alpha, "r-alpha")
        _draining(beta, "r-beta")
        ours, theirs = SessionStore(alpha), SessionStore(beta)
        ours.create("chat-42")
        theirs.create("chat-42")
        ours.add_message("chat-42", "user", "for alpha", "r-alpha")

        theirs.mark_resume_pending(["chat-42"], run_id="r-beta", actor="test")

        assert [m.text for m in ours.history("chat-42")] == ["for alpha"]
        assert theirs.history("chat-42") == []
        assert (ours.get("chat-42").resume_pending, theirs.get("chat-42").resume_pending) == (False, True)
        assert asyncio.run(ours.resume_on_boot(run_id="r-alpha2", actor="test", hand_over=_accept)) == ([], [])
        assert theirs.get("chat-42").interrupted_runs == ["r-beta"]


def test_sessions_and_messages_of_an_older_database_survive_the_per_profile_keys(home):
    """A state.db written before session ids were per profile keeps every session and message."""
    home.root.mkdir(parents=True)
    conn = sqlite3.connect(home.state_db, isolation_level=None)
    older = [m for m in available_migrations() if m.number <= 3]
    conn.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    for migration in older:
        for statement in split_statements(migration.sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (migration.number, migration.name))
    conn.execute(f"PRAGMA user_version = {len(older)}")
    conn.execute("INSERT INTO sessions (id, stream, created_at, updated_at, resume_pending, interruptions, "
                 "interrupted_runs) VALUES ('s-1', 'default', 'then', 'then', 1, 1, '[\"r-1\"]')")
    conn.execute("INSERT INTO messages VALUES ('s-1', 1, 'user', 'hello', 'then', 'r-1')")
    conn.close()

    with Journal(home) as journal:
        store = SessionStore(journal)
        session = store.get("s-1")
        assert (session.resume_pending, session.interrupted_runs, session.messages) == (True, ["r-1"], 1)
        assert [(m.seq, m.text) for m in store.history("s-1")] == [(1, "hello")]
        store.add_message("s-1", "assistant", "hi", "r-2", completes_turn=True)
        assert [m.seq for m in store.history("s-1")] == [1, 2]
