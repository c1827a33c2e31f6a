"""The unit's stop hooks (`stop --from-service-manager`) against real gateway processes, with
the environment systemd gives ExecStop= and ExecStopPost= (see systemd.exec(5))."""

from __future__ import annotations

import signal
import subprocess

from hermes_lifecycle.history.forensics import build_story
from hermes_lifecycle.history.verdict import ending, verdict
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from tests.gateways import DEADLINE, ROOT, events, hermes_argv, hermes_env, state, wait_for


def _gateway(home, invocation: str) -> subprocess.Popen:
    return subprocess.Popen(hermes_argv(home, "run", "--port", "0"), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                            env=hermes_env(INVOCATION_ID=invocation))


def _hook(home, **systemd_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(hermes_argv(home, "stop", "--from-service-manager"), capture_output=True, text=True,
                          cwd=ROOT, timeout=DEADLINE * 2, env=hermes_env(**systemd_env))


def _story(home):
    with Journal(Home.resolve(home)) as journal:
        return build_story(journal.conn, "default")


def test_exec_stop_is_a_planned_stop_with_the_service_manager_as_its_actor(tmp_path):
    proc = _gateway(tmp_path, "inv-1")
    try:
        wait_for(lambda: events(tmp_path, "ready"), what="ready")
        stop = _hook(tmp_path, MAINPID=str(proc.pid), SERVICE_RESULT="success", INVOCATION_ID="inv-1")
        assert stop.returncode == 0 and "drained and exited" in stop.stdout
        assert proc.wait(DEADLINE) == 0  # exit 0: systemd leaves the unit inactive, not failed
        post = _hook(tmp_path, SERVICE_RESULT="success", EXIT_CODE="exited", EXIT_STATUS="0", INVOCATION_ID="inv-1")
        assert post.returncode == 0
    finally:
        proc.kill()
        proc.wait(DEADLINE)
    [request] = events(tmp_path, "stop_requested")
    assert request.actor.startswith("service-manager ")
    assert request.data["requested_by"]["manager"] == "systemd"
    assert request.data["requested_by"]["service_result"] == "success"
    assert request.data["requested_by"]["invocation_id"] == "inv-1"
    story = _story(tmp_path)
    assert ending(story) == "planned_stop"
    assert verdict(story).startswith("planned stop by the service manager (systemd), drained in")
    assert story.exit()["code"] == 0 and story.exit()["observed"] and story.exit()["service_result"] == "success"


def test_exec_stop_post_after_a_watchdog_abort_names_the_watchdog(tmp_path):
    proc = _gateway(tmp_path, "inv-2")
    try:
        wait_for(lambda: events(tmp_path, "ready"), what="ready")
        proc.send_signal(signal.SIGABRT)  # what systemd sends when WATCHDOG=1 stops coming
        proc.wait(DEADLINE)
        for _ in range(2):  # ExecStop (main gone: no MAINPID) and ExecStopPost both record; once
            hook = _hook(tmp_path, SERVICE_RESULT="watchdog", EXIT_CODE="dumped", EXIT_STATUS="ABRT",
                         INVOCATION_ID="inv-2")
            assert hook.returncode == 0, hook.stderr
    finally:
        proc.kill()
        proc.wait(DEADLINE)
    assert len(events(tmp_path, "exited")) == 1
    assert state(tmp_path).state == "crashed"
    story = _story(tmp_path)
    assert story.exit()["signal"] == "SIGABRT" and story.exit()["service_result"] == "watchdog"
    assert verdict(story).startswith("watchdog: the loop stopped answering; systemd ended it "
                                     "(the process ended by SIGABRT while running)")
    # the loop's heartbeat (one pulse with the watchdog ping) says when it last ticked
    assert story.heartbeat() is not None and "; its last heartbeat was " in verdict(story)


def test_an_end_of_another_invocation_is_not_pinned_on_this_run(tmp_path):
    proc = _gateway(tmp_path, "inv-3")
    try:
        wait_for(lambda: events(tmp_path, "ready"), what="ready")
        hook = _hook(tmp_path, SERVICE_RESULT="exit-code", EXIT_CODE="exited", EXIT_STATUS="1",
                     INVOCATION_ID="someone-else")
        assert hook.returncode == 0 and "no run of invocation someone-else" in hook.stdout
        assert events(tmp_path, "exited") == [] and state(tmp_path).state == "running"
    finally:
        proc.kill()
        proc.wait(DEADLINE)


def test_a_sigterm_from_anyone_else_stays_unplanned(tmp_path):
    proc = _gateway(tmp_path, "inv-4")
    try:
        wait_for(lambda: events(tmp_path, "ready"), what="ready")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(DEADLINE) == 1  # Restart=on-failure revives it
    finally:
        proc.kill()
        proc.wait(DEADLINE)
    assert ending(_story(tmp_path)) == "unplanned_signal"
