"""Forensics of real gateways: each kind of ending produced by real processes, signals and sockets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from lifecycle.home import Home
from lifecycle.journal import Journal
from tests.conftest import ROOT, hermes_env, run_hermes

DEADLINE = 60


@pytest.fixture(autouse=True)
def no_gateway_left_behind(home_dir):
    """A failed assertion must not leave a detached gateway running on the shared machine."""
    yield
    if (home_dir / "state.db").exists():
        run_hermes(home_dir, "stop", "--force", "--timeout", "10")


def wait_for(predicate, what: str, timeout: float = DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def configure(home_dir: Path, drain_timeout: float) -> None:
    home_dir.mkdir(parents=True, exist_ok=True)
    (home_dir / "config.json").write_text(json.dumps({"restart_drain_timeout": drain_timeout}))


def log(home_dir: Path):
    with Journal(Home.resolve(home_dir)) as journal:
        return journal.events()


def ready_event(home_dir: Path, run_count: int = 1):
    readies = lambda: [e for e in log(home_dir) if e.trigger == "ready"]  # noqa: E731
    return wait_for(lambda: len(readies()) >= run_count and readies()[-1], "the gateway to be ready")


def run_gateway(home_dir: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli.main", "gateway", "--home", str(home_dir), "run", *args],
                            cwd=ROOT, env=env or hermes_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def story(home_dir: Path, run_id: str | None = None) -> dict:
    args = ["--run", run_id] if run_id else ["--last"]
    out = run_hermes(home_dir, "forensics", *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


class Client:
    """One connection speaking the reference gateway's line protocol."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.file = self.sock.makefile("rw", encoding="utf-8")

    def send(self, **request) -> None:
        self.file.write(json.dumps(request) + "\n")
        self.file.flush()

    def receive(self) -> dict:
        return json.loads(self.file.readline())

    def ask(self, **request) -> dict:
        self.send(**request)
        return self.receive()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def hold_a_turn_in_flight(port: int, work_ms: int) -> tuple[Client, str]:
    """Open a session and start a turn that takes ``work_ms``; return once it has begun."""
    client = Client(port)
    session = client.ask(op="open")["session"]
    client.send(op="send", session=session, text="hello", work_ms=work_ms)
    observer = Client(port)
    wait_for(lambda: observer.ask(op="history", session=session)["messages"], "the turn to begin")
    observer.close()
    return client, session


def test_planned_stop_drains_marks_the_session_and_the_next_run_resumes_it(home_dir):
    configure(home_dir, 30)
    assert run_hermes(home_dir, "start").returncode == 0
    client, session = hold_a_turn_in_flight(ready_event(home_dir).data["port"], 1500)
    stopped = run_hermes(home_dir, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert client.receive()["ok"] is True
    client.close()
    first = story(home_dir)
    assert first["ending"] == "planned_stop" and first["verdict"].startswith("planned stop, drained in ")
    assert first["drain"]["duration_s"] > 0.1 and first["exit"]["code"] == 0
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
    gateway = run_gateway(home_dir)
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
    assert run_hermes(home_dir, "stop").returncode == 0
    client.close()
    doc = story(home_dir)
    assert doc["drain"]["timed_out"] and doc["drain"]["abandoned_count"] == 1
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
    assert doc["escalation"] and doc["escalation"][0]["pids"]
    assert doc["verdict"].startswith("killed after the 1.00 s drain timeout, the gateway never began to drain")


def test_a_sigkilled_gateway_is_told_as_a_crash_with_its_last_sign_of_life(home_dir):
    configure(home_dir, 30)
    gateway = run_gateway(home_dir)
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
    gateway = run_gateway(home_dir, "--app", "tests.slow_start_app:create",
                          env=hermes_env(HERMES_TEST_SLOW_START_S="3"))
    try:
        wait_for(lambda: any(e.trigger == "start" for e in log(home_dir)), "the run to begin")
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
    argv = ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m", "cli.main", "gateway",
            "--home", str(home_dir), "run"]
    outer = subprocess.Popen(argv, cwd=ROOT, env=hermes_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready = ready_event(home_dir)
        assert ready.pid == 1  # the gateway is the namespace's init, like a container's entrypoint
        init = wait_for(lambda: psutil.Process(outer.pid).children(), "the namespace's pid 1")[0]
        init.send_signal(signal.SIGTERM)
        assert outer.wait(timeout=DEADLINE) == 1, outer.stderr.read()
    finally:
        if outer.poll() is None:
            outer.kill()
    doc = story(home_dir)
    assert doc["ending"] == "unplanned_signal" and doc["stop_cause"]["signal"] == "SIGTERM"
    assert doc["drain"]["completed"]
