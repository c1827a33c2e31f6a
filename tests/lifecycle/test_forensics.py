"""The story and verdict of each kind of ending, from journals written through the one write path."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from hermes_lifecycle.history.forensics import RunNotFound, build_story
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.history.verdict import ENDING_KINDS
from tests.journal_runs import boot, crash, drain, planned_stop, request, write_history
from tests.strategies import run_histories


def story(journal, run_id=None) -> dict:
    return build_story(journal.conn, "default", run_id).to_json()


def test_planned_stop_names_who_asked_from_which_host_and_process(journal):
    planned_stop(journal, "r1", sessions=["s1"])
    doc = story(journal)
    assert doc["ending"] == "planned_stop"
    assert doc["verdict"].startswith("planned stop, drained in ")
    assert doc["stop_cause"]["kind"] == "stop_request"
    assert doc["stop_cause"]["requested_by"]["host"] == "box"
    assert doc["stop_cause"]["requested_by"]["pid"] == 5000
    assert 29 < doc["stop_cause"]["drain_timeout_s"] <= 30
    assert doc["drain"]["completed"] and not doc["drain"]["timed_out"]
    assert (doc["drain"]["in_flight"], doc["drain"]["in_flight_count"]) == ([], 0)
    assert doc["exit"]["code"] == 0
    assert [e["trigger"] for e in doc["timeline"]][:2] == ["start", "ready"]
    assert doc["timeline"][0]["t_s"] == 0.0
    assert all(b["t_s"] >= a["t_s"] for a, b in zip(doc["timeline"], doc["timeline"][1:]))


def test_a_forced_stop_that_drained_anyway_says_it_was_forced(journal):
    boot(journal, "r1")
    request(journal, force=True)
    drain(journal)
    story = build_story(journal.conn, "default", "r1")
    assert story.to_json()["stop_cause"]["force"] is True
    assert story.to_json()["verdict"].startswith("planned stop (stop --force), drained in ")


def test_planned_restart_is_told_apart_from_a_stop(journal):
    planned_stop(journal, "r1", intent="restart")
    doc = story(journal)
    assert doc["ending"] == "planned_restart"
    assert doc["exit"]["code"] == 75


def test_drain_timeout_counts_what_was_abandoned(journal):
    boot(journal, "r1")
    request(journal)
    drain(journal, abandoned=[{"session": "a"}, {"session": "b"}], timeout_s=30)
    doc = story(journal)
    assert doc["drain"]["timed_out"] and doc["drain"]["abandoned_count"] == 2
    assert doc["verdict"] == "planned stop, the drain timed out after 30 s, 2 requests abandoned"


def test_kill_after_the_drain_timeout_lists_each_escalation_step(journal):
    boot(journal, "r1")
    request(journal, timeout=5)
    journal.fire("escalated", actor="controller", data={"step": "terminate_tree", "pids": [4242],
                                                         "done": ["SIGTERM to 4242"]})
    journal.fire("escalated", actor="controller", data={"step": "kill_tree", "pids": [4242],
                                                         "done": ["SIGKILL to 4242"]})
    journal.fire("kill", actor="controller", data={"steps": ["terminate_tree", "kill_tree"]})
    doc = story(journal)
    assert doc["ending"] == "killed" and doc["state"] == "killed"
    assert [(s["step"], s["signal"]) for s in doc["escalation"]] == [("terminate_tree", "SIGTERM"),
                                                                    ("kill_tree", "SIGKILL")]
    assert doc["escalation"][1]["done"] == ["SIGKILL to 4242"]
    assert doc["verdict"].startswith("killed after the ")
    assert "never began to drain" in doc["verdict"]
    assert doc["verdict"].endswith("(SIGTERM, then SIGKILL)")


def test_a_kill_before_the_drain_timeout_says_the_stop_was_shorter_not_that_the_drain_ran_out(journal):
    journal.fire("start", actor="gateway", run_id="r1", pid=4242, data={"create_time": 1.0, "drain_timeout": 30.0})
    journal.fire("ready", actor="gateway", data={"port": 40000})
    request(journal, timeout=3)
    journal.fire("drain", actor="gateway", data={"in_flight": [{"session": "a"}, {"session": "b"}]})
    journal.fire("escalated", actor="controller", data={"step": "terminate_tree", "pids": [4242],
                                                         "done": ["SIGTERM to 4242"]})
    journal.fire("kill", actor="controller")
    verdict = story(journal)["verdict"]
    assert verdict.startswith("killed ") and "after the stop request (the stop allowed " in verdict
    assert "before the 30 s drain timeout ran out, 2 requests in flight as the drain began (SIGTERM)" in verdict
    assert "killed after the 30 s drain timeout" not in verdict


def test_a_windows_escalation_names_its_command_and_no_signal(journal):
    boot(journal, "r1")
    request(journal, timeout=5)
    journal.fire("escalated", actor="controller", data={"step": "kill_tree", "pids": [4242],
                                                         "done": ["taskkill /T /F /PID 4242"]})
    journal.fire("kill", actor="controller", data={"steps": ["kill_tree"]})
    doc = story(journal)
    assert doc["escalation"][0]["signal"] is None
    assert doc["escalation"][0]["done"] == ["taskkill /T /F /PID 4242"]
    assert doc["verdict"].endswith("(kill_tree)")


def test_crash_reports_the_last_sign_of_life_before_it_was_noticed(journal):
    crash(journal, "r1")
    doc = story(journal)
    assert doc["ending"] == "crashed"
    assert doc["stop_cause"]["kind"] == "none"
    assert doc["last_sign_of_life"]["trigger"] == "ready"
    assert doc["last_sign_of_life"]["seconds_before_noticed"] >= 0
    assert doc["verdict"].startswith("crashed: the process vanished while running, no shutdown recorded, "
                                     "last sign of life ")


def test_unplanned_signal_names_the_signal(journal):
    boot(journal, "r1")
    drain(journal, signal="SIGTERM", code=1)
    doc = story(journal)
    assert doc["ending"] == "unplanned_signal"
    assert doc["stop_cause"] == {**doc["stop_cause"], "kind": "signal", "signal": "SIGTERM"}
    assert doc["verdict"].startswith("unplanned stop by SIGTERM, drained in ")
    assert doc["exit"]["code"] == 1


def test_console_close_is_its_own_cause(journal):
    boot(journal, "r1")
    journal.fire("signal_received", actor="gateway", data={"console_event": "CTRL_CLOSE_EVENT"})
    drain(journal, code=1)
    doc = story(journal)
    assert doc["stop_cause"]["kind"] == "console_close"
    assert doc["verdict"].startswith("stopped by a console close (CTRL_CLOSE_EVENT)")


def test_stop_during_start_says_it_never_became_ready(journal):
    boot(journal, "r1", ready=False)
    request(journal)
    drain(journal)
    doc = story(journal)
    assert doc["stop_cause"]["during_start"] and doc["stop_cause"]["never_ready"]
    assert doc["verdict"].startswith("planned stop asked while starting (never ready), drained in ")


def test_failed_boot_carries_its_error(journal):
    boot(journal, "r1", ready=False)
    journal.fire("start_failed", actor="gateway", reason="port 80 is taken",
                 data={"error": "port 80 is taken", "exit_code": 78})
    doc = story(journal)
    assert doc["ending"] == "start_failed"
    assert doc["verdict"] == "failed to start: port 80 is taken"
    assert doc["exit"]["code"] == 78


def test_a_live_run_has_no_end_yet(journal):
    boot(journal, "r1")
    doc = story(journal)
    assert doc["ending"] == "alive" and doc["end"] is None and doc["ended_at"] is None
    assert doc["verdict"].startswith("running for ")


def test_resume_tracking_follows_each_marked_session_into_the_next_run(journal):
    planned_stop(journal, "r1", sessions=["s1", "s2", "s3"])
    boot(journal, "r2", resumed=["s1"])
    journal.fire("resume_abandoned", actor="gateway", data={"session": "s3", "runs": ["r0", "r1"]})
    outcomes = {s["session_id"]: s["outcome"] for s in story(journal, "r1")["resume"]["sessions"]}
    assert outcomes == {"s1": "resumed", "s2": "pending", "s3": "abandoned"}
    request(journal)
    drain(journal)
    outcomes = {s["session_id"]: s["outcome"] for s in story(journal, "r1")["resume"]["sessions"]}
    assert outcomes["s2"] == "not_resumed"
    assert story(journal, "r2")["resume"]["resumed_at_boot"] == ["s1"]


def test_sessions_marked_by_the_newest_run_wait_for_the_next(journal):
    planned_stop(journal, "r1", sessions=["s1"])
    assert story(journal)["resume"]["sessions"] == [
        {"session_id": "s1", "outcome": "waiting", "next_run_id": None, "at": None}]


def test_an_unknown_run_is_a_clear_error(journal):
    with pytest.raises(RunNotFound, match="no run 'nope'.*status --history"):
        build_story(journal.conn, "default", "nope")
    with pytest.raises(RunNotFound, match="no run at all"):
        build_story(journal.conn, "default")


EXPECTED_ENDING = {"stop": "planned_stop", "restart": "planned_restart", "signal": "unplanned_signal",
                   "timeout": "planned_stop", "kill": "killed", "crash": "crashed",
                   "start_failed": "start_failed"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=run_histories)
def test_every_run_of_any_history_gets_the_ending_it_had(tmp_path_factory, history):
    endings, alive = history
    with Journal(Home.resolve(tmp_path_factory.mktemp("home"))) as journal:
        write_history(journal, history)
        for i, ending in enumerate(endings):
            doc = build_story(journal.conn, "default", f"r{i}").to_json()
            assert doc["ending"] == EXPECTED_ENDING[ending] and doc["ending"] in ENDING_KINDS
            assert doc["verdict"] and "\n" not in doc["verdict"]
            assert doc["timeline"][0]["trigger"] == "start"
        last = build_story(journal.conn, "default").to_json()
        assert last["ending"] == ("alive" if alive else EXPECTED_ENDING[endings[-1]])


def test_a_restart_verdict_says_whether_the_next_run_came_back(journal):
    planned_stop(journal, "r1", intent="restart")
    assert story(journal, "r1")["verdict"].endswith("; no run has started since")
    boot(journal, "r2", ready=False)
    assert story(journal, "r1")["verdict"].endswith("; the next run is still starting")
    journal.fire("ready", actor="gateway", data={"port": 1})
    assert "; back up (ready) " in story(journal, "r1")["verdict"]


def test_a_restart_names_its_id_and_the_run_whose_start_carries_the_same_id(journal):
    planned_stop(journal, "r1", intent="restart", restart_id="rs-1")
    assert story(journal, "r1")["restart"]["next_run_id"] is None
    boot(journal, "r2", restart_id="rs-1")
    old, new = story(journal, "r1"), story(journal, "r2")
    assert old["restart"] == {"restart_id": "rs-1", "requested_at": old["restart"]["requested_at"],
                              "next_run_id": "r2", "linked_by": "restart_id"}
    assert old["restart"]["requested_at"] == next(e["at"] for e in old["timeline"]
                                                  if e["trigger"] == "stop_requested")
    assert old["started_by_restart"] is None and new["started_by_restart"] == "rs-1"
    assert new["restart"] is None


def test_a_run_revived_without_the_id_is_linked_by_order_to_the_restart_before_it(journal):
    planned_stop(journal, "r1", intent="restart", restart_id="rs-1")
    boot(journal, "r2")  # a service manager brought it back: no environment travels that way
    restart = story(journal, "r1")["restart"]
    assert (restart["restart_id"], restart["next_run_id"], restart["linked_by"]) == ("rs-1", "r2", "order")


def test_a_next_run_started_by_another_restart_is_not_linked(journal):
    planned_stop(journal, "r1", intent="restart", restart_id="rs-1")
    boot(journal, "r2", restart_id="rs-2")
    restart = story(journal, "r1")["restart"]
    assert (restart["restart_id"], restart["next_run_id"], restart["linked_by"]) == ("rs-1", None, None)


def test_a_plain_stop_has_no_restart_section(journal):
    planned_stop(journal, "r1")
    boot(journal, "r2")
    assert story(journal, "r1")["restart"] is None
