"""Stop stops when the log cannot be written: a full disk, a database another process holds.

Real gateways, a real tmpfs filled to the last byte, a real second process holding
SQLite's write lock.  Each test checks the gateway is gone within the command's timeout,
the command's documented message, `status` saying the log is behind, and afterwards
every event that waited in the spool in the log, in order, with its original time.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import ProcessIdentity, is_alive
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.stop_request import request_stop
from hermes_lifecycle.store import read_events
from tests.conftest import hermes_argv, run_hermes, start_detached
from tests.faults import fill, small_disk  # noqa: F401 -- a fixture
from tests.gateways import DEADLINE, ROOT, Client, events, hermes_env, wait_for


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
    client = Client(started["port"])
    session = client.call(op="open")["session"]  # held open across the stop: the drain marks it
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
    from tests.cli.test_json_schemas import valid

    valid("status", document)  # log_behind as the shipped schema says (exit 3: stopped)

    client.close()
    filler.unlink()
    assert run_hermes(home_dir, "status").returncode == 3  # stopped (LSB 3); the next writer (here: an opener) lands them
    assert_all_landed(home_dir, run_id, waiting, before)
    marked = json.loads(run_hermes(home_dir, "sessions", "--json").stdout)
    assert [s["id"] for s in marked["sessions"] if s["resume_pending"]] == [session]  # its rows landed too


LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@contextmanager
def database_locked(home_dir: Path):
    """Another process holds state.db's write lock (BEGIN EXCLUSIVE) until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(home_dir / "state.db")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=hermes_env(), cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.close()
        holder.wait(DEADLINE)


@pytest.mark.parametrize("how", [("stop", "--timeout", "10"), ("stop", "--force", "--timeout", "10"),
                                 ("restart", "--timeout", "10", "--start-timeout", "5")])
def test_a_database_locked_by_another_process_does_not_keep_the_gateway_running(home_dir: Path, reap,
                                                                                how: tuple[str, ...]) -> None:
    started = start_detached(home_dir)
    pid, run_id = started["pid"], started["run_id"]
    reap.append(pid)
    before = last_seq(home_dir)
    with database_locked(home_dir):
        began = time.monotonic()
        done = run_hermes(home_dir, *how)
        took = time.monotonic() - began
        assert not is_alive(pid, None), done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        if how[0] == "stop":
            assert took < 10, took
            expected = {0: "stopped after a drain", 3: "ended by force"} if "--force" in how else \
                {0: "stopped after a drain"}
            assert done.returncode in expected, done.stdout + done.stderr
            assert f"gateway pid {pid} {expected[done.returncode]}" in done.stdout
        else:  # the stop half within its 10 s; the start half cannot record a start while the lock is held
            assert f"gateway pid {pid} stopped after a drain" in done.stdout + done.stderr
        waiting = spooled(home_dir)
        assert [t for t, _ in waiting][:1] == ["stop_requested"] and "drained" in [t for t, _ in waiting]
        document = json.loads(run_hermes(home_dir, "status", "--json").stdout)
        assert document["state"] == "stopped"
        assert document["log_behind"]["why"] in ("database is locked", "another writer held the write lock")
    # status reads again: stopped (3), or running (0) where a restart's new gateway got its start in
    wait_for(lambda: run_hermes(home_dir, "status").returncode in (0, 3), what="status after the lock")
    landed = [(e.trigger, e.at) for e in events(home_dir, run_id=run_id) if e.seq > before]
    assert landed == waiting
    assert os.stat(home_dir / "state.db-spool").st_mode & 0o077 == 0
    # a restart's new gateway may have got its `start` in once the lock was gone: stop it
    assert run_hermes(home_dir, "stop").returncode == 0


def _identity(home_dir: Path) -> ProcessIdentity:
    with Journal(Home.resolve(home_dir)) as journal:
        current = journal.state()
    return ProcessIdentity(current.pid, current.create_time)


def test_a_spooled_stop_request_reaches_the_gateway_without_any_signal(home_dir: Path, reap) -> None:
    """Windows has no SIGTERM for the loop: the watcher must see a request kept in the spool."""
    started = start_detached(home_dir)
    reap.append(started["pid"])
    target = _identity(home_dir)
    with database_locked(home_dir):
        with Journal(Home.resolve(home_dir)) as journal:
            request = request_stop(journal, target, "stop", time.time() + 30, "controller")
        assert request.seq == 0  # kept in the spool: nothing was signalled
        wait_for(lambda: not is_alive(started["pid"], None), what="the gateway to drain on the spooled request")
    wait_for(lambda: run_hermes(home_dir, "status").returncode == 3, what="status after the lock (stopped: 3)")
    drains = events(home_dir, "drain", run_id=started["run_id"])
    assert [d.data["cause"] for d in drains] == ["stop_request"]


def test_a_running_gateway_lands_the_spool_itself_once_the_lock_is_gone(home_dir: Path, reap) -> None:
    started = start_detached(home_dir)
    reap.append(started["pid"])
    someone_else = ProcessIdentity(started["pid"] + 1_000_000, 1.0)
    with database_locked(home_dir):
        with Journal(Home.resolve(home_dir)) as journal:
            assert request_stop(journal, someone_else, "stop", time.time() + 30, "controller").seq == 0

    def landed() -> bool:  # read without Journal, which would land the spool itself on opening
        conn = sqlite3.connect(f"file:{home_dir / 'state.db'}?mode=ro", uri=True)
        try:
            return bool(read_events(conn, triggers=("stop_requested",)))
        finally:
            conn.close()

    wait_for(landed, what="the gateway's watcher to land the spooled request")
    assert is_alive(started["pid"], None)  # addressed to another pid: left alone
    assert run_hermes(home_dir, "stop").returncode == 0


def test_two_stops_under_a_locked_database_keep_one_request_and_both_see_the_drain(home_dir: Path, reap) -> None:
    started = start_detached(home_dir)
    reap.append(started["pid"])
    with database_locked(home_dir):
        stops = [subprocess.Popen(hermes_argv(home_dir, "stop", "--timeout", "10"), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=hermes_env(), cwd=ROOT) for _ in range(2)]
        outputs = [stop.communicate(timeout=DEADLINE) for stop in stops]
        assert [stop.returncode for stop in stops] == [0, 0], outputs
        assert all(f"gateway pid {started['pid']} stopped after a drain" in out for out, _ in outputs)
        assert [t for t, _ in spooled(home_dir)].count("stop_requested") == 1
    wait_for(lambda: run_hermes(home_dir, "status").returncode == 3, what="status after the lock (stopped: 3)")
    assert len(events(home_dir, "stop_requested", run_id=started["run_id"])) == 1
