"""The spool file itself: durable records in order, torn tails ignored, bounded, never a link."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hermes_lifecycle import store
from hermes_lifecycle.errors import UntrustedPath
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import INITIAL_STATE, decide
from hermes_lifecycle.projection import fold_row
from hermes_lifecycle.store.spool import DATA_START, SIZE, Spool, SpoolFull, spool_path
from tests.gateways import ROOT, hermes_env


def _spool(tmp_path: Path) -> Spool:
    return Spool.open(tmp_path / "state.db")


def test_created_at_full_size_owner_only_and_records_come_back_in_order_after_a_reopen(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    for n in range(5):
        spool.add({"n": n, "text": "é" * n})
    spool.close()
    info = os.stat(spool_path(tmp_path / "state.db"))
    assert info.st_size >= SIZE and stat.S_IMODE(info.st_mode) == 0o600
    again = _spool(tmp_path)
    assert [r["n"] for r in again.pending()[0]] == [0, 1, 2, 3, 4]
    again.consumed(2)
    assert [r["n"] for r in again.pending()[0]] == [2, 3, 4]
    again.consumed(5)
    assert again.pending() == ([], 0)
    again.add({"n": 9})  # a new generation: the old records never come back
    assert [r["n"] for r in again.pending()[0]] == [9]


def test_a_torn_record_is_never_read(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    spool.add({"n": 0})
    spool.add({"n": 1})
    records, _ = spool.pending()
    body = json.dumps({"n": 0}, sort_keys=True, separators=(",", ":")).encode()
    second = DATA_START + 16 + len(body)
    with open(spool.path, "r+b") as f:  # flip a byte inside the second record's body
        f.seek(second + 16 + 2)
        f.write(b"X")
    assert [r["n"] for r in spool.pending()[0]] == [0]


def test_the_spool_is_bounded(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    with pytest.raises(SpoolFull):
        for n in range(SIZE):
            spool.add({"n": n, "pad": "x" * 1000})
    kept = spool.pending()[0]
    assert kept and [r["n"] for r in kept] == list(range(len(kept)))


def test_a_spool_that_is_a_link_is_refused(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    home.ensure_private_dir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    spool_path(home.state_db).symlink_to(elsewhere)
    with pytest.raises(UntrustedPath, match="symbolic link"):
        Journal(home).state()
    assert elsewhere.read_bytes() == b""


LOCKED_FIRE = """
import sqlite3, sys
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
home = Home.resolve(sys.argv[1])
with Journal(home) as journal:
    journal.state()
    holder = sqlite3.connect(str(home.state_db), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    event = journal.fire("start", actor="test", run_id="r-spooled", pid=1, data={"create_time": 1.0},
                         spool_after=0.1)
    assert event.seq == 0, event
    holder.execute("ROLLBACK")
"""


def test_a_spooled_event_the_log_no_longer_allows_is_set_aside_not_lost(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    done = subprocess.run([sys.executable, "-c", LOCKED_FIRE, str(home.root)], capture_output=True, text=True,
                          env=hermes_env(), cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    conn = store.open_store(home.state_db)  # behind the spool's back: a writer that never saw it
    store.append(conn, "default", "start", decide, fold_row, initial=INITIAL_STATE, actor="test", run_id="r-direct", pid=2,
                 data={"create_time": 2.0})
    conn.close()
    with Journal(home) as journal:
        assert journal.pending() == []  # opening landed the spool: its `start` no longer applied
        assert [e.run_id for e in journal.events()] == ["r-direct"]
    rejected = [json.loads(line) for line in (home.logs_dir / "spool-rejected.jsonl").read_text().splitlines()]
    assert [(r["trigger"], r["run_id"]) for r in rejected] == [("start", "r-spooled")]
    assert "not allowed" in rejected[0]["rejected"]
