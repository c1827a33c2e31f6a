"""`events --follow` streams what other processes commit, as JSON lines, without re-reading the log."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from tests.conftest import ROOT, hermes_env

DEADLINE = 30

WRITER = """
import sys
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
with Journal(Home.resolve(sys.argv[1])) as journal:
    for n in range(int(sys.argv[2])):
        journal.fire("exited", actor="writer", data={"n": n})
"""


def _lines(proc: subprocess.Popen) -> "queue.Queue[str]":
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    return lines


def test_follow_sees_events_written_by_another_process(home_dir):
    with Journal(Home.resolve(home_dir)) as journal:
        journal.fire("service_installed", actor="test")
    follower = subprocess.Popen(
        [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), "events", "--follow", "--json"],
        cwd=ROOT, env=hermes_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _lines(follower)
        first = json.loads(lines.get(timeout=DEADLINE))
        assert first["trigger"] == "service_installed" and first["schema_version"] == 1
        writer = subprocess.run([sys.executable, "-c", WRITER, str(home_dir), "5"], cwd=ROOT,
                                env=hermes_env(), timeout=DEADLINE)
        assert writer.returncode == 0
        seen = [json.loads(lines.get(timeout=DEADLINE)) for _ in range(5)]
        assert [e["data"]["n"] for e in seen] == [0, 1, 2, 3, 4]
        assert [e["seq"] for e in seen] == list(range(2, 7))
    finally:
        follower.terminate()
        follower.wait(timeout=DEADLINE)
    assert follower.returncode == 0, follower.stderr.read()
    assert "Traceback" not in follower.stderr.read()


def test_follow_starts_after_after_seq_and_ends_quietly_when_the_reader_leaves(home_dir):
    with Journal(Home.resolve(home_dir)) as journal:
        for n in range(3):
            journal.fire("exited", actor="test", data={"n": n})
    follower = subprocess.Popen(
        [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), "events", "--follow", "--json",
         "--after-seq", "2"],
        cwd=ROOT, env=hermes_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(follower.stdout.readline())["seq"] == 3  # already committed: no wait
        follower.stdout.close()
        with Journal(Home.resolve(home_dir)) as journal:
            journal.fire("exited", actor="test", data={"n": 3})
        assert follower.wait(timeout=DEADLINE) == 0
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait(timeout=DEADLINE)
    assert "Traceback" not in follower.stderr.read()
