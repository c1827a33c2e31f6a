"""`status` and `status --history`: runs grouped, verdict line, warnings, JSON keys only ever added."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from tests.conftest import ROOT, hermes_env, run_hermes
from tests.journal_runs import boot, crash, planned_stop

OLD_KEYS = {"schema_version", "profile", "state", "pid", "run_id", "since", "port", "version", "history"}
HISTORY_KEYS = {"seq", "at", "from", "to", "trigger", "run_id", "actor", "reason"}


def test_history_groups_transitions_by_run_with_duration_and_end(journal, home_dir):
    planned_stop(journal, "r1")
    crash(journal, "r2")
    out = run_hermes(home_dir, "status", "--history")
    assert out.returncode == 1, out.stderr  # the newest run crashed
    lines = out.stdout.splitlines()
    assert any(line.startswith("  run r1: stopped, ") and line.endswith("ended by drained") for line in lines)
    assert any(line.startswith("  run r2: crashed, ") and line.endswith("ended by lost") for line in lines)
    assert "\x1b[" not in out.stdout  # colour only on a terminal


def test_history_names_the_restart_that_stopped_one_run_and_started_the_next(journal, home_dir):
    planned_stop(journal, "r1", intent="restart", restart_id="rs-1")
    boot(journal, "r2", restart_id="rs-1")
    out = run_hermes(home_dir, "status", "--history")
    assert out.returncode == 0, out.stderr  # r2 (this test process) runs
    lines = out.stdout.splitlines()
    assert any(line.startswith("  run r1: ") and line.endswith("ended by drained, stopped by restart rs-1")
               for line in lines)
    assert any(line.startswith("  run r2: ") and line.endswith("not ended, started by restart rs-1")
               for line in lines)
    runs = json.loads(run_hermes(home_dir, "status", "--history", "--json").stdout)["runs"]
    assert [(r["run_id"], r["started_by_restart"], r["ended_by_restart"]) for r in runs] == [
        ("r1", None, "rs-1"), ("r2", "rs-1", None)]


def test_plain_status_shows_the_last_shutdown_and_pattern_warnings(journal, home_dir):
    planned_stop(journal, "r1")
    crash(journal, "r2")
    out = run_hermes(home_dir, "status").stdout
    assert "last shutdown: crashed: the process vanished while running" in out
    assert "warning: run r2 ended with no shutdown at all" in out
    assert "see `hermes-lifecycle forensics --run r2`" in out


def test_json_keeps_every_old_key_and_adds_runs_counts_and_warnings(journal, home_dir):
    planned_stop(journal, "r1", sessions=["s1"])
    boot(journal, "r2")
    doc = json.loads(run_hermes(home_dir, "status", "--history", "-n", "3", "--json").stdout)
    assert OLD_KEYS <= set(doc)
    assert all(set(h) == HISTORY_KEYS for h in doc["history"])
    assert len(doc["history"]) == 3
    assert [r["run_id"] for r in doc["runs"]] == ["r1", "r2"]
    assert doc["runs"][0]["partial"] is True and doc["runs"][1]["end"] is None
    assert doc["last_shutdown"]["ending"] == "planned_stop"
    assert doc["counts"]["stops"] == 1 and doc["warnings"] == []
    assert doc["resume_pending_sessions"] in (0, None)


def test_since_limits_history_to_recent_transitions(journal, home_dir):
    planned_stop(journal, "r1")
    doc = json.loads(run_hermes(home_dir, "status", "--history", "--since", "1h", "--json").stdout)
    assert [h["trigger"] for h in doc["history"]] == ["start", "ready", "drain", "drained"]
    doc = json.loads(run_hermes(home_dir, "status", "--history", "--since", "2099-01-01T00:00:00Z",
                                "--json").stdout)
    assert doc["history"] == [] and doc["runs"] == []
    bad = run_hermes(home_dir, "status", "--history", "--since", "yesterday")
    assert bad.returncode == 2 and "invalid --since 'yesterday'" in bad.stderr
    alone = run_hermes(home_dir, "status", "--since", "1h")
    assert alone.returncode == 2 and alone.stderr.count("\n") == 1 and "--since narrows --history" in alone.stderr


def test_every_status_query_uses_an_index(journal, home_dir):
    from hermes_lifecycle import store
    from click.testing import CliRunner

    from hermes_lifecycle.cli.main import hermes

    planned_stop(journal, "r1", sessions=["s1"])
    crash(journal, "r2")
    statements: list[str] = []
    original = store.open_store

    def traced(*args, **kwargs):
        conn = original(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    store.open_store = traced
    try:
        result = CliRunner().invoke(hermes, ["gateway", "--home", str(home_dir), "status", "--history", "--json"])
    finally:
        store.open_store = original
    assert result.exit_code in (1, 3), result.output  # status: crashed or not running
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and " lifecycle_events " in f"{s} "]
    assert len(selects) >= 5
    for sql in selects:
        plan = " ".join(row[3] for row in journal.conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "USING" in plan and "SCAN lifecycle_events" not in plan, (sql, plan)


def test_history_is_coloured_on_a_terminal(journal, home_dir):
    crash(journal, "r1")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), "status",
                               "--history"], stdout=follower, stderr=subprocess.PIPE, cwd=ROOT, env=hermes_env(),
                              timeout=60)
        assert proc.returncode == 1, proc.stderr  # crashed
        output = os.read(leader, 65536).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert "\x1b[31m" in output and "crashed" in output  # red for a crash
