"""The stop request: its format, and the rule that decides whom it is for."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from hermes_lifecycle.errors import IllegalTransition, InvalidStopRequest
from hermes_lifecycle.identity import ProcessIdentity
from hermes_lifecycle.stop_request import MINE, OTHER, REFUSE, StopRequest, judge, request_stop

ME = ProcessIdentity(4242, time.time() - 60)


@pytest.fixture
def running(journal):
    journal.fire("start", actor="test", run_id="r-1", pid=ME.pid, data={"create_time": ME.create_time})
    return journal


def test_request_carries_target_intent_deadline_and_who_asked(running):
    deadline = time.time() + 30
    event = request_stop(running, ME, "restart", deadline, "controller", restart_id="rs-1", idempotency_key="k-1")
    assert event.trigger == "stop_requested" and event.reason == "restart"
    assert event.data["target"] == {"pid": ME.pid, "create_time": ME.create_time}
    assert event.data["intent"] == "restart" and event.data["deadline"] == deadline
    assert event.data["deadline_at"].endswith("Z") and event.data["restart_id"] == "rs-1"
    assert event.data["requested_by"]["role"] == "controller" and event.actor.startswith("controller ")
    again = request_stop(running, ME, "restart", deadline, "controller", idempotency_key="k-1")
    assert again.seq == event.seq  # an idempotent retry writes nothing


def test_deadline_may_be_an_aware_datetime(running):
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert request_stop(running, ME, "stop", when, "controller").data["deadline"] == pytest.approx(when.timestamp())


@pytest.mark.parametrize("intent, deadline", [("halt", None), ("stop", "soon"),
                                              ("stop", datetime(2026, 11, 26, 12, 0))])
def test_malformed_request_is_refused_and_nothing_is_written(running, intent, deadline):
    version = running.state().version
    with pytest.raises(InvalidStopRequest):
        request_stop(running, ME, intent, deadline, "controller")
    assert running.state().version == version


def test_request_with_no_gateway_alive_is_illegal(journal):
    with pytest.raises(IllegalTransition):
        request_stop(journal, ME, "stop", None, "controller")


def _request(running, target: ProcessIdentity) -> StopRequest:
    return StopRequest.from_event(request_stop(running, target, "stop", None, "controller"))


def test_judge_accepts_a_request_for_this_pid_and_create_time(running):
    assert judge(_request(running, ME), ME).decision == MINE


def test_judge_leaves_another_process_alone(running):
    assert judge(_request(running, ProcessIdentity(ME.pid + 1, ME.create_time)), ME).decision == OTHER


def test_judge_refuses_a_reused_pid(running):
    verdict = judge(_request(running, ProcessIdentity(ME.pid, ME.create_time - 500)), ME)
    assert verdict.decision == REFUSE and "reused" in verdict.why


def test_judge_refuses_a_request_written_before_this_process_started(running):
    request = _request(running, ME)
    younger = ProcessIdentity(ME.pid, time.time() + 100)
    old = StopRequest(**{**request.__dict__, "target": younger})
    verdict = judge(old, younger)
    assert verdict.decision == REFUSE and "before this process" in verdict.why


def test_exit_codes_follow_the_intent(running):
    assert _request(running, ME).exit_code == 0
    restart = StopRequest.from_event(request_stop(running, ME, "restart", None, "controller"))
    assert restart.exit_code == 75
