"""Writers queue on the home's write lock (state.db-writelock), and the bench prints the tail."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from tests.gateways import DEADLINE, ROOT, hermes_env

APPEND = """
import sys
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
with Journal(Home.resolve(sys.argv[1])) as journal:
    journal.state()
    print("open", flush=True)
    journal.fire("start", actor="test", run_id="r-1", pid=1, data={"create_time": 1.0})
    print("appended", flush=True)
"""


def test_a_writer_waits_for_the_write_lock_and_goes_as_soon_as_it_is_free(tmp_path) -> None:
    home = Home.resolve(tmp_path / "home")
    with Journal(home) as journal:
        journal.state()
    fd = os.open(home.root / "state.db-writelock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    writer = subprocess.Popen([sys.executable, "-c", APPEND, str(home.root)], stdout=subprocess.PIPE, text=True,
                              env=hermes_env(), cwd=ROOT)
    try:
        assert writer.stdout.readline().strip() == "open"
        with Journal(home) as journal:  # held: nothing may be committed behind our back
            until = time.monotonic() + 2.0
            while time.monotonic() < until:
                assert journal.events() == []
                assert writer.poll() is None
        fcntl.flock(fd, fcntl.LOCK_UN)
        assert writer.stdout.readline().strip() == "appended"
        assert writer.wait(DEADLINE) == 0
    finally:
        os.close(fd)
        if writer.poll() is None:
            writer.kill()
    with Journal(home) as journal:
        assert [e.trigger for e in journal.events()] == ["start"]


def test_the_bench_has_a_concurrent_mode_printing_the_tail(tmp_path) -> None:
    done = subprocess.run([sys.executable, "bench/append.py", "--writers", "4", "--appends", "14",
                           "--dir", str(tmp_path)], capture_output=True, text=True, env=hermes_env(), cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stdout.splitlines()[-1]
    assert line.startswith("4 writers durable: 56 appends in ")
    for figure in ("p50", "p99", "max"):
        assert f" {figure} " in line
