"""Escalation on processes that ignore the polite stop: terminate the tree, grace, kill."""

from __future__ import annotations

import json
import subprocess
import sys

import psutil

from lifecycle.controller.countdown import Silent
from lifecycle.controller.stop import stop_gateway
from lifecycle.controller.tree import collect_tree
from lifecycle.platforms import RecordingRunner, platform_named
from tests.conftest import ROOT, hermes_env, run_hermes
from tests.gateways import events, state
from tests.lifecycle.controller.conftest import PLAIN, STUBBORN, record_as_run, spawn_plain

PARENT_WITH_CHILD = (
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "child = subprocess.Popen([sys.executable, '-c', " + repr(STUBBORN) + "], stdout=subprocess.PIPE, text=True); "
    "child.stdout.readline(); print('up', child.pid, flush=True); time.sleep(120)"
)


def test_stop_escalates_to_kill_after_the_timeout_and_records_each_step(home_dir, journal, reaper):
    stubborn = subprocess.Popen([sys.executable, "-c", PARENT_WITH_CHILD], stdout=subprocess.PIPE, text=True,
                                cwd=ROOT, env=hermes_env())
    reaper.append(stubborn)
    child_pid = int(stubborn.stdout.readline().split()[1])
    reaper.append(psutil.Process(child_pid))
    run_id = record_as_run(journal, stubborn.pid)
    done = run_hermes(home_dir, "stop", "--timeout", "1.2", "--json")
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout)["state"] == "killed"
    stubborn.wait(30)
    assert not _alive(child_pid), "the gateway's child outlived the tree kill"
    history = events(home_dir, run_id=run_id)
    names = [e.trigger for e in history]
    assert names[-4:] == ["stop_requested", "escalated", "escalated", "kill"]
    terminate, kill_step = (e.data for e in history if e.trigger == "escalated")
    assert terminate["step"] == "terminate_tree" and set(terminate["pids"]) == {stubborn.pid, child_pid}
    assert kill_step["step"] == "kill_tree"
    assert state(home_dir).state == "killed"


def test_the_tree_kill_spares_the_callers_ancestry(reaper):
    parent = subprocess.Popen([sys.executable, "-c", PARENT_WITH_CHILD], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env=hermes_env())
    reaper.append(parent)
    child_pid = int(parent.stdout.readline().split()[1])
    reaper.append(psutil.Process(child_pid))
    tree = collect_tree(psutil.Process(parent.pid), spare=frozenset({child_pid, parent.pid}))
    assert tree.pids == [parent.pid]  # the root is never spared
    assert tree.spared == [child_pid] and not tree.whole
    platform_named("linux").kill_tree(parent.pid, tree.processes, whole=tree.whole)
    parent.wait(30)
    assert _alive(child_pid), "a spared process was killed"


def test_two_stops_of_a_stubborn_process_run_one_stop_sequence(home_dir, journal, reaper):
    stubborn = spawn_plain(STUBBORN)
    reaper.append(stubborn)
    run_id = record_as_run(journal, stubborn.pid)
    argv = [sys.executable, "-m", "cli.main", "gateway", "--home", str(home_dir), "stop", "--timeout", "2"]
    stops = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env=hermes_env()) for _ in range(2)]
    codes = sorted(p.wait(60) for p in stops)
    assert codes == [3, 3]
    assert len(events(home_dir, "stop_requested", run_id=run_id)) == 1
    assert len(events(home_dir, "kill", run_id=run_id)) == 1
    assert [e.data["step"] for e in events(home_dir, "escalated", run_id=run_id)] == ["terminate_tree", "kill_tree"]


def test_a_plain_process_that_obeys_sigterm_is_stopped_without_force(journal, reaper):
    plain = spawn_plain(PLAIN)
    reaper.append(plain)
    record_as_run(journal, plain.pid)
    outcome = stop_gateway(journal, platform_named("linux"), timeout=10, countdown=Silent())
    assert outcome.result == "stopped" and outcome.exit_code == 0
    assert outcome.state == "crashed"  # it obeyed, but recorded no drain: the log says so
    assert events_of(journal, "escalated") == []


def events_of(journal, trigger):
    return journal.events(triggers=(trigger,))


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_default_budget_is_the_runs_own_drain_timeout_not_todays_config(home, journal, reaper):
    from lifecycle.controller.stop import GRACE, MARGIN, _run_drain_timeout, stop_budget
    from lifecycle.controller.target import Target

    plain = spawn_plain(PLAIN)
    reaper.append(plain)
    proc = psutil.Process(plain.pid)
    journal.fire("start", actor="test", run_id="r-own", pid=plain.pid,
                 data={"create_time": proc.create_time(), "cmdline": proc.cmdline(), "drain_timeout": 4.0})
    home.config_file.write_text('{"restart_drain_timeout": 90}')
    target = Target.of(journal.state())
    assert stop_budget(journal, None, _run_drain_timeout(journal, target)) == 4.0 + MARGIN + GRACE
    assert stop_budget(journal, None, None) == 90 + MARGIN + GRACE
    assert stop_budget(journal, 2.5, 4.0) == 2.5
