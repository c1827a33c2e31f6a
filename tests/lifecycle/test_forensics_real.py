"""Forensics of real gateways: each kind of ending produced by real processes, signals and sockets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import psutil
import pytest

from tests.apps import SLOW_START_ENV
from tests.conftest import ROOT, hermes_env, run_hermes
from tests.gateways import events, hermes_argv, hold_a_turn_in_flight, spawn_gateway, wait_for

DEADLINE = 60


@pytest.fixture(autouse=True)
def no_gateway_left_behind(home_dir):
    """A failed assertion must not leave a detached gateway running on the shared machine."""
    yield
    if (home_dir / "state.db").exists():
        run_hermes(home_dir, "stop", "--force", "--timeout", "10")


def configure(home_dir: Path, drain_timeout: float) -> None:
    home_dir.mkdir(parents=True, exist_ok=True)
    (home_dir / "config.json").write_text(json.dumps({"restart_drain_timeout": drain_timeout}))


def ready_event(home_dir: Path, run_count: int = 1):
    readies = lambda: events(home_dir, "ready")  # noqa: E731
    return wait_for(lambda: len(readies()) >= run_count and readies()[-1], DEADLINE, "the gateway to be ready")


def story(home_dir: Path, run_id: str | None = None) -> dict:
    args = ["--run", run_id] if run_id else ["--last"]
    out = run_hermes(home_dir, "forensics", *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_planned_stop_drains_marks_the_session_and_the_next_run_resumes_it(home_dir):
    configure(home_dir, 30)
    assert run_hermes(home_dir, "start").returncode == 0
    client, session = hold_a_turn_in_flight(ready_event(home_dir).data["port"], 1500)
    stopped = run_hermes(home_dir, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert client.read()["ok"] is True
    client.close()
    first = story(home_dir)
    assert first["ending"] == "planned_stop" and first["verdict"].startswith("planned stop, drained in ")
    assert first["drain"]["duration_s"] > 0.1 and first["exit"]["code"] == 0
    assert first["drain"]["in_flight_count"] == 1 and first["drain"]["in_flight"][0]["session"] == session
    assert first["stop_cause"]["requested_by"]["pid"] != first["pid"]
    assert first["resume"]["sessions"] == [{"session_id": session, "outcome": "waiting",
                                            "next_run_id": None, "at": None}]
    assert run_hermes(home_dir, "start").returncode == 0
    second = story(home_dir)
    assert second["resume"]["resumed_at_boot"] == [session]
    resumed = story(home_dir, first["run_id"])["resume"]["sessions"][0]
    assert (resumed["outcome"], resumed["next_run_id"]) == ("resumed", second["run_id"])
    assert run_hermes(home_dir, "stop").returncode == 0


def test_an_unplanned_sigterm_is_named_as_the_cause(home_dir):
    configure(home_dir, 30)
    gateway = spawn_gateway(home_dir)
    try:
        ready_event(home_dir)
        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(timeout=DEADLINE) == 1
    finally:
        gateway.kill()
    doc = story(home_dir)
    assert doc["ending"] == "unplanned_signal" and doc["stop_cause"]["kind"] == "signal"
    assert doc["verdict"].startswith("unplanned stop by SIGTERM, drained in ")
    assert doc["exit"]["code"] == 1


def test_a_drain_timeout_says_what_was_abandoned(home_dir):
    configure(home_dir, 1)
    assert run_hermes(home_dir, "start").returncode == 0
    client, _ = hold_a_turn_in_flight(ready_event(home_dir).data["port"], 60_000)
    assert run_hermes(home_dir, "stop").returncode == 4  # stopped, but the drain ran out: its own code
    client.close()
    doc = story(home_dir)
    assert doc["drain"]["timed_out"] and doc["drain"]["abandoned_count"] == 1
    assert doc["drain"]["in_flight_count"] == 1
    assert doc["verdict"] == "planned stop, the drain timed out after 1.00 s, 1 request abandoned"


def test_a_frozen_gateway_is_killed_and_each_escalation_step_is_told(home_dir):
    configure(home_dir, 1)
    assert run_hermes(home_dir, "start").returncode == 0
    pid = ready_event(home_dir).pid
    os.kill(pid, signal.SIGSTOP)
    try:
        stopped = run_hermes(home_dir, "stop")
    finally:
        if psutil.pid_exists(pid):
            os.kill(pid, signal.SIGCONT)
    assert stopped.returncode == 3, stopped.stderr
    doc = story(home_dir)
    assert doc["ending"] == "killed" and doc["state"] == "killed"
    assert doc["escalation"] and doc["escalation"][0]["pids"] == [pid]
    assert [s["signal"] for s in doc["escalation"]] == ["SIGTERM", "SIGKILL"]
    assert doc["verdict"].startswith("killed after the 1.00 s drain timeout, the gateway never began to drain")


def test_a_stop_shorter_than_the_drain_timeout_is_told_as_killed_mid_drain(home_dir):
    configure(home_dir, 30)
    assert run_hermes(home_dir, "start").returncode == 0
    client, _ = hold_a_turn_in_flight(ready_event(home_dir).data["port"], 60_000)
    assert run_hermes(home_dir, "stop", "--timeout", "2").returncode == 3
    client.close()
    doc = story(home_dir)
    assert doc["ending"] == "killed" and doc["drain"]["in_flight_count"] == 1
    assert "before the 30 s drain timeout ran out, 1 request in flight as the drain began" in doc["verdict"]
    assert doc["verdict"].endswith("(SIGTERM, then SIGKILL)") or doc["verdict"].endswith("(SIGTERM)")


def test_a_sigkilled_gateway_is_told_as_a_crash_with_its_last_sign_of_life(home_dir):
    configure(home_dir, 30)
    gateway = spawn_gateway(home_dir)
    try:
        ready_event(home_dir)
    finally:
        gateway.kill()
    gateway.wait(timeout=DEADLINE)
    status = run_hermes(home_dir, "status")
    assert "warning: run " in status.stdout and "ended with no shutdown at all" in status.stdout
    doc = story(home_dir)
    assert doc["ending"] == "crashed" and doc["stop_cause"]["kind"] == "none"
    assert doc["last_sign_of_life"]["trigger"] == "ready"
    assert doc["verdict"].startswith("crashed: the process vanished while running, no shutdown recorded, "
                                     "last sign of life ")


def test_a_stop_during_start_is_honoured_and_told(home_dir):
    configure(home_dir, 5)
    gateway = spawn_gateway(home_dir, "--app", "tests.apps:SlowStart", env=hermes_env(**{SLOW_START_ENV: "3"}))
    try:
        wait_for(lambda: events(home_dir, "start"), DEADLINE, "the run to begin")
        stopped = run_hermes(home_dir, "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert gateway.wait(timeout=DEADLINE) == 0
    finally:
        gateway.kill()
    doc = story(home_dir)
    assert doc["ending"] == "planned_stop" and doc["stop_cause"]["during_start"]
    assert "asked while starting" in doc["verdict"]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="a new PID namespace needs root and unshare(1)")
def test_sigterm_to_the_gateway_as_pid_1_of_a_container_drains_it(home_dir):
    configure(home_dir, 30)
    argv = ["unshare", "--pid", "--fork", "--mount-proc", *hermes_argv(home_dir, "run")]
    outer = subprocess.Popen(argv, cwd=ROOT, env=hermes_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready = ready_event(home_dir)
        assert ready.pid == 1  # the gateway is the namespace's init, like a container's entrypoint
        init = wait_for(lambda: psutil.Process(outer.pid).children(), DEADLINE, "the namespace's pid 1")[0]
        init.send_signal(signal.SIGTERM)
        assert outer.wait(timeout=DEADLINE) == 1, outer.stderr.read()
    finally:
        if outer.poll() is None:
            outer.kill()
    doc = story(home_dir)
    assert doc["ending"] == "unplanned_signal" and doc["stop_cause"]["signal"] == "SIGTERM"
    assert doc["drain"]["completed"]
