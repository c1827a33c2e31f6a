"""Concurrent controller commands: one stop sequence, one gateway, a stop during start."""

from __future__ import annotations

import json
import subprocess
import sys

from hermes_lifecycle.controller.discovery import find_gateway_processes
from hermes_lifecycle.home import Home
from tests.conftest import ROOT, hermes_env, run_hermes, start_detached
from tests.gateways import events, state


def _at_once(home_dir, *args: str) -> list[subprocess.CompletedProcess]:
    argv = [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), *args]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env=hermes_env()) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        results.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return results


def test_two_stops_at_once_run_one_stop_sequence_and_both_exit_zero(home_dir, reaper):
    started = start_detached(home_dir)
    results = _at_once(home_dir, "stop", "--json")
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    documents = [json.loads(r.stdout) for r in results]
    assert {d["state"] for d in documents} == {"stopped"}
    assert len(events(home_dir, "stop_requested", run_id=started["run_id"])) == 1
    assert len(events(home_dir, "drain", run_id=started["run_id"])) == 1


def test_two_starts_at_once_leave_exactly_one_gateway(home_dir, reaper):
    results = _at_once(home_dir, "start", "--json")
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    documents = [json.loads(r.stdout) for r in results]
    assert len({d["pid"] for d in documents}) == 1, documents
    assert sorted(d["result"] for d in documents) in (["already_running", "started"], ["started", "started"])
    gateways = find_gateway_processes(Home.resolve(home_dir))
    assert [g.pid for g in gateways] == [documents[0]["pid"]]
    assert state(home_dir).state == "running"


def test_a_stop_while_the_gateway_is_still_starting_is_honoured(home_dir, reaper):
    done = run_hermes(home_dir, "start", "--no-wait", "--json", "--",
                      "--app", "tests.apps:SlowStart")
    spawned = json.loads(done.stdout)
    assert spawned["result"] == "spawned" and spawned["state"] == "starting"
    stopped = run_hermes(home_dir, "stop", "--timeout", "20")
    assert stopped.returncode == 0, stopped.stderr
    history = [e.trigger for e in events(home_dir, run_id=spawned["run_id"])]
    assert "ready" not in history and history[-1] in ("drained", "start_failed")
    assert "escalated" not in history
    assert state(home_dir).state == "stopped"
