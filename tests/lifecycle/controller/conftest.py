"""Fixtures for the controller: detached gateways and plain processes recorded as runs,
none of which outlives its test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from lifecycle.controller.discovery import find_gateway_processes
from lifecycle.home import Home
from lifecycle.identity import who
from lifecycle.journal import Journal
from tests.conftest import ROOT, hermes_env, run_hermes

DEADLINE = 30.0

#: A process that ignores SIGTERM: only force ends it.
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(120)"
#: A process that SIGTERM ends at once.
PLAIN = "import time; print('up', flush=True); time.sleep(120)"


def start_detached(home_dir: Path, *run_args: str, profile: str | None = None) -> dict:
    """``hermes gateway start`` for real; returns its JSON document (asserting it started)."""
    extra = ["--", *run_args] if run_args else []
    done = run_hermes(home_dir, "start", "--json", *extra, profile=profile)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["result"] in ("started", "already_running"), document
    return document


@pytest.fixture
def reaper(home_dir: Path):
    """Kills, at teardown, every gateway of the test's home and every process handed to it."""
    extra: list[psutil.Process | subprocess.Popen] = []
    yield extra
    for profile in ("default", "other"):
        for found in find_gateway_processes(Home.resolve(home_dir, profile)):
            try:
                psutil.Process(found.pid).kill()
            except psutil.Error:
                pass
    for proc in extra:
        try:
            proc.kill()
            if isinstance(proc, subprocess.Popen):
                proc.wait(DEADLINE)
        except (psutil.Error, ProcessLookupError, OSError):
            pass


def spawn_plain(code: str, *extra_args: str) -> subprocess.Popen:
    """A real Python child that prints ``up`` once its signal setup is done."""
    proc = subprocess.Popen([sys.executable, "-c", code, *extra_args], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, cwd=ROOT, env=hermes_env())
    assert proc.stdout.readline().strip() == "up"
    return proc


def turn_in_flight(home_dir: Path) -> bool:
    """The reference gateway has a turn: its user message is stored (the reply comes after the work)."""
    import sqlite3

    with sqlite3.connect(home_dir / "state.db") as conn:
        return conn.execute("SELECT count(*) FROM messages").fetchone()[0] >= 1


def record_as_run(journal: Journal, pid: int, *, create_time: float | None = None,
                  cmdline: list[str] | None = None, ready: bool = True) -> str:
    """Record ``pid`` as the profile's running gateway, as `run` would have."""
    proc = psutil.Process(pid)
    run_id = f"r-test-{pid}"
    journal.fire("start", actor=who("gateway"), run_id=run_id, pid=pid,
                 data={"create_time": proc.create_time() if create_time is None else create_time,
                       "cmdline": proc.cmdline() if cmdline is None else cmdline})
    if ready:
        journal.fire("ready", actor=who("gateway"), run_id=run_id, pid=pid, data={"port": 1})
    return run_id
