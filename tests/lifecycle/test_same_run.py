""""The same run" is decided inside the write transaction, and the readers' rules come from the
machine's one table."""

from __future__ import annotations

import pytest
from hermes_lifecycle.errors import RunChanged
from hermes_lifecycle.machine import ALIVE_STATES, ENDINGS, REST_STATES, START_TRIGGER, TRANSITIONS, decide


def test_fire_with_another_run_expected_writes_nothing_and_says_which_run_is_current(journal):
    journal.fire("start", actor="test", run_id="r-old", pid=1, data={"create_time": 1.0})
    journal.fire("lost", actor="test")
    journal.fire("start", actor="test", run_id="r-new", pid=2, data={"create_time": 2.0})
    before = journal.state()
    with pytest.raises(RunChanged) as raised:
        journal.fire("escalated", actor="test", run_id="r-old", expect_run="r-old", data={"step": "terminate_tree"})
    assert raised.value.current == "r-new" and "r-new" in str(raised.value)
    assert journal.state() == before and journal.events(triggers=("escalated",)) == []
    event = journal.fire("escalated", actor="test", expect_run="r-new", data={"step": "terminate_tree"})
    assert event.run_id == "r-new"


def test_an_escalation_step_is_recorded_after_the_run_reached_rest(journal):
    journal.fire("start", actor="test", run_id="r-1", pid=1, data={"create_time": 1.0})
    journal.fire("drain", actor="test")
    journal.fire("drained", actor="test")
    step = journal.fire("escalated", actor="test", expect_run="r-1", data={"step": "terminate_tree"})
    assert (step.kind, step.from_state, step.to_state) == ("step", "stopped", "stopped")


def test_the_endings_and_the_start_are_what_the_machine_decides():
    for trigger, rest in ENDINGS.items():
        row = next(t for t in TRANSITIONS if t["trigger"] == trigger)
        assert rest in REST_STATES and all(decide(source, trigger) == rest for source in row["source"])
    assert set(ENDINGS.values()) == set(REST_STATES)
    assert all(decide(rest, START_TRIGGER) in ALIVE_STATES for rest in REST_STATES)
    assert set(ENDINGS) == {"drained", "kill", "lost", "start_failed"}
