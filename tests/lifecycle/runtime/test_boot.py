"""Boot: one gateway per profile, --replace hand-over, start/ready/start_failed, resume, parking."""

from __future__ import annotations

import json
import os
import time

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import ProcessIdentity
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.runtime.boot import take_restart_id
from hermes_lifecycle.runtime.sessions import PARK_AFTER_INTERRUPTIONS
from hermes_lifecycle.stop_request import RESTART_ID_ENV, request_stop
from tests.apps import POISON, RELEASE_FILE
from tests.conftest import run_hermes
from tests.gateways import Client, events, state, wait_for


def _identity(gateway) -> ProcessIdentity:
    start = wait_for(lambda: gateway.run_event("start"), what="start")
    return ProcessIdentity(start.pid, start.data["create_time"])


def _ask(gateway, intent: str = "stop") -> None:
    with Journal(gateway.home) as journal:
        request_stop(journal, _identity(gateway), intent, time.time() + 30, "controller")


def test_boot_records_start_with_identity_then_ready_with_the_bound_port(tmp_path, gateways):
    gateway = gateways(tmp_path, "--port", "0")
    port = gateway.wait_ready()
    start = gateway.run_event("start")
    assert start.run_id.startswith("r-") and start.pid == gateway.pid
    assert {"create_time", "cmdline", "app"} <= set(start.data)
    assert start.data["drain_timeout"] == 30.0  # the default, recorded for the controller
    assert start.data["app"] == "hermes_lifecycle.runtime.reference:create"
    assert port > 0 and Client(port).call(op="open")["ok"] is True
    status = json.loads(run_hermes(tmp_path, "status", "--json").stdout)
    assert (status["state"], status["port"], status["pid"]) == ("running", port, gateway.pid)


def test_second_run_is_refused_naming_the_running_pid(tmp_path, gateways):
    first = gateways(tmp_path)
    first.wait_ready()
    second = run_hermes(tmp_path, "run", timeout=60)
    assert second.returncode == 1
    assert f"pid {first.pid}" in second.stderr and "--replace" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert state(tmp_path).pid == first.pid


def test_other_profiles_run_side_by_side(tmp_path, gateways):
    default, other = gateways(tmp_path), gateways(tmp_path, profile="other")
    assert default.wait_ready() != other.wait_ready()


def test_replace_hands_over_with_the_old_run_drained_not_killed(tmp_path, gateways):
    old = gateways(tmp_path, "--drain-timeout", "10")
    neighbour = gateways(tmp_path, profile="neighbour")
    client = Client(old.wait_ready())
    neighbour.wait_ready()
    session = client.call(op="open")["session"]
    new = gateways(tmp_path, "--replace", "--drain-timeout", "10")
    new.wait_ready()
    assert old.wait_exit() == 0
    assert neighbour.proc.poll() is None and state(tmp_path, "neighbour").state == "running"
    assert events(tmp_path, "stop_requested", profile="neighbour") == []
    old_run = old.run_event("start").run_id
    triggers = [e.trigger for e in events(tmp_path, run_id=old_run)]
    assert "kill" not in triggers and triggers[-1] == "drained"
    request = events(tmp_path, "stop_requested", run_id=old_run)[0]
    assert request.data["target"]["pid"] == old.pid and request.data["requested_by"]["role"] == "gateway"
    assert events(tmp_path, "resume_pending_marked", run_id=old_run)[0].data["sessions"] == [session]
    assert new.run_event("session_resumed").data["session"] == session


def test_stop_request_during_start_is_honoured_once_it_can_drain(tmp_path, gateways):
    gateway = gateways(tmp_path, "--app", "tests.apps:HeldAtStart")
    wait_for(lambda: gateway.run_event("start"), what="start")
    _ask(gateway)
    (tmp_path / RELEASE_FILE).touch()
    assert gateway.wait_exit() == 0
    run = gateway.run_event("start").run_id
    assert events(tmp_path, "stop_requested", run_id=run)[0].from_state == "starting"
    drain = events(tmp_path, "drain", run_id=run)[0]
    assert drain.data["cause"] == "stop_request" and drain.data["intent"] == "stop"
    # Drained from `starting` when the watcher saw it before boot ended, else right after `ready`:
    # either way the request made in `starting` was not lost.
    transitions = [e.trigger for e in events(tmp_path, run_id=run) if e.kind == "transition"]
    assert transitions in (["start", "drain", "drained"], ["start", "ready", "drain", "drained"])


def test_bad_config_is_fatal_exit_78_with_one_line_and_start_failed(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "config.json").write_text('{"restart_drain_timeout": "soon"}')
    result = run_hermes(tmp_path, "run")
    assert result.returncode == 78
    assert result.stderr.count("\n") == 1 and "restart_drain_timeout" in result.stderr
    failed = events(tmp_path, "start_failed")[0]
    assert failed.data["exit_code"] == 78 and state(tmp_path).state == "stopped"


def test_app_that_is_not_a_gateway_app_is_a_configuration_error(tmp_path):
    result = run_hermes(tmp_path, "run", "--app", "tests.apps:not_an_app")
    assert result.returncode == 78 and "GatewayApp" in result.stderr
    assert events(tmp_path, "start_failed")[0].data["type"] == "ConfigError"


@pytest.mark.parametrize("spec, says", [(".relative:create", "relative import"),
                                         ("tests.apps:needs_an_argument", "needs_an_argument() failed")])
def test_app_that_cannot_be_imported_or_built_is_one_line_and_exit_78(tmp_path, spec, says):
    result = run_hermes(tmp_path, "run", "--app", spec)
    assert (result.returncode, result.stderr.count("\n")) == (78, 1), result.stderr
    assert says in result.stderr
    assert events(tmp_path, "start_failed")[0].data["exit_code"] == 78 and state(tmp_path).state == "stopped"


def test_app_whose_start_raises_anything_records_start_failed_with_one_line_exit_1(tmp_path):
    result = run_hermes(tmp_path, "run", "--app", "tests.apps:FailsToStart")
    assert (result.returncode, result.stderr.count("\n")) == (1, 1), result.stderr
    assert "ValueError: adapter token rejected" in result.stderr
    failed = events(tmp_path, "start_failed")[0]
    assert failed.data["type"] == "ValueError" and state(tmp_path).state == "stopped"


def test_port_in_use_fails_the_start_with_the_error_recorded(tmp_path, gateways):
    first = gateways(tmp_path)
    port = first.wait_ready()
    result = run_hermes(tmp_path, "run", "--port", str(port), profile="other")
    assert result.returncode == 1
    failed = events(tmp_path, "start_failed", profile="other")[0]
    assert "address" in failed.reason.lower() or "in use" in failed.reason.lower()


def test_session_interrupted_on_three_boots_in_a_row_is_parked_on_the_fourth(tmp_path, gateways):
    """A poison pill: its turn is in flight at every drain and never completes."""
    session = None
    for boot in range(PARK_AFTER_INTERRUPTIONS):
        gateway = gateways(tmp_path, "--drain-timeout", "0.3")
        client = Client(gateway.wait_ready())
        reply = client.call(op="open") if session is None else client.call(op="open", session=session)
        session = reply["session"]
        client.submit(op="send", session=session, text="never finishes", work_ms=60_000)
        wait_for(lambda: gateway_in_flight(tmp_path, session), what="the turn in flight")
        _ask(gateway)
        assert gateway.wait_exit() == 0
        client.close()
        assert gateway.run_event("resume_pending_marked").data["interrupted"] == [session]
        if boot:
            assert gateway.run_event("session_resumed").data["session"] == session

    fourth = gateways(tmp_path, "--drain-timeout", "5")
    fourth.wait_ready()
    assert fourth.run_event("session_resumed") is None
    abandoned = fourth.run_event("resume_abandoned")
    assert abandoned.data["session"] == session
    assert len(abandoned.data["runs"]) == PARK_AFTER_INTERRUPTIONS
    listed = json.loads(run_hermes(tmp_path, "sessions", "--json").stdout)["sessions"]
    assert [(s["id"], s["parked"], s["resume_pending"]) for s in listed] == [(session, True, False)]


def test_a_session_the_app_cannot_resume_is_parked_and_the_others_still_resume(tmp_path, gateways):
    first = gateways(tmp_path, "--drain-timeout", "5")
    port = first.wait_ready()
    good_client, bad_client = Client(port), Client(port)
    good = good_client.call(op="open")["session"]
    bad = bad_client.call(op="open")["session"]
    assert bad_client.call(op="send", session=bad, text=POISON)["ok"] is True
    _ask(first)
    assert first.wait_exit() == 0

    second = gateways(tmp_path, "--drain-timeout", "5", "--app", "tests.apps:PoisonOnResume")
    second.wait_ready()
    assert second.run_event("session_resumed").data["session"] == good
    abandoned = second.run_event("resume_abandoned")
    assert abandoned.data["session"] == bad and abandoned.data["error"] == f"RuntimeError: cannot rebuild {bad}"
    listed = {s["id"]: s for s in json.loads(run_hermes(tmp_path, "sessions", "--json").stdout)["sessions"]}
    assert (listed[good]["resume_pending"], listed[good]["parked"]) == (False, False)
    assert (listed[bad]["resume_pending"], listed[bad]["parked"]) == (False, True)
    good_client.close()
    bad_client.close()


def test_a_completed_turn_resets_the_interruption_count(tmp_path, gateways):
    session = None
    for _ in range(PARK_AFTER_INTERRUPTIONS + 1):
        gateway = gateways(tmp_path, "--drain-timeout", "5")
        client = Client(gateway.wait_ready())
        session = client.call(op="open", **({"session": session} if session else {}))["session"]
        assert client.call(op="send", session=session, text="done")["ok"] is True
        _ask(gateway)
        assert gateway.wait_exit() == 0
        client.close()
    assert events(tmp_path, "resume_abandoned") == []
    assert len(events(tmp_path, "session_resumed")) == PARK_AFTER_INTERRUPTIONS


def test_reopening_a_parked_session_unparks_it(tmp_path, gateways):
    gateway = gateways(tmp_path, "--drain-timeout", "5")
    port = gateway.wait_ready()
    session = Client(port).call(op="open")["session"]
    with Journal(gateway.home) as journal:
        journal.conn.execute("UPDATE lifecycle_sessions SET parked = 1, parked_at = 'then', interruptions = 3 WHERE id = ?",
                             (session,))
    assert Client(port).call(op="open", session=session)["ok"] is True
    listed = json.loads(run_hermes(tmp_path, "sessions", "--json").stdout)["sessions"]
    assert (listed[0]["parked"], listed[0]["interruptions"]) == (False, 0)


def test_the_restart_id_is_taken_from_the_environment_once_so_children_cannot_claim_it(monkeypatch):
    monkeypatch.setenv(RESTART_ID_ENV, "rs-1")
    assert take_restart_id() == "rs-1"
    assert RESTART_ID_ENV not in os.environ and take_restart_id() is None


def gateway_in_flight(home_dir, session: str) -> bool:
    """The user message is stored as the turn begins: from then on it is in flight."""
    with Journal(Home.resolve(home_dir)) as journal:
        return journal.conn.execute("SELECT count(*) FROM lifecycle_messages WHERE session_id = ?", (session,)).fetchone()[0] > 0


def test_a_session_with_no_turn_in_flight_is_resumed_at_every_boot_and_never_parked(tmp_path, gateways):
    """Its turn finished and its client went away: marked for resume (it was active), but not
    interrupted: it is resumed boot after boot, never parked as a poison pill."""
    first = gateways(tmp_path, "--drain-timeout", "5")
    client = Client(first.wait_ready())
    session = client.call(op="open")["session"]
    assert client.call(op="send", session=session, text="done")["ok"] is True
    _ask(first)
    assert first.wait_exit() == 0
    client.close()
    for _ in range(PARK_AFTER_INTERRUPTIONS + 1):  # resumed, no client comes back, stopped again
        gateway = gateways(tmp_path, "--drain-timeout", "5")
        gateway.wait_ready()
        assert gateway.run_event("session_resumed").data["session"] == session
        _ask(gateway)
        assert gateway.wait_exit() == 0
        assert gateway.run_event("resume_pending_marked").data["interrupted"] == []
    assert events(tmp_path, "resume_abandoned") == []
    listed = json.loads(run_hermes(tmp_path, "sessions", "--json").stdout)["sessions"]
    assert [(s["id"], s["parked"], s["interruptions"]) for s in listed] == [(session, False, 0)]
