"""What a command tells a person agrees with the log, for real gateways (issue 10's seven cases;
the seventh, `uninstall`, is in tests/cli/test_uninstall_stop_fails.py)."""

from __future__ import annotations

import json
import os
import signal
import sys

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal

from tests.conftest import run_hermes, start_detached
from tests.gateways import GatewayProcess, events, hold_a_turn_in_flight, state, wait_for
from tests.lifecycle.controller.conftest import PLAIN, record_as_run, spawn_plain


def _forensics(home_dir) -> dict:
    done = run_hermes(home_dir, "forensics", "--last", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_stop_whose_drain_ran_out_says_so_and_what_was_abandoned_with_exit_four(home_dir, reaper):
    started = start_detached(home_dir, "--drain-timeout", "1")
    client, _ = hold_a_turn_in_flight(started["port"], 30_000, text="a turn longer than the drain")
    done = run_hermes(home_dir, "stop", "--timeout", "30", "--json")
    client.close()
    assert done.returncode == 4, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["result"] == "drain_timed_out" and document["exit_code"] == 4
    assert document["drain_timed_out"] is True and document["drain_timeout_s"] == 1
    assert document["abandoned_count"] == 1 and len(document["abandoned"]) == 1
    assert "drain timed out after 1 s: 1 in-flight request abandoned" in document["message"]
    from tests.cli.test_json_schemas import valid

    valid("stop", document)  # result drain_timed_out, exit 4 and what was abandoned, as the schema says
    story = _forensics(home_dir)
    assert story["drain"]["timed_out"] and story["drain"]["abandoned_count"] == 1
    assert story["drain"]["abandoned"] == document["abandoned"]


def test_stop_force_on_an_idle_gateway_puts_every_signal_on_the_log_and_tells_one_story(home_dir, reaper):
    started = start_detached(home_dir)
    done = run_hermes(home_dir, "stop", "--force", "--json")
    document = json.loads(done.stdout)
    logged = [e.data["step"] for e in events(home_dir, "escalated", run_id=started["run_id"])]
    # every signal this engine sends is on the log (none at all when the gateway's watcher read
    # the stop request and drained before the force began: then the process was already gone)
    assert [s["step"] for s in document["signals"]] == logged
    assert logged[:1] in ([], ["terminate_tree"])
    story = _forensics(home_dir)
    assert [s["step"] for s in story["escalation"]] == logged
    if story["end"] == "kill":
        assert (document["result"], done.returncode) == ("forced", 3)
    else:  # the gateway drained on the terminate signal: the command says so too
        assert story["end"] == "drained" and story["exit"]["code"] == 0
        assert (document["result"], done.returncode, document["state"]) == ("stopped", 0, "stopped")
        assert "stopped after a drain" in document["message"] and "stop --force" in story["verdict"]
        for step in logged:
            assert step in document["message"] and step in story["verdict"], (document["message"], story["verdict"])


def test_a_stop_timeout_verdict_names_the_typed_timeout_and_its_split(home_dir, reaper):
    started = start_detached(home_dir, "--drain-timeout", "30")
    client, _ = hold_a_turn_in_flight(started["port"], 60_000, text="a turn that outlives the stop")
    done = run_hermes(home_dir, "stop", "--timeout", "3", "--json")
    client.close()
    assert done.returncode == 3, done.stdout + done.stderr
    split = "stop --timeout 3: 2.25 s drain wait, then 0.75 s grace"
    assert split in json.loads(done.stdout)["message"]
    story = _forensics(home_dir)
    assert story["end"] == "kill" and split in story["verdict"], story["verdict"]
    request = events(home_dir, "stop_requested", run_id=started["run_id"])[-1]
    assert request.data["budget"] == {"timeout_s": 3.0, "total_s": 3.0, "drain_s": 2.25, "grace_s": 0.75,
                                      "run_drain_timeout_s": 30.0}


def test_a_recorded_pid_reused_by_another_program_is_lost_for_every_command(home_dir, journal, reaper):
    stranger = spawn_plain(PLAIN)
    reaper.append(stranger)
    gateway_line = [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), "run"]
    run_id = record_as_run(journal, stranger.pid, cmdline=gateway_line)

    status = json.loads(run_hermes(home_dir, "status", "--json").stdout)
    assert status["state"] == "crashed", status
    lost = events(home_dir, "lost", run_id=run_id)
    assert len(lost) == 1 and lost[0].data["pid_reused"] is True
    stopped = run_hermes(home_dir, "stop")
    assert stopped.returncode == 0 and "not running" in stopped.stdout, stopped.stdout + stopped.stderr
    started = start_detached(home_dir)
    assert started["result"] == "started" and started["run_id"] != run_id
    assert stranger.poll() is None, "the stranger holding the old pid is never signalled"


def test_start_that_loses_the_lock_to_a_draining_run_waits_for_it_and_starts(home_dir, journal, reaper, monkeypatch):
    """The race: `start` sees no live run, and before its gateway takes the instance lock
    another one has, and is draining.  `start` waits for that drain and starts the new run."""
    from hermes_lifecycle.controller import spawn
    from hermes_lifecycle.controller.start import start_gateway
    from hermes_lifecycle.platforms import platform_named

    real_spawn = spawn.spawn_gateway
    holder: list[GatewayProcess] = []
    clients = []

    def another_run_wins_then_drains(*args, **kwargs):
        if not holder:
            other = GatewayProcess(home_dir, "--drain-timeout", "20", "--port", "0")
            reaper.append(other.proc)
            holder.append(other)
            port = other.wait_ready()
            client, _ = hold_a_turn_in_flight(port, 2_000, text="the winner's last turn")
            clients.append(client)
            os.kill(other.pid, signal.SIGTERM)
            wait_for(lambda: state(home_dir).state == "draining", what="the winner to drain")
        return real_spawn(*args, **kwargs)

    monkeypatch.setattr(spawn, "spawn_gateway", another_run_wins_then_drains)
    outcome = start_gateway(journal, platform_named("linux"), timeout=60)
    for client in clients:
        client.close()
    assert (outcome.result, outcome.exit_code) == ("started", 0), outcome.message
    winner = holder[0]
    assert outcome.pid != winner.pid
    assert events(home_dir, "drained", profile="default")[-1].pid == winner.pid
    assert state(home_dir).state == "running" and state(home_dir).pid == outcome.pid


def test_replace_boots_when_the_old_run_stopped_by_itself_before_the_request(home_dir, reaper, monkeypatch):
    """`run --replace` saw the old run alive; it drained by itself before the stop request
    was written: the request is refused (nothing to stop), and the new run takes the lock."""
    from hermes_lifecycle.platforms import current_platform
    from hermes_lifecycle.runtime import boot

    old = GatewayProcess(home_dir)
    reaper.append(old.proc)
    old.wait_ready()
    real_request = boot.request_stop

    def old_run_leaves_first(*args, **kwargs):
        os.kill(old.pid, signal.SIGTERM)
        old.wait_exit()
        return real_request(*args, **kwargs)

    monkeypatch.setattr(boot, "request_stop", old_run_leaves_first)
    home = Home.resolve(home_dir)
    with Journal(home) as own:
        lock = boot.acquire_instance(home, current_platform(), own, replace=True, fallback_wait_s=10)
    lock.release()
    assert state(home_dir).state == "stopped"
    assert events(home_dir, "stop_requested") == []
