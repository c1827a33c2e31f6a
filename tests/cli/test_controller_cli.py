"""The controller commands as a script sees them: usage errors, JSON, quiet unless on a TTY."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess

import pytest

from hermes_lifecycle.controller.countdown import Countdown
from tests.conftest import ROOT, hermes_argv, hermes_env, run_hermes, start_detached


@pytest.mark.parametrize("args", [
    ("stop", "--timeout", "0"),
    ("stop", "--timeout", "soon"),
    ("start", "--timeout", "-1"),
    ("start", "--timout", "5"),  # a typo is a usage error, not a `run` option for a gateway to refuse
    ("restart", "--start-timeout", "0"),
    ("wait",),
    ("wait", "--state", "asleep"),
], ids=" ".join)
def test_bad_input_is_one_line_exit_two_and_leaves_no_log(home_dir, args):
    done = run_hermes(home_dir, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (home_dir / "state.db").exists()


def test_stop_json_when_nothing_runs(home_dir):
    done = run_hermes(home_dir, "stop", "--json")
    assert done.returncode == 0
    document = json.loads(done.stdout)
    assert document["schema_version"] == 1 and document["result"] == "not_running"
    assert set(document) >= {"profile", "result", "state", "run_id", "pid", "joined", "message",
                             "exit_code", "strays"}


def test_wait_json_has_the_documented_keys(home_dir):
    done = run_hermes(home_dir, "wait", "--state", "stopped", "--json")
    assert done.returncode == 0
    document = json.loads(done.stdout)
    assert document["reached"] is True and document["reason"] == "reached"
    assert set(document) == {"schema_version", "profile", "target", "reached", "reason", "state",
                             "waited_s", "run_id", "pid", "port"}


def test_scripts_get_no_countdown_while_a_stop_waits(home_dir, reaper):
    started = start_detached(home_dir)
    os.kill(started["pid"], signal.SIGSTOP)  # frozen: the stop waits its whole budget
    done = run_hermes(home_dir, "stop", "--timeout", "1.5")
    assert done.returncode == 3, done.stderr
    assert "\r" not in done.stdout + done.stderr and "left" not in done.stdout + done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith(f"gateway pid {started['pid']} ended by force (kill_tree), after the drain wait "
                           "(stop --timeout 1.5: "), line


def test_a_stop_on_a_terminal_shows_the_countdown(home_dir, reaper):
    started = start_detached(home_dir)
    os.kill(started["pid"], signal.SIGSTOP)
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as tty:
        stop = subprocess.Popen(hermes_argv(home_dir, "stop", "--timeout", "1.5"), stdout=subprocess.PIPE,
                                stderr=tty, cwd=ROOT, env=hermes_env())
        out, _ = stop.communicate(timeout=60)
    drawn = b""
    while select.select([leader], [], [], 0)[0]:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: every end of the terminal is closed and all was read
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert stop.returncode == 3
    assert f"gateway pid {started['pid']} draining:".encode() in drawn and b"s left" in drawn


def test_the_countdown_draws_on_a_terminal_and_stays_silent_on_a_pipe():
    leader, follower = os.openpty()
    read_end, write_end = os.pipe()
    with os.fdopen(follower, "w") as tty, os.fdopen(write_end, "w") as pipe:
        for stream in (tty, pipe):
            countdown = Countdown(stream, every=0)
            countdown.show("gateway pid 1 draining", 12.0)
            countdown.done()
    assert b"gateway pid 1 draining: 12.0s left" in os.read(leader, 4096)
    assert os.read(read_end, 4096) == b""
    os.close(leader)
    os.close(read_end)
