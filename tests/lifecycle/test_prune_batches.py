"""A big prune goes in bounded batches, gives the space back, and keeps the guard's promise."""

from __future__ import annotations

import sqlite3

import pytest

from hermes_lifecycle.history import prune as prune_module
from hermes_lifecycle.history.prune import plan_keep_runs, prune
from hermes_lifecycle.store import read_events, verify_projection
from tests.journal_runs import boot, planned_stop


def many_runs(journal, runs: int) -> None:
    for i in range(runs):
        planned_stop(journal, f"r{i}", sessions=[f"s{i}"])
    boot(journal, f"r{runs}")


def _pages(conn: sqlite3.Connection) -> tuple[int, int]:
    return conn.execute("PRAGMA page_count").fetchone()[0], conn.execute("PRAGMA freelist_count").fetchone()[0]


def _commits(conn: sqlite3.Connection) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None)
    return seen


def test_a_big_prune_commits_in_batches_and_records_the_whole_range_first(journal, monkeypatch):
    many_runs(journal, 30)
    monkeypatch.setattr(prune_module, "BATCH_EVENTS", 20)
    plan = plan_keep_runs(journal.conn, "default", 2)
    commits = _commits(journal.conn)
    event = prune(journal, plan, actor="test", rule={"keep_runs": 2})
    journal.conn.set_trace_callback(None)
    assert len(commits) >= plan.events // 20  # one transaction per batch, not one for all
    remaining = read_events(journal.conn)
    assert {e.run_id for e in remaining} == {"r29", "r30"}
    assert remaining[-1] == event and event.data["removed"]["events"] == plan.events
    stored, rebuilt = verify_projection(journal.conn, "default")
    assert stored == rebuilt


def test_the_file_gives_the_pruned_space_back(journal):
    many_runs(journal, 200)
    pages_before, _ = _pages(journal.conn)
    prune(journal, plan_keep_runs(journal.conn, "default", 1), actor="test", rule={"keep_runs": 1})
    pages, free = _pages(journal.conn)
    assert free == 0 and pages < pages_before / 2


def test_the_guard_is_back_after_a_prune_and_after_a_failed_batch(journal, monkeypatch):
    many_runs(journal, 30)
    monkeypatch.setattr(prune_module, "BATCH_EVENTS", 20)
    real_delete, calls = prune_module._delete_below, []

    def failing_second_batch(conn, stream, cut):
        calls.append(cut)
        if len(calls) == 2:
            conn.execute(f"DROP TRIGGER {prune_module.GUARD_TRIGGER}")
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return real_delete(conn, stream, cut)

    monkeypatch.setattr(prune_module, "_delete_below", failing_second_batch)
    before = journal.state()
    with pytest.raises(sqlite3.OperationalError, match="injected"):
        prune(journal, plan_keep_runs(journal.conn, "default", 2), actor="test", rule={"keep_runs": 2})
    with pytest.raises(sqlite3.DatabaseError, match="deleted only by hermes gateway prune"):
        journal.conn.execute("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)")
    stored, rebuilt = verify_projection(journal.conn, "default")
    assert stored == rebuilt and (stored.state, stored.run_id) == (before.state, before.run_id)
    assert journal.events(triggers=("pruned",)), "the record came with the first batch"
    monkeypatch.setattr(prune_module, "_delete_below", real_delete)
    prune(journal, plan_keep_runs(journal.conn, "default", 2), actor="test", rule={"keep_runs": 2})
    assert {e.run_id for e in read_events(journal.conn) if e.trigger == "start"} == {"r29", "r30"}
