"""Retention: whole old runs go in one transaction, on the record; the current run never does."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.history.prune import plan_keep_runs, plan_older_than, prune
from hermes_lifecycle.projection import verify_projection
from hermes_lifecycle.store import read_events
from tests.journal_runs import boot, crash, planned_stop, write_history
from tests.strategies import run_histories, runs_to_keep


def five_runs_and_a_live_one(journal) -> None:
    journal.fire("service_installed", actor="service-manager")
    for i in range(3):
        planned_stop(journal, f"r{i}", sessions=[f"s{i}"])
    crash(journal, "r3")
    planned_stop(journal, "r4")
    boot(journal, "r5")


def test_keep_runs_removes_the_oldest_whole_runs_and_records_the_range(journal):
    five_runs_and_a_live_one(journal)
    kept_before = [e for e in read_events(journal.conn) if e.run_id in ("r4", "r5")]
    plan = plan_keep_runs(journal.conn, "default", 2)
    event = prune(journal, plan, actor="test", rule={"keep_runs": 2})
    remaining = read_events(journal.conn)
    assert {e.run_id for e in remaining} == {"r4", "r5"}
    assert remaining[:len(kept_before)] == kept_before
    assert remaining[-1] == event and event.trigger == "pruned"
    removed = event.data["removed"]
    assert (removed["runs"], removed["first_run_id"], removed["last_run_id"]) == (4, "r0", "r3")
    assert removed["from_version"] == 1 and removed["to_version"] == kept_before[0].version - 1
    stored, rebuilt = verify_projection(journal.conn, "default")
    assert stored == rebuilt and stored.state == "running" and stored.run_id == "r5"


def test_the_current_run_is_never_pruned(journal):
    five_runs_and_a_live_one(journal)
    plan = plan_keep_runs(journal.conn, "default", 0)
    assert plan.kept_from_run_id == "r5"
    prune(journal, plan, actor="test", rule={"keep_runs": 1})
    assert {e.run_id for e in read_events(journal.conn)} == {"r5"}
    assert plan_keep_runs(journal.conn, "default", 1) is None
    stored, rebuilt = verify_projection(journal.conn, "default")
    assert stored == rebuilt


def test_older_than_keeps_runs_that_ended_recently(journal):
    five_runs_and_a_live_one(journal)
    assert plan_older_than(journal.conn, "default", 3600) is None
    future = datetime.now(timezone.utc) + timedelta(days=1)
    plan = plan_older_than(journal.conn, "default", 60, now=future)
    assert plan.kept_from_run_id == "r5" and plan.runs == 5


def test_prune_after_prune_keeps_the_fold_equal(journal):
    five_runs_and_a_live_one(journal)
    prune(journal, plan_keep_runs(journal.conn, "default", 4), actor="test", rule={})
    journal.fire("drain", actor="gateway")
    journal.fire("drained", actor="gateway")
    planned_stop(journal, "r6")
    prune(journal, plan_keep_runs(journal.conn, "default", 2), actor="test", rule={})
    assert {e.run_id for e in read_events(journal.conn)} == {"r5", "r6"}
    stored, rebuilt = verify_projection(journal.conn, "default")
    assert stored == rebuilt and stored.state == "stopped"


def test_nothing_but_prune_may_delete_events(journal):
    five_runs_and_a_live_one(journal)
    with pytest.raises(sqlite3.DatabaseError, match="deleted only by hermes gateway prune"):
        journal.conn.execute("DELETE FROM lifecycle_events WHERE version = 1")
    assert len(read_events(journal.conn)) > 0


def test_a_stale_plan_removes_nothing(journal):
    from hermes_lifecycle.history.prune import PruneConflict

    five_runs_and_a_live_one(journal)
    stale = plan_keep_runs(journal.conn, "default", 3)
    prune(journal, plan_keep_runs(journal.conn, "default", 1), actor="test", rule={})
    before = read_events(journal.conn)
    with pytest.raises(PruneConflict, match="nothing was removed"):
        prune(journal, stale, actor="test", rule={})
    assert read_events(journal.conn) == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=run_histories, keep=runs_to_keep)
def test_any_history_pruned_to_any_size_folds_to_the_same_state(tmp_path_factory, history, keep):
    with Journal(Home.resolve(tmp_path_factory.mktemp("home"))) as journal:
        runs = write_history(journal, history)
        newest = [e for e in read_events(journal.conn) if e.run_id == runs[-1]]
        before = journal.state()
        plan = plan_keep_runs(journal.conn, "default", keep)
        if plan is not None:
            prune(journal, plan, actor="test", rule={"keep_runs": keep})
        remaining = read_events(journal.conn)
        assert {e.run_id for e in remaining} == set(runs[-keep:])
        assert [e for e in remaining if e.run_id == runs[-1]][:len(newest)] == newest
        stored, rebuilt = verify_projection(journal.conn, "default")
        assert stored == rebuilt
        assert (stored.state, stored.run_id, stored.pid) == (before.state, before.run_id, before.pid)
