"""A write that names its run (``expect_run``) keeps that promise when the log cannot take it now:
spooled, it is decided against the log plus the spool; replayed, it is checked again, and set
aside (never forced onto a newer run) when the run changed in between."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from hermes_lifecycle import store
from hermes_lifecycle.errors import RunChanged
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import INITIAL_STATE, decide
from hermes_lifecycle.projection import fold_row


def _started(tmp_path: Path) -> Home:
    home = Home.resolve(tmp_path / "home")
    with Journal(home) as journal:
        journal.fire("start", actor="test", run_id="r1", pid=1, data={"create_time": 1.0})
    return home


def _locked(home: Home) -> sqlite3.Connection:
    holder = sqlite3.connect(str(home.state_db), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_a_spooled_write_for_another_run_is_refused_and_nothing_is_spooled(tmp_path: Path) -> None:
    home = _started(tmp_path)
    with Journal(home) as journal:
        journal.state()
        holder = _locked(home)
        try:
            with pytest.raises(RunChanged, match="r1"):
                journal.fire("escalated", actor="test", run_id="r0", expect_run="r0", spool_after=0.1,
                             data={"step": "terminate_tree"})
            assert journal.pending() == []
            kept = journal.fire("escalated", actor="test", run_id="r1", expect_run="r1", spool_after=0.1,
                                data={"step": "terminate_tree"})
            assert kept.seq == 0 and [e.trigger for e in journal.pending()] == ["escalated"]
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_a_spooled_write_whose_run_ended_before_the_replay_is_set_aside(tmp_path: Path) -> None:
    home = _started(tmp_path)
    with Journal(home) as journal:
        journal.state()
        holder = _locked(home)
        try:
            kept = journal.fire("escalated", actor="test", run_id="r1", expect_run="r1", spool_after=0.1,
                                data={"step": "terminate_tree"})
            assert kept.seq == 0
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    conn = store.open_store(home.state_db)  # behind the spool's back: the run ends, a new one begins
    for trigger, run in (("lost", None), ("start", "r2")):
        store.append(conn, "default", trigger, decide, fold_row, initial=INITIAL_STATE, actor="test", run_id=run,
                     pid=2, data={"create_time": 2.0})
    conn.close()
    with Journal(home) as journal:
        assert journal.pending() == []  # opening replayed the spool
        assert [(e.trigger, e.run_id) for e in journal.events()] == [("start", "r1"), ("lost", "r1"),
                                                                      ("start", "r2")]
    rejected = [json.loads(line) for line in (home.logs_dir / "spool-rejected.jsonl").read_text().splitlines()]
    assert [(r["trigger"], r["run_id"]) for r in rejected] == [("escalated", "r1")]
    assert "r2" in rejected[0]["rejected"]
