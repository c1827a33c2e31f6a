"""Whatever triggers arrive, in whatever order, the log stays whole and the projection true."""

from __future__ import annotations

import tempfile

from hypothesis import HealthCheck, given, settings

from hermes_lifecycle.errors import IllegalTransition
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import STATE_NAMES, TRIGGERS, decide
from hermes_lifecycle.projection import verify_projection
from hermes_lifecycle.store import read_events
from tests.strategies import trigger_sequences


def _machine_says(state: str, trigger: str) -> str | None:
    try:
        return decide(state, trigger)
    except IllegalTransition:
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trigger_sequences)
def test_any_trigger_sequence_keeps_versions_contiguous_and_the_projection_a_fold(sequence):
    with tempfile.TemporaryDirectory() as tmp, Journal(Home.resolve(tmp), sync="fast") as journal:
        expected_state = "stopped"
        for trigger, context in sequence:
            before = len(read_events(journal.conn))
            allowed = _machine_says(expected_state, trigger)
            try:
                event = journal.fire(trigger, actor="hypothesis", **context)
            except IllegalTransition as refused:
                assert allowed is None, f"{trigger} refused in {expected_state}"
                assert refused.trigger == trigger and refused.state == expected_state
                assert len(read_events(journal.conn)) == before, "a refused trigger wrote something"
                continue
            assert allowed is not None and trigger in TRIGGERS
            assert event.from_state == expected_state and event.to_state == allowed
            assert event.kind == ("transition" if allowed != expected_state else "step")
            assert event.data == context["data"]
            expected_state = allowed

        events = read_events(journal.conn)
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        assert [e.seq for e in events] == sorted({e.seq for e in events})
        for previous, current in zip(events, events[1:]):
            assert current.from_state == previous.to_state
        stored, rebuilt = verify_projection(journal.conn, "default")
        assert stored == rebuilt
        assert stored.state == expected_state in STATE_NAMES
        if expected_state in ("stopped", "killed", "crashed"):
            assert stored.pid is None and stored.port is None
