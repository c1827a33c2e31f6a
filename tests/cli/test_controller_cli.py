"""The controller commands as a script sees them: usage errors, JSON, quiet unless on a TTY."""

from __future__ import annotations

import json
import os

import pytest

from lifecycle.controller.countdown import Countdown
from tests.conftest import run_hermes


@pytest.mark.parametrize("args", [
    ("stop", "--timeout", "0"),
    ("stop", "--timeout", "soon"),
    ("start", "--timeout", "-1"),
    ("restart", "--start-timeout", "0"),
    ("wait",),
    ("wait", "--state", "asleep"),
], ids=" ".join)
def test_bad_input_is_one_line_exit_two_and_leaves_no_log(home_dir, args):
    done = run_hermes(home_dir, *args)
    assert done.returncode == 2
    assert done.stdout == ""
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


def test_scripts_get_no_countdown(home_dir):
    done = run_hermes(home_dir, "stop")
    assert "\r" not in done.stdout + done.stderr


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
