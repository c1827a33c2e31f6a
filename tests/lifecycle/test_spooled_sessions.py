"""The interrupted-only rule (issue 14) holds for sessions marked while the log could not take
them (issue 12's spool): replayed, only the sessions with a turn in flight count an interruption."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.runtime.sessions import SessionStore


def test_a_spooled_mark_counts_only_the_interrupted_sessions_when_it_lands(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    with Journal(home) as journal:
        journal.fire("start", actor="test", run_id="r1", pid=1, data={"create_time": 1.0})
        journal.fire("ready", actor="test", run_id="r1", pid=1, data={"port": 1})
        journal.fire("drain", actor="test", run_id="r1", pid=1)
        holder = sqlite3.connect(str(home.state_db), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            SessionStore(journal).mark_resume_pending(["finished", "mid-turn"], run_id="r1", actor="test",
                                                      spool_after=0.1, interrupted={"mid-turn"})
            assert [e.trigger for e in journal.pending()] == ["resume_pending_marked"]  # kept in the spool
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    with Journal(home) as journal:  # opening lands the spool, rows and event together
        assert journal.pending() == []
        marked = journal.events()[-1]
        assert (marked.trigger, marked.data["interrupted"]) == ("resume_pending_marked", ["mid-turn"])
        sessions = {s.id: s for s in SessionStore(journal).list()}
    assert sessions["mid-turn"].resume_pending and sessions["mid-turn"].interrupted_runs == ["r1"]
    assert sessions["finished"].resume_pending and sessions["finished"].interrupted_runs == []
