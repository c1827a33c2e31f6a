"""A process with two connections to state.db (the gateway: journal + watcher) keeps its writes.

Reading the header of an open database through another descriptor, then closing it,
drops the process's POSIX locks; another process closing its connection then deletes
the WAL under the first one and every later commit is lost.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from hermes_lifecycle.journal import Journal
from tests.conftest import ROOT, hermes_env

READ_STATE = ("import sys; from lifecycle.home import Home; from lifecycle.journal import Journal; "
              "j = Journal(Home.resolve(sys.argv[1])); print(j.state().state); j.close()")


def test_commits_survive_when_another_process_opens_and_closes_the_store(home, home_dir):
    first, second = Journal(home), Journal(home)
    try:
        first.fire("start", actor="test", pid=1, data={"create_time": 1.0})
        second.state()  # the second connection of this process
        other_process = subprocess.run([sys.executable, "-c", READ_STATE, str(home_dir)], cwd=ROOT,
                                       env=hermes_env(), capture_output=True, text=True, timeout=60)
        assert other_process.stdout.strip() == "starting", other_process.stderr
        first.fire("ready", actor="test", data={"port": 1})

        assert (home_dir / "state.db-wal").exists()
        other = sqlite3.connect(home_dir / "state.db")
        try:
            triggers = [r[0] for r in other.execute("SELECT trigger FROM lifecycle_events ORDER BY seq")]
        finally:
            other.close()
        assert triggers == ["start", "ready"]
    finally:
        first.close()
        second.close()
