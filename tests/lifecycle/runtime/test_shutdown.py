"""The one shutdown path, on real gateway processes, sockets and state.db."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from hermes_lifecycle.identity import ProcessIdentity
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.runtime.shutdown import CLOSE_GRACE
from hermes_lifecycle.stop_request import request_stop
from tests.apps import ATEXIT_FILE
from tests.conftest import ROOT, hermes_env
from tests.gateways import Client, events, state, wait_for

DRAIN = "--drain-timeout"


def _identity(gateway) -> ProcessIdentity:
    start = gateway.run_event("start")
    return ProcessIdentity(start.pid, start.data["create_time"])


def _ask(gateway, intent: str) -> None:
    with Journal(gateway.home) as journal:
        request_stop(journal, _identity(gateway), intent, time.time() + 30, "controller")


def _hold_message_in_flight(port: int, work_ms: int) -> tuple[Client, str]:
    client = Client(port)
    session = client.call(op="open")["session"]
    client.submit(op="send", session=session, text="in flight", work_ms=work_ms)
    return client, session


def _wait_in_flight(gateway, session: str) -> None:
    """The user message is stored as the turn begins: then it is in flight."""
    def stored():
        with Journal(gateway.home) as journal:
            return journal.conn.execute("SELECT count(*) FROM lifecycle_messages WHERE session_id = ?",
                                        (session,)).fetchone()[0] >= 1
    wait_for(stored, what="message in flight")


def test_sigterm_marks_session_before_waiting_and_finishes_in_flight_message_exit_1(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "20")
    client, session = _hold_message_in_flight(gateway.wait_ready(), work_ms=1500)
    _wait_in_flight(gateway, session)

    gateway.proc.send_signal(signal.SIGTERM)

    assert client.read() == {"ok": True, "session": session, "reply": "echo: in flight", "seq": 2}
    assert gateway.wait_exit() == 1
    run = gateway.run_event("start").run_id
    triggers = [e.trigger for e in events(tmp_path, run_id=run)]
    assert triggers == ["start", "ready", "signal_received", "drain", "resume_pending_marked", "drained"]
    marked = events(tmp_path, "resume_pending_marked", run_id=run)[0]
    assert marked.data["sessions"] == [session]
    drain = events(tmp_path, "drain", run_id=run)[0].data
    assert [w["session"] for w in drain.pop("in_flight")] == [session]
    assert drain == {"cause": "signal", "signal": "SIGTERM"}
    assert state(tmp_path).state == "stopped"


def test_closing_the_terminal_sighup_drains_like_any_unplanned_signal(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "5")
    client = Client(gateway.wait_ready())
    session = client.call(op="open")["session"]
    gateway.proc.send_signal(signal.SIGHUP)
    assert gateway.wait_exit() == 1
    assert gateway.run_event("drain").data == {"cause": "signal", "signal": "SIGHUP"}
    assert gateway.run_event("resume_pending_marked").data["sessions"] == [session]
    client.close()


def test_stop_request_exits_0_and_next_boot_resumes_the_session_with_its_whole_history(tmp_path, gateways):
    first = gateways(tmp_path, DRAIN, "20")
    client, session = _hold_message_in_flight(first.wait_ready(), work_ms=800)
    _wait_in_flight(first, session)

    _ask(first, "stop")

    assert client.read()["reply"] == "echo: in flight"
    assert first.wait_exit() == 0
    drain = first.run_event("drain")
    assert drain.data["cause"] == "stop_request" and drain.data["intent"] == "stop"
    assert drain.data["requested_by"]["role"] == "controller"

    second = gateways(tmp_path, DRAIN, "20")
    port = second.wait_ready()
    resumed = second.run_event("session_resumed")
    assert resumed.data["session"] == session
    history = Client(port).call(op="history", session=session)["messages"]
    assert [(m["role"], m["text"]) for m in history] == [("user", "in flight"), ("assistant", "echo: in flight")]
    with Journal(second.home) as journal:
        assert journal.conn.execute("SELECT resume_pending FROM lifecycle_sessions WHERE id = ?",
                                    (session,)).fetchone()[0] == 0


def test_restart_request_exits_75_so_service_managers_revive_it(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "5")
    gateway.wait_ready()
    _ask(gateway, "restart")
    assert gateway.wait_exit() == 75
    assert gateway.run_event("drained").data["exit_code"] == 75


def test_signal_after_a_stop_request_is_a_planned_stop(tmp_path, gateways):
    """The controller writes the request, then signals: whichever arrives first, exit 0."""
    gateway = gateways(tmp_path, DRAIN, "5")
    gateway.wait_ready()
    _ask(gateway, "stop")
    gateway.proc.send_signal(signal.SIGTERM)
    assert gateway.wait_exit() == 0
    assert len(events(tmp_path, "drain")) == 1


def test_sigterm_before_the_loop_has_handlers_still_drains_the_run_already_starting(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tests.lifecycle.runtime.early_signal", str(tmp_path)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=hermes_env(), cwd=ROOT,
                          timeout=60)
    assert proc.returncode == 1, proc.stderr
    transitions = [e.trigger for e in events(tmp_path) if e.kind == "transition"]
    assert transitions == ["start", "drain", "drained"]
    assert events(tmp_path, "drain")[0].data == {"cause": "signal", "signal": "SIGTERM"}
    assert state(tmp_path).state == "stopped"


def test_work_longer_than_drain_timeout_is_abandoned_with_a_drain_timeout_event(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "1")
    client, session = _hold_message_in_flight(gateway.wait_ready(), work_ms=600_000)
    _wait_in_flight(gateway, session)

    began = time.monotonic()
    _ask(gateway, "stop")
    assert gateway.wait_exit(timeout=1 + 20) == 0
    assert time.monotonic() - began < 1 + 20  # generous: proves it did not wait for the work

    timeout = gateway.run_event("drain_timeout")
    assert timeout.data["timeout_s"] == 1.0
    assert [w["session"] for w in timeout.data["abandoned"]] == [session]
    assert gateway.run_event("drained") is not None
    client.close()


def test_a_failing_drain_hook_still_marks_the_sessions_and_records_drained(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "5", "--app", "tests.apps:DrainHookFails")
    client = Client(gateway.wait_ready())
    session = client.call(op="open")["session"]
    _ask(gateway, "stop")
    assert gateway.wait_exit() == 0
    assert gateway.run_event("resume_pending_marked").data["sessions"] == [session]
    drained = gateway.run_event("drained")
    assert drained.data["app_errors"] == ["stop_accepting: RuntimeError: adapter unsubscribe failed"]
    client.close()


def test_an_app_close_that_never_returns_is_abandoned_and_the_gateway_still_drains(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "5", "--app", "tests.apps:CloseHangs")
    gateway.wait_ready()
    _ask(gateway, "restart")
    assert gateway.wait_exit() == 75
    drained = gateway.run_event("drained")
    assert drained.data["app_errors"] == [f"close: still running after {CLOSE_GRACE:g} s, abandoned"]


def test_drained_gateway_with_a_stuck_non_daemon_thread_still_exits(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "5", "--app", "tests.apps:StuckThread")
    gateway.wait_ready()
    _ask(gateway, "stop")
    assert gateway.wait_exit() == 0
    forced = gateway.run_event("exit_forced")
    assert forced is not None, "the gateway exited without recording that exit was forced"
    assert "stuck-adapter" in forced.data["stuck_threads"]
    assert forced.data["exit_code"] == 0


def test_drained_gateway_with_nothing_holding_it_exits_at_once_without_teardown(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "5", "--app", "tests.apps:AtExitWitness")
    gateway.wait_ready()
    _ask(gateway, "stop")
    assert gateway.wait_exit() == 0
    assert gateway.run_event("drained").data["exit_code"] == 0
    assert gateway.run_event("exit_forced") is None
    assert not (gateway.home.root / ATEXIT_FILE).exists(), "the interpreter's teardown ran after drained"


def test_draining_gateway_refuses_new_work_but_answers_history(tmp_path, gateways):
    gateway = gateways(tmp_path, DRAIN, "20")
    port = gateway.wait_ready()
    client, session = _hold_message_in_flight(port, work_ms=1500)
    other = Client(port)
    _wait_in_flight(gateway, session)
    _ask(gateway, "stop")
    wait_for(lambda: gateway.run_event("drain"), what="drain")
    refused = other.call(op="send", session=session, text="too late")
    assert refused["ok"] is False and "draining" in refused["error"]
    assert other.call(op="history", session=session)["ok"] is True
    assert client.read()["ok"] is True
    assert gateway.wait_exit() == 0


def test_a_signal_after_the_drain_does_not_change_the_exit_code(tmp_path, gateways):
    """The controller signals right after its request; a drained gateway still exits 75, not by SIGTERM."""
    gateway = gateways(tmp_path, DRAIN, "5", "--app", "tests.apps:StuckThread")
    gateway.wait_ready()
    _ask(gateway, "restart")
    wait_for(lambda: gateway.run_event("drained"), what="drained")
    gateway.proc.send_signal(signal.SIGTERM)  # lands in the exit grace: the stuck thread holds the process
    assert gateway.wait_exit() == 75


def test_ctrl_c_on_a_foreground_run_says_what_the_drain_is_doing(tmp_path):
    import os
    import pty

    from tests.gateways import hermes_argv

    leader, follower = pty.openpty()
    gateway = subprocess.Popen(hermes_argv(tmp_path, "run", DRAIN, "20"), stdout=subprocess.PIPE,
                               stderr=follower, text=True, cwd=ROOT, env=hermes_env())
    try:
        assert "running on" in gateway.stdout.readline()
        port = int(state(tmp_path).port)
        client, session = _hold_message_in_flight(port, work_ms=1500)
        wait_for(lambda: _stored(tmp_path, session), what="message in flight")
        gateway.send_signal(signal.SIGINT)
        wait_for(lambda: events(tmp_path, "resume_pending_marked"), what="the drain to begin")
        gateway.send_signal(signal.SIGINT)  # a second Ctrl-C, as an impatient person does
        assert gateway.wait(30) == 1
        client.close()
        os.set_blocking(leader, False)  # silence must fail the test, not hang it
        try:
            said = os.read(leader, 65536).decode()
        except BlockingIOError:
            said = ""
    finally:
        gateway.kill()
        os.close(leader)
        os.close(follower)
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    assert lines[0] == ("gateway default: SIGINT: draining, no new work; waiting up to 20 s for 1 turn(s) "
                        "in flight; 1 session(s) marked for resume")
    assert any("already draining, this changes nothing" in line for line in lines)
    assert lines[-1] == "gateway default: drained, exit code 1"


def _stored(home_dir, session: str) -> bool:
    from hermes_lifecycle.home import Home

    with Journal(Home.resolve(home_dir)) as journal:
        return journal.conn.execute("SELECT count(*) FROM lifecycle_messages WHERE session_id = ?", (session,)).fetchone()[0] > 0
