"""A big prune goes in bounded batches, gives the space back, and keeps the guard's promise."""

from __future__ import annotations

import sqlite3

import pytest

from hermes_lifecycle.history import prune as prune_module
from hermes_lifecycle.home import Home
from hermes_lifecycle.history.prune import plan_keep_runs, prune
from hermes_lifecycle.projection import verify_projection
from hermes_lifecycle.store import read_events
from hermes_lifecycle.store.retention import GUARD_TRIGGER
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
    monkeypatch.setattr(prune_module, "REBUILD_KEPT_MAX", 0)  # the row-by-row path
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


@pytest.mark.parametrize("rebuild_kept_max", [0, 10_000], ids=["row by row", "rebuilt"])
def test_the_file_gives_the_pruned_space_back(journal, monkeypatch, rebuild_kept_max):
    monkeypatch.setattr(prune_module, "REBUILD_KEPT_MAX", rebuild_kept_max)
    many_runs(journal, 200)
    pages_before, _ = _pages(journal.conn)
    prune(journal, plan_keep_runs(journal.conn, "default", 1), actor="test", rule={"keep_runs": 1})
    pages, free = _pages(journal.conn)
    assert free == 0 and pages < pages_before / 2


def test_the_guard_is_back_after_a_prune_and_after_a_failed_batch(journal, monkeypatch):
    many_runs(journal, 30)
    monkeypatch.setattr(prune_module, "BATCH_EVENTS", 20)
    monkeypatch.setattr(prune_module, "REBUILD_KEPT_MAX", 0)  # the row-by-row path
    real_delete, calls = prune_module.delete_before, []

    def failing_second_batch(conn, stream, cut):
        calls.append(cut)
        if len(calls) == 2:
            conn.execute(f"DROP TRIGGER {GUARD_TRIGGER}")
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return real_delete(conn, stream, cut)

    monkeypatch.setattr(prune_module, "delete_before", failing_second_batch)
    before = journal.state()
    with pytest.raises(sqlite3.OperationalError, match="injected"):
        prune(journal, plan_keep_runs(journal.conn, "default", 2), actor="test", rule={"keep_runs": 2})
    with pytest.raises(sqlite3.DatabaseError, match="deleted only by hermes gateway prune"):
        journal.conn.execute("DELETE FROM lifecycle_events WHERE seq = (SELECT max(seq) FROM lifecycle_events)")
    stored, rebuilt = verify_projection(journal.conn, "default")
    assert stored == rebuilt and (stored.state, stored.run_id) == (before.state, before.run_id)
    assert journal.events(triggers=("pruned",)), "the record came with the first batch"
    monkeypatch.setattr(prune_module, "delete_before", real_delete)
    prune(journal, plan_keep_runs(journal.conn, "default", 2), actor="test", rule={"keep_runs": 2})
    assert {e.run_id for e in read_events(journal.conn) if e.trigger == "start"} == {"r29", "r30"}


def _schema(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()


def test_a_rebuilt_log_keeps_its_schema_its_guard_other_streams_and_never_reuses_a_seq(home, journal):
    from hermes_lifecycle.journal import Journal

    # Since i9a each profile has its own state.db, but the store is generic and keeps any
    # number of streams in one file: a rebuild must keep every other stream's events whole.
    with Journal(Home.resolve(home.root)) as other:
        other.stream = "other"
        other.fire("service_installed", actor="test")
        many_runs(journal, 30)
        other.fire("service_installed", actor="test")
        schema = _schema(journal.conn)
        newest = journal.conn.execute("SELECT max(seq) FROM lifecycle_events").fetchone()[0]
        theirs = read_events(journal.conn, "other")
        event = prune(journal, plan_keep_runs(journal.conn, "default", 1), actor="test", rule={"keep_runs": 1})
        assert event.seq == newest + 1
        assert _schema(journal.conn) == schema  # the same table, indexes and triggers, by their own SQL
        assert read_events(journal.conn, "other") == theirs
        with pytest.raises(sqlite3.DatabaseError, match="deleted only by hermes gateway prune"):
            journal.conn.execute("DELETE FROM lifecycle_events WHERE seq = ?", (event.seq,))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            journal.conn.execute("UPDATE lifecycle_events SET actor = 'x' WHERE seq = ?", (event.seq,))
        counter = journal.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'lifecycle_events'").fetchone()
        assert counter == (event.seq,)  # AUTOINCREMENT's memory survives the rebuild
        after = other.fire("service_installed", actor="test")
        assert after.seq == event.seq + 1
        stored, rebuilt = verify_projection(journal.conn, "default")
        assert stored == rebuilt


@pytest.mark.parametrize("rebuild_kept_max", [0, 10_000], ids=["row by row", "rebuilt"])
def test_what_prune_removed_is_no_longer_in_the_files(home, journal, monkeypatch, rebuild_kept_max):
    """The rebuilt path drops the old table without zeroing its pages; the VACUUM after it
    must leave none of the removed events in state.db or its WAL."""
    monkeypatch.setattr(prune_module, "REBUILD_KEPT_MAX", rebuild_kept_max)
    journal.fire("service_installed", actor="test", reason="secret-marker-of-an-old-run")
    many_runs(journal, 40)
    prune(journal, plan_keep_runs(journal.conn, "default", 1), actor="test", rule={"keep_runs": 1})
    stored = b"".join(p.read_bytes() for p in home.root.glob("state.db*") if p.is_file())
    assert b"secret-marker-of-an-old-run" not in stored
