"""`hermes gateway wait --state`: reached, timed out, or can no longer come."""

from __future__ import annotations

import json
import subprocess
import sys

from hermes_lifecycle.store import ChangeWatch
from tests.conftest import ROOT, hermes_env, run_hermes, start_detached
from tests.lifecycle.controller.conftest import PLAIN, record_as_run, spawn_plain


def _wait_in_background(home_dir, *args: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), "wait", "--json", *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=hermes_env())


def test_wait_returns_zero_when_the_gateway_becomes_running(home_dir, reaper):
    home_dir.mkdir(parents=True)
    run_hermes(home_dir, "status")  # the store exists before the waiter opens it
    waiter = _wait_in_background(home_dir, "--state", "running", "--timeout", "60")
    started = start_detached(home_dir)
    out, err = waiter.communicate(timeout=90)
    assert waiter.returncode == 0, err
    document = json.loads(out)
    assert document["reached"] and document["reason"] == "reached" and document["pid"] == started["pid"]


def test_wait_times_out_with_exit_one(home_dir):
    done = run_hermes(home_dir, "wait", "--state", "running", "--timeout", "0.3", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["reason"] == "timeout"


def test_wait_gives_up_when_the_run_ends_in_another_state(home_dir, journal, reaper):
    plain = spawn_plain(PLAIN)
    reaper.append(plain)
    record_as_run(journal, plain.pid)
    waiter = _wait_in_background(home_dir, "--state", "stopped", "--timeout", "60")
    plain.kill()
    plain.wait(30)
    out, err = waiter.communicate(timeout=90)
    assert waiter.returncode == 1, err
    document = json.loads(out)
    assert document["reason"] == "unreachable" and document["state"] == "crashed"


def test_the_change_watch_sees_only_other_connections_commits(home, journal):
    from hermes_lifecycle.journal import Journal

    journal.state()
    watch = ChangeWatch(journal.conn)
    assert not watch.changed()
    with Journal(home) as other:
        other.fire("start", actor="test", run_id="r1", pid=1, data={"create_time": 1.0})
    assert watch.changed()
    assert not watch.changed()
