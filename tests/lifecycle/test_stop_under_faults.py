"""Stop stops when the log cannot be written: a full disk, a database another process holds.

Real gateways, a real tmpfs filled to the last byte, a real second process holding
SQLite's write lock.  Each test checks the gateway is gone within the command's timeout,
the command's documented message, `status` saying the log is behind, and afterwards
every event that waited in the spool in the log, in order, with its original time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import is_alive
from hermes_lifecycle.journal import Journal
from tests.conftest import run_hermes, start_detached
from tests.faults import fill, small_disk  # noqa: F401 -- a fixture
from tests.gateways import DEADLINE, ROOT, events, hermes_env, wait_for


@pytest.fixture
def reap():
    """Pids to SIGKILL at the end if a failed assertion left them running."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if is_alive(pid, None):
            os.kill(pid, signal.SIGKILL)


def spooled(home_dir: Path) -> list[tuple[str, str]]:
    with Journal(Home.resolve(home_dir)) as journal:
        return [(e.trigger, e.at) for e in journal.pending()]


def assert_all_landed(home_dir: Path, run_id: str, waiting: list[tuple[str, str]], since_seq: int) -> None:
    """Every spooled event is in the log now, after ``since_seq``, in order, with its original time."""
    landed = [(e.trigger, e.at) for e in events(home_dir, run_id=run_id) if e.seq > since_seq]
    assert landed == waiting
    assert spooled(home_dir) == []


def last_seq(home_dir: Path) -> int:
    return max(e.seq for e in events(home_dir))


@pytest.mark.parametrize("how", [("stop", "--timeout", "20"), ("stop", "--force", "--timeout", "20"),
                                 ("restart", "--timeout", "20", "--start-timeout", "10")])
def test_a_full_disk_does_not_keep_the_gateway_running(small_disk: Path, how: tuple[str, ...], reap) -> None:
    home_dir = small_disk / "home"
    started = start_detached(home_dir)
    pid, run_id = started["pid"], started["run_id"]
    reap.append(pid)
    before = last_seq(home_dir)
    filler = fill(small_disk)

    began = time.monotonic()
    done = run_hermes(home_dir, *how)
    took = time.monotonic() - began

    assert not is_alive(pid, None), done.stdout + done.stderr
    assert took < 20 + 5, took
    assert "Traceback" not in done.stderr
    if how[0] == "stop":
        # --force: ended by the escalation (3), or drained on its terminate signal first (0)
        expected = {0: "stopped after a drain", 3: "ended by force"} if "--force" in how else \
            {0: "stopped after a drain"}
        assert done.returncode in expected, done.stdout + done.stderr
        assert f"gateway pid {pid} {expected[done.returncode]}" in done.stdout
    else:  # the stop half stopped it; the start half cannot start a gateway on a full disk
        assert f"gateway pid {pid} stopped after a drain" in done.stdout + done.stderr
    waiting = spooled(home_dir)
    assert [t for t, _ in waiting][:1] == ["stop_requested"] and "drained" in [t for t, _ in waiting]
    status = run_hermes(home_dir, "status", "--json")
    document = json.loads(status.stdout)
    assert document["state"] == "stopped"
    assert document["log_behind"]["why"] == "database or disk is full"
    assert document["log_behind"]["events"] >= len(waiting)

    filler.unlink()
    assert run_hermes(home_dir, "status").returncode == 0  # the next writer (here: an opener) lands them
    assert_all_landed(home_dir, run_id, waiting, before)


LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_a_database_locked_by_another_process_does_not_keep_the_gateway_running(home_dir: Path, reap) -> None:
    started = start_detached(home_dir)
    pid, run_id = started["pid"], started["run_id"]
    reap.append(pid)
    before = last_seq(home_dir)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(home_dir / "state.db")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=hermes_env(), cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        began = time.monotonic()
        done = run_hermes(home_dir, "stop", "--timeout", "10")
        took = time.monotonic() - began
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"gateway pid {pid} stopped after a drain" in done.stdout
        assert not is_alive(pid, None)
        assert took < 10, took
        waiting = spooled(home_dir)
        assert [t for t, _ in waiting][:1] == ["stop_requested"] and "drained" in [t for t, _ in waiting]
        document = json.loads(run_hermes(home_dir, "status", "--json").stdout)
        assert document["state"] == "stopped"
        assert document["log_behind"]["why"] == "database is locked"
    finally:
        holder.stdin.close()
        holder.wait(DEADLINE)
    wait_for(lambda: run_hermes(home_dir, "status").returncode == 0, what="status after the lock")
    assert_all_landed(home_dir, run_id, waiting, before)
    assert os.stat(home_dir / "state.db-spool").st_mode & 0o077 == 0
