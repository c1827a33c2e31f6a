import sqlite3

import pytest

from hermes_lifecycle.errors import IllegalTransition, StoreError
from hermes_lifecycle.projection import verify_projection
from hermes_lifecycle.store import read_events


def test_illegal_trigger_writes_nothing(journal):
    with pytest.raises(IllegalTransition, match="'drained' is not allowed in state 'stopped'"):
        journal.fire("drained", actor="test")
    assert read_events(journal.conn) == []
    assert journal.state().version == 0


def test_a_run_appends_versions_in_order_and_the_projection_follows(journal):
    journal.fire("start", actor="test", run_id="r1", pid=1, data={"create_time": 1.0})
    journal.fire("ready", actor="test", data={"port": 5555})
    journal.fire("drain", actor="test", reason="stop request")
    journal.fire("resume_pending_marked", actor="test", data={"session_ids": ["a"]})
    journal.fire("drained", actor="test")
    events = read_events(journal.conn)
    assert [e.version for e in events] == [1, 2, 3, 4, 5]
    assert [e.kind for e in events] == ["transition", "transition", "transition", "step", "transition"]
    assert all(e.run_id == "r1" for e in events)
    stored, rebuilt = verify_projection(journal.conn, "default")
    assert stored == rebuilt
    assert stored.state == "stopped" and stored.pid is None and stored.port is None


def test_idempotency_key_appends_once(journal):
    journal.fire("start", actor="test", run_id="r1")
    first = journal.fire("stop_requested", actor="test", idempotency_key="op-1")
    again = journal.fire("stop_requested", actor="test", idempotency_key="op-1")
    assert first == again
    assert len(read_events(journal.conn, triggers=("stop_requested",))) == 1


def test_events_cannot_be_rewritten(journal):
    journal.fire("start", actor="test", run_id="r1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        journal.conn.execute("UPDATE lifecycle_events SET trigger = 'ready'")


def test_duplicate_stream_version_is_refused_by_the_schema(journal):
    journal.fire("start", actor="test", run_id="r1")
    with pytest.raises(sqlite3.IntegrityError):
        journal.conn.execute(
            "INSERT INTO lifecycle_events (stream, version, at, kind, trigger, from_state, to_state, actor) "
            "VALUES ('default', 1, 'x', 'step', 'exited', 'starting', 'starting', 'test')"
        )


def test_an_idempotency_key_reused_by_another_trigger_is_refused_not_answered_with_the_wrong_event(journal):
    journal.fire("start", actor="test", run_id="r1")
    first = journal.fire("stop_requested", actor="test", idempotency_key="op-1")
    with pytest.raises(StoreError, match="already used by 'stop_requested'"):
        journal.fire("escalated", actor="test", idempotency_key="op-1")
    assert read_events(journal.conn)[-1] == first
