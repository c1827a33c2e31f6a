"""`hermes gateway restart`: one audited operation, confirmed by the new run's `ready`."""

from __future__ import annotations

import json

from tests.apps import INSIDE_RESTART_OUT
from tests.conftest import run_hermes, start_detached
from tests.gateways import events, state, wait_for


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


def test_a_restart_id_links_the_old_runs_stop_request_to_the_new_runs_start(home_dir, reaper):
    old = start_detached(home_dir)
    done = run_hermes(home_dir, "restart", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    restart_id, new_run = result["restart_id"], result["start"]["run_id"]
    request = events(home_dir, "stop_requested", run_id=old["run_id"])[-1]
    start = events(home_dir, "start", run_id=new_run)[-1]
    assert request.data["restart_id"] == start.data["restart_id"] == restart_id
    told = run_hermes(home_dir, "forensics", "--run", old["run_id"], "--json")
    assert told.returncode == 0, told.stderr
    assert json.loads(told.stdout)["restart"] == {"restart_id": restart_id, "requested_at": request.at,
                                                  "next_run_id": new_run, "linked_by": "restart_id"}
    text = run_hermes(home_dir, "forensics", "--run", old["run_id"]).stdout
    assert f"restart: {restart_id}, brought up run {new_run}" in text
    assert json.loads(run_hermes(home_dir, "forensics", "--last", "--json").stdout)["started_by_restart"] == restart_id


def test_restart_when_nothing_runs_starts_one(home_dir, reaper):
    done = run_hermes(home_dir, "restart", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stop"]["result"] == "not_running"
    assert state(home_dir).state == "running"


def test_a_restart_asked_from_inside_the_gateway_detaches_and_does_not_kill_its_caller(home_dir, reaper):
    old = start_detached(home_dir, "--app", "tests.apps:RestartsItself")
    out = home_dir / INSIDE_RESTART_OUT
    wait_for(lambda: "continues detached" in out.read_text(), what="the inner restart to detach")
    assert "wait --state running" not in out.read_text()  # the old run still runs: it would answer at once
    assert "status --history" in out.read_text()
    wait_for(lambda: state(home_dir).state == "running" and state(home_dir).run_id != old["run_id"],
             what="the new run")
    request = events(home_dir, "stop_requested", run_id=old["run_id"])[-1]
    assert request.data["intent"] == "restart"
    assert [e.trigger for e in events(home_dir, run_id=old["run_id"])][-1] == "drained"
    assert events(home_dir, "kill") == []


def test_the_detached_restart_does_not_hand_its_marker_to_the_gateway_it_starts(home_dir, reaper):
    """The marker says "this restart already detached"; inherited by the new gateway, its
    tool calls' restarts would not detach and would wait on their own caller's drain."""
    import psutil

    from hermes_lifecycle.controller.restart import DETACHED_ENV
    from tests.conftest import hermes_env

    start_detached(home_dir)
    done = run_hermes(home_dir, "restart", "--json", env={**hermes_env(), DETACHED_ENV: "rs-test"})
    assert done.returncode == 0, done.stderr
    new_pid = json.loads(done.stdout)["start"]["pid"]
    assert DETACHED_ENV not in psutil.Process(new_pid).environ()
