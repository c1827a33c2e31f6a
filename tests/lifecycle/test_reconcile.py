"""Reconciliation: a recorded process that vanished (or whose pid was reused) becomes `lost`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.reconcile import reconcile
from tests.conftest import run_hermes
from tests.processes import TIMEOUT, race

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def _record_running(home: Home, pid: int, create_time: float) -> None:
    with Journal(home) as journal:
        journal.fire("start", actor="test", run_id="r-1", pid=pid, data={"create_time": create_time})
        journal.fire("ready", actor="test", data={"port": 43127})


def _status_json(home_dir: Path) -> dict:
    result = run_hermes(home_dir, "status", "--json")
    assert result.returncode in (0, 1), result.stderr  # running or crashed
    return json.loads(result.stdout)


def _lost_events(home: Home) -> list:
    with Journal(home) as journal:
        return journal.events(triggers=("lost",))


def test_a_killed_gateway_shows_as_crashed_with_a_lost_event(home: Home, home_dir: Path):
    child = subprocess.Popen(SLEEPER)
    try:
        _record_running(home, child.pid, psutil.Process(child.pid).create_time())
        assert _status_json(home_dir)["state"] == "running"
        child.send_signal(signal.SIGKILL)
        child.wait(TIMEOUT)
        shown = _status_json(home_dir)
    finally:
        child.kill()
        child.wait(TIMEOUT)
    assert shown["state"] == "crashed" and shown["pid"] is None and shown["port"] is None
    assert shown["run_id"] == "r-1"
    [lost] = _lost_events(home)
    assert (lost.from_state, lost.to_state, lost.run_id) == ("running", "crashed", "r-1")
    assert lost.data["pid"] == child.pid and lost.data["last_state"] == "running"
    assert str(child.pid) in lost.reason


def test_a_live_pid_with_another_create_time_counts_as_gone(home: Home, home_dir: Path):
    child = subprocess.Popen(SLEEPER)
    try:
        real = psutil.Process(child.pid).create_time()
        _record_running(home, child.pid, real - 3600)  # the pid now belongs to someone else
        shown = _status_json(home_dir)
        assert child.poll() is None, "reconciliation must never touch the live process"
    finally:
        child.kill()
        child.wait(TIMEOUT)
    assert shown["state"] == "crashed"
    assert len(_lost_events(home)) == 1


def _reconcile_once(home_root: str, *, gate) -> tuple[str, int]:
    with Journal(Home.resolve(home_root)) as journal:
        journal.state()
        gate.wait(TIMEOUT)
        after = reconcile(journal)
    return after.state, after.version


def test_concurrent_reconcilers_append_lost_once(home: Home):
    child = subprocess.Popen(SLEEPER)
    create_time = psutil.Process(child.pid).create_time()
    child.kill()
    child.wait(TIMEOUT)
    _record_running(home, child.pid, create_time)
    outcomes = race(_reconcile_once, [(str(home.root),)] * 4)
    assert outcomes == [("crashed", 3)] * 4
    assert len(_lost_events(home)) == 1
