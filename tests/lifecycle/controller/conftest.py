"""Helpers for the controller: plain processes recorded as runs, none of which outlives its test
(hand them to the ``reaper`` fixture of tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys

import psutil

from hermes_lifecycle.identity import who
from hermes_lifecycle.journal import Journal
from tests.conftest import ROOT, hermes_env

#: A process that ignores SIGTERM: only force ends it.
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(120)"
#: A process that SIGTERM ends at once.
PLAIN = "import time; print('up', flush=True); time.sleep(120)"


def spawn_plain(code: str, *extra_args: str) -> subprocess.Popen:
    """A real Python child that prints ``up`` once its signal setup is done."""
    proc = subprocess.Popen([sys.executable, "-c", code, *extra_args], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, cwd=ROOT, env=hermes_env())
    assert proc.stdout.readline().strip() == "up"
    return proc


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
