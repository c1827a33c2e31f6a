"""`hermes gateway start`: success only on `ready`; failures show the gateway's log."""

from __future__ import annotations

import json
import os
import signal

import psutil

from tests.conftest import run_hermes, start_detached
from tests.gateways import events, hold_a_turn_in_flight, state, wait_for


def test_start_reports_pid_and_port_of_the_ready_run_detached_in_its_own_session(home_dir, reaper):
    started = start_detached(home_dir)
    assert started["result"] == "started" and started["state"] == "running"
    assert isinstance(started["port"], int) and started["port"] > 0
    gateway = psutil.Process(started["pid"])
    assert gateway.ppid() != psutil.Process().pid  # its launcher (the start command) is gone
    assert os.getsid(started["pid"]) == started["pid"]  # a session leader: no terminal, no job control
    assert (home_dir / "logs" / "gateway-stdio.log").read_text().count(f"pid {started['pid']}") == 1


def test_start_on_a_running_gateway_exits_zero_and_names_it(home_dir, reaper):
    started = start_detached(home_dir)
    again = run_hermes(home_dir, "start")
    assert again.returncode == 0
    assert f"already running (pid {started['pid']}" in again.stdout


def test_a_gateway_that_dies_while_starting_shows_its_log_tail_and_exit_one(home_dir):
    home_dir.mkdir(parents=True)
    (home_dir / "config.json").write_text('{"restart_drain_timeout": "soon"}')
    done = run_hermes(home_dir, "start")
    assert done.returncode == 1
    assert "before it was ready" in done.stderr or "while starting" in done.stderr
    assert "restart_drain_timeout" in done.stderr  # the gateway's own error, from its log
    assert state(home_dir).state != "running"


def test_start_no_wait_returns_the_recorded_run_without_waiting_for_ready(home_dir, reaper):
    done = run_hermes(home_dir, "start", "--no-wait", "--json")
    document = json.loads(done.stdout)
    assert done.returncode == 0
    # "started" when the gateway was quicker than our first look at the log
    assert (document["result"], document["state"]) in (("spawned", "starting"), ("started", "running"))
    assert document["run_id"] and document["pid"]


def test_start_while_the_gateway_drains_waits_for_it_and_starts_a_new_run(home_dir, reaper):
    old = start_detached(home_dir, "--drain-timeout", "20")
    client, _ = hold_a_turn_in_flight(old["port"], 1500, text="finishing")
    os.kill(old["pid"], signal.SIGTERM)
    wait_for(lambda: state(home_dir).state == "draining", what="draining")
    done = run_hermes(home_dir, "start", "--json")
    client.close()
    document = json.loads(done.stdout)
    assert done.returncode == 0 and document["result"] == "started", done.stderr
    assert document["run_id"] != old["run_id"]
    assert [e.trigger for e in events(home_dir, run_id=old["run_id"])][-1] == "drained"



def test_start_does_not_report_success_for_a_gateway_that_stays_starting_past_the_timeout(journal, reaper):
    """Waiting for `ready` was asked: a run that never got there is no success (exit 1)."""
    from hermes_lifecycle.controller.start import start_gateway
    from hermes_lifecycle.platforms import platform_named
    from tests.lifecycle.controller.conftest import PLAIN, record_as_run, spawn_plain

    stuck = spawn_plain(PLAIN)
    reaper.append(stuck)
    record_as_run(journal, stuck.pid, ready=False)
    outcome = start_gateway(journal, platform_named("linux"), timeout=0.3)
    assert (outcome.result, outcome.exit_code, outcome.state) == ("failed", 1, "starting")
    assert f"pid {stuck.pid}" in outcome.message and "not ready after" in outcome.message
    assert start_gateway(journal, platform_named("linux"), timeout=0.3, wait_ready=False).exit_code == 0


def test_start_does_not_report_a_gateway_still_draining_past_the_timeout_as_running(journal, reaper):
    from hermes_lifecycle.controller.start import start_gateway
    from hermes_lifecycle.identity import who
    from hermes_lifecycle.platforms import platform_named
    from tests.lifecycle.controller.conftest import PLAIN, record_as_run, spawn_plain

    leaving = spawn_plain(PLAIN)
    reaper.append(leaving)
    run_id = record_as_run(journal, leaving.pid)
    journal.fire("drain", actor=who("gateway"), run_id=run_id, pid=leaving.pid)
    outcome = start_gateway(journal, platform_named("linux"), timeout=0.3)
    assert (outcome.result, outcome.exit_code, outcome.state) == ("failed", 1, "draining")
    assert "still draining" in outcome.message


LAUNCHER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


class LauncherSpawner:
    """Spawns through a launcher process that runs the real command as its child and waits,
    as a Windows venv's python.exe/pythonw.exe does (the pid we get is the launcher's)."""

    def __init__(self) -> None:
        from hermes_lifecycle.platforms.spawner import PopenSpawner

        self.inner = PopenSpawner()

    def spawn(self, argv, **kwargs):
        import sys as _sys

        return self.inner.spawn([_sys.executable, "-c", LAUNCHER, *argv], **kwargs)


def test_start_recognises_its_gateway_behind_a_launcher_process(journal, reaper):
    from hermes_lifecycle.controller.start import start_gateway
    from hermes_lifecycle.platforms import platform_named

    outcome = start_gateway(journal, platform_named("linux", spawner=LauncherSpawner()), timeout=20)
    assert (outcome.result, outcome.exit_code, outcome.state) == ("started", 0, "running"), outcome.message
    assert psutil.Process(outcome.pid).ppid() != psutil.Process().pid  # the gateway is the launcher's child
