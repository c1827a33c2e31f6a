"""`hermes gateway restart`: one audited operation, confirmed by the new run's `ready`."""

from __future__ import annotations

import json

from tests.conftest import run_hermes
from tests.lifecycle.controller.conftest import start_detached
from tests.lifecycle.runtime.harness import events, state, wait_for


def test_restart_drains_with_exit_75_and_confirms_the_new_run_is_ready(home_dir, reaper):
    old = start_detached(home_dir, "--drain-timeout", "7")
    done = run_hermes(home_dir, "restart", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["stop"]["state"] == "stopped" and result["start"]["result"] == "started"
    new_run = result["start"]["run_id"]
    assert new_run != old["run_id"] and result["start"]["pid"] != old["pid"]
    request = events(home_dir, "stop_requested", run_id=old["run_id"])[-1]
    assert request.data["intent"] == "restart" and request.data["restart_id"] == result["restart_id"]
    drained = events(home_dir, "drained", run_id=old["run_id"])[-1]
    assert drained.data["exit_code"] == 75
    now = state(home_dir)
    assert now.state == "running" and now.run_id == new_run
    assert "--drain-timeout" in now.data["cmdline"]  # the same gateway came back


def test_restart_when_nothing_runs_starts_one(home_dir, reaper):
    done = run_hermes(home_dir, "restart", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stop"]["result"] == "not_running"
    assert state(home_dir).state == "running"


def test_a_restart_asked_from_inside_the_gateway_detaches_and_does_not_kill_its_caller(home_dir, reaper):
    old = start_detached(home_dir, "--app", "tests.lifecycle.controller.apps:restarts_itself")
    out = home_dir / "inside-restart.out"
    wait_for(lambda: "continues detached" in out.read_text(), what="the inner restart to detach")
    wait_for(lambda: state(home_dir).state == "running" and state(home_dir).run_id != old["run_id"],
             what="the new run")
    request = events(home_dir, "stop_requested", run_id=old["run_id"])[-1]
    assert request.data["intent"] == "restart"
    assert [e.trigger for e in events(home_dir, run_id=old["run_id"])][-1] == "drained"
    assert events(home_dir, "kill") == []
