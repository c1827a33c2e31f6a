import pytest

from hermes_lifecycle.errors import IllegalTransition
from hermes_lifecycle.machine import ALIVE_STATES, SIDE_STEPS, STATE_NAMES, TRANSITIONS, decide


@pytest.mark.parametrize("row", TRANSITIONS, ids=lambda r: r["trigger"])
def test_every_transition_in_the_table_is_allowed_from_each_source(row):
    for source in row["source"]:
        assert decide(source, row["trigger"]) == row["dest"]


@pytest.mark.parametrize("row", TRANSITIONS, ids=lambda r: r["trigger"])
def test_a_transition_is_refused_from_every_state_not_in_its_sources(row):
    for state in set(STATE_NAMES) - set(row["source"]):
        with pytest.raises(IllegalTransition) as caught:
            decide(state, row["trigger"])
        assert state in str(caught.value) and row["trigger"] in str(caught.value)


@pytest.mark.parametrize("row", SIDE_STEPS, ids=lambda r: r["trigger"])
def test_side_steps_keep_the_state(row):
    sources = STATE_NAMES if row["source"] == "*" else row["source"]
    for source in sources:
        assert decide(source, row["trigger"]) == source


def test_unknown_trigger_is_refused_by_name():
    with pytest.raises(IllegalTransition, match="unknown trigger 'explode'"):
        decide("running", "explode")


def test_stop_request_is_refused_when_nothing_runs():
    with pytest.raises(IllegalTransition):
        decide("stopped", "stop_requested")


def test_alive_states_are_the_ones_a_process_stands_behind():
    assert ALIVE_STATES == {"starting", "running", "draining"}
