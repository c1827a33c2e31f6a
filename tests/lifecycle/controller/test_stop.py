"""`hermes gateway stop` against real detached gateways."""

from __future__ import annotations

import json
import os
import signal
import threading

from hermes_lifecycle.controller.stop import stop_gateway
from hermes_lifecycle.store import parse_at
from tests.conftest import run_hermes, start_detached
from tests.gateways import events, hold_a_turn_in_flight, state, wait_for


def triggers(home_dir, run_id):
    return [e.trigger for e in events(home_dir, run_id=run_id)]


def test_stop_of_an_idle_gateway_drains_and_exits_zero(home_dir, reaper):
    started = start_detached(home_dir)
    done = run_hermes(home_dir, "stop")
    assert done.returncode == 0, done.stderr
    assert "stopped after a drain" in done.stdout
    history = triggers(home_dir, started["run_id"])
    assert history.index("stop_requested") < history.index("drain") < history.index("drained")
    assert "escalated" not in history and "kill" not in history
    request = events(home_dir, "stop_requested")[-1]
    assert request.data["target"]["pid"] == started["pid"] and request.data["intent"] == "stop"
    assert state(home_dir).state == "stopped"


def test_stop_when_nothing_runs_exits_zero_and_says_not_running(home_dir):
    done = run_hermes(home_dir, "stop")
    assert done.returncode == 0
    assert "not running" in done.stdout


def test_stop_with_a_session_in_flight_drains_it_and_marks_the_session(home_dir, reaper):
    started = start_detached(home_dir, "--drain-timeout", "20")
    client, session = hold_a_turn_in_flight(started["port"], 1500, text="long turn")
    replies: list[dict] = []
    reader = threading.Thread(target=lambda: replies.append(client.read()), daemon=True)
    reader.start()
    done = run_hermes(home_dir, "stop")
    reader.join(30)
    client.close()
    assert done.returncode == 0, done.stderr
    assert replies and replies[0]["ok"], replies
    marked = events(home_dir, "resume_pending_marked", run_id=started["run_id"])
    assert session in json.dumps(marked[-1].data)
    assert "drain_timeout" not in triggers(home_dir, started["run_id"])
    assert state(home_dir).state == "stopped"


def test_a_frozen_gateway_is_escalated_and_killed_within_timeout_and_grace(home_dir, reaper):
    started = start_detached(home_dir)
    os.kill(started["pid"], signal.SIGSTOP)
    done = run_hermes(home_dir, "stop", "--timeout", "2", "--json")
    assert done.returncode == 3, done.stderr
    result = json.loads(done.stdout)
    assert result["result"] == "forced" and result["state"] == "killed"
    history = events(home_dir, run_id=started["run_id"])
    steps = [e.data["step"] for e in history if e.trigger == "escalated"]
    assert steps == ["terminate_tree", "kill_tree"]
    request = next(e for e in history if e.trigger == "stop_requested")
    terminate = next(e for e in history if e.trigger == "escalated")
    # force only once the drain wait ran out: the budget (2 s) minus the grace (0.5 s)
    assert parse_at(terminate.at).timestamp() >= request.data["deadline"] - 0.5 - 0.05
    assert history[-1].trigger == "kill" and history[-1].data["steps"] == ["terminate_tree", "kill_tree"]
    assert state(home_dir).state == "killed"


def test_a_gateway_that_exits_on_its_own_with_an_error_shows_crashed_at_the_next_status(home_dir, reaper):
    started = start_detached(home_dir, "--app", "tests.apps:CrashAfterReady")
    wait_for(lambda: not _alive(started["pid"]), what="the gateway to die")
    done = run_hermes(home_dir, "status", "--json")
    assert json.loads(done.stdout)["state"] == "crashed"
    assert triggers(home_dir, started["run_id"])[-1] == "lost"


def test_force_skips_the_drain_wait(home_dir, reaper):
    started = start_detached(home_dir, "--drain-timeout", "60")
    client, _ = hold_a_turn_in_flight(started["port"], 60_000, text="very long turn")
    done = run_hermes(home_dir, "stop", "--force", timeout=30)
    client.close()
    assert done.returncode == 3, done.stderr
    assert state(home_dir).state == "killed"
    request = events(home_dir, "stop_requested", run_id=started["run_id"])[-1]
    escalation = events(home_dir, "escalated", run_id=started["run_id"])[0]
    assert request.seq < escalation.seq and escalation.reason == "forced (--force)"
    assert request.data["force"] is True


def test_force_is_on_the_record_even_when_the_gateway_drains_before_the_force_lands(home_dir, reaper):
    started = start_detached(home_dir)
    done = run_hermes(home_dir, "stop", "--force", timeout=30)
    assert done.returncode in (0, 3), done.stderr
    assert events(home_dir, "stop_requested", run_id=started["run_id"])[-1].data["force"] is True
    story = json.loads(run_hermes(home_dir, "forensics", "--last", "--json").stdout)
    assert story["stop_cause"]["force"] is True
    assert "stop --force" in story["verdict"] or story["ending"] == "killed", story["verdict"]


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_gateway_that_finishes_its_drain_just_before_the_request_is_stopped_not_an_error(journal, reaper,
                                                                                          monkeypatch):
    """Between our look (running) and our `stop_requested` the gateway ended its drain (a
    SIGTERM from elsewhere): the refused request means it stopped, exit 0, not a failure."""
    from hermes_lifecycle.controller import stop as stop_module
    from hermes_lifecycle.controller.countdown import Silent
    from hermes_lifecycle.identity import who
    from hermes_lifecycle.journal import Journal
    from hermes_lifecycle.platforms import platform_named
    from tests.lifecycle.controller.conftest import PLAIN, record_as_run, spawn_plain

    gateway = spawn_plain(PLAIN)
    reaper.append(gateway)
    run_id = record_as_run(journal, gateway.pid)
    real_drain_timeout = stop_module._run_drain_timeout

    def drained_meanwhile(*args):
        with Journal(journal.home) as own:  # the gateway's own connection
            own.fire("drain", actor=who("gateway"), run_id=run_id, pid=gateway.pid)
            own.fire("drained", actor=who("gateway"), run_id=run_id, pid=gateway.pid, data={"exit_code": 0})
        gateway.terminate()
        gateway.wait(30)
        return real_drain_timeout(*args)

    monkeypatch.setattr(stop_module, "_run_drain_timeout", drained_meanwhile)
    outcome = stop_gateway(journal, platform_named("linux"), timeout=10, countdown=Silent())
    assert (outcome.result, outcome.state, outcome.exit_code) == ("stopped", "stopped", 0)
    assert journal.events(triggers=("stop_requested",)) == []


def test_a_gateway_force_cannot_reach_is_a_failure_not_a_stop(journal, reaper, monkeypatch):
    """psutil may refuse a process (AccessDenied: another user's, an elevated one on Windows);
    it is still alive, so the stop failed (exit 1) rather than 'stopped' (exit 0)."""
    from hermes_lifecycle.controller.countdown import Silent
    from hermes_lifecycle.controller.target import Target
    from hermes_lifecycle.platforms import platform_named
    from tests.lifecycle.controller.conftest import STUBBORN, record_as_run, spawn_plain

    stubborn = spawn_plain(STUBBORN)
    reaper.append(stubborn)
    record_as_run(journal, stubborn.pid)
    monkeypatch.setattr(Target, "process", lambda self: None)  # what an AccessDenied amounts to
    outcome = stop_gateway(journal, platform_named("linux"), timeout=5, force=True, countdown=Silent())
    assert (outcome.result, outcome.exit_code, outcome.state) == ("failed", 1, "running")
    assert stubborn.poll() is None
