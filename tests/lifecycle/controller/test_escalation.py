"""Escalation on processes that ignore the polite stop: terminate the tree, grace, kill."""

from __future__ import annotations

import json
import subprocess
import sys

import psutil

from hermes_lifecycle.controller.countdown import Silent
from hermes_lifecycle.controller.stop import stop_gateway
from hermes_lifecycle.controller.tree import collect_tree
from hermes_lifecycle.platforms import RecordingRunner, platform_named
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
    argv = [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), "stop", "--timeout", "2"]
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
    from hermes_lifecycle.controller.stop import GRACE, MARGIN, _run_drain_timeout, stop_budget
    from hermes_lifecycle.controller.target import Target

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


#: A leader slower than the joiner's former fixed 2 s patience (its durable writes on a busy disk).
SLOW_LEADER_S = 2.5


def test_a_joined_stop_waits_for_a_slow_living_leader_to_record_the_kill(journal, reaper, monkeypatch):
    """The race behind the flaky two-stops test: the process is gone, the stop that leads
    has not yet written `escalated`/`kill`; the joiner must not record `lost` meanwhile
    (it did after a fixed 2 s patience, and exited 0 with the run shown crashed)."""
    import threading
    import time

    from hermes_lifecycle.controller import stop as stop_module
    from hermes_lifecycle.identity import ProcessIdentity, who
    from hermes_lifecycle.journal import Journal

    gateway, leader = spawn_plain(PLAIN), spawn_plain(PLAIN)  # `leader` stands for the leading stop
    reaper.extend([gateway, leader])
    run_id = record_as_run(journal, gateway.pid)
    created = psutil.Process(gateway.pid).create_time()
    journal.fire("stop_requested", actor=who("controller"), pid=leader.pid, reason="stop",
                 idempotency_key=f"stop:{run_id}:{gateway.pid}",
                 data={"target": ProcessIdentity(gateway.pid, created).to_json(), "intent": "stop",
                       "deadline": time.time() + 30, "requested_by": {"pid": leader.pid}})
    joined = threading.Event()
    real_join = stop_module._join

    def join_and_tell(*args, **kwargs):
        joined.set()
        return real_join(*args, **kwargs)

    monkeypatch.setattr(stop_module, "_join", join_and_tell)

    def lead() -> None:
        if not joined.wait(60):
            return
        gateway.kill()  # the leader's kill_tree
        gateway.wait(30)
        time.sleep(SLOW_LEADER_S)  # its durable writes are late
        with Journal(journal.home) as own:
            own.fire("escalated", actor="leader", run_id=run_id, data={"step": "kill_tree"})
            own.fire("kill", actor="leader", run_id=run_id, pid=gateway.pid)

    writer = threading.Thread(target=lead)
    writer.start()
    try:
        outcome = stop_gateway(journal, platform_named("linux"), timeout=30, countdown=Silent())
    finally:
        joined.set()
        writer.join(60)
    assert outcome.joined and outcome.state == "killed" and outcome.exit_code == 3
    assert events_of(journal, "lost") == []


def test_a_stop_that_joins_an_earlier_one_keeps_its_own_timeout(journal, reaper):
    """The earlier stop (its command interrupted, or given a long --timeout) set a far deadline;
    `stop --timeout 1.5` means gone 1.5 s after it was run, so it forces before that deadline."""
    import time

    from hermes_lifecycle.identity import ProcessIdentity, who

    stubborn, leader = spawn_plain(STUBBORN), spawn_plain(PLAIN)
    reaper.extend([stubborn, leader])
    run_id = record_as_run(journal, stubborn.pid)
    far = time.time() + 60
    journal.fire("stop_requested", actor=who("controller"), pid=leader.pid, reason="stop",
                 idempotency_key=f"stop:{run_id}:{stubborn.pid}",
                 data={"target": ProcessIdentity(stubborn.pid, psutil.Process(stubborn.pid).create_time()).to_json(),
                       "intent": "stop", "deadline": far, "requested_by": {"pid": leader.pid}})
    outcome = stop_gateway(journal, platform_named("linux"), timeout=1.5, countdown=Silent())
    assert outcome.joined and outcome.result == "forced" and outcome.state == "killed"
    (first_step, *_) = journal.events(run_id=run_id, triggers=("escalated",))
    from hermes_lifecycle.store import parse_at

    assert parse_at(first_step.at).timestamp() < far - 30, "it waited for the earlier stop's deadline"


SPAWNS_ON_SIGTERM = (
    "import signal, subprocess, sys, time\n"
    "def respawn(*_):\n"
    "    child = subprocess.Popen([sys.executable, '-c', " + repr(STUBBORN) + "], stdout=subprocess.PIPE, text=True)\n"
    "    child.stdout.readline(); print('spawned', child.pid, flush=True)\n"
    "signal.signal(signal.SIGTERM, respawn)\n"
    "print('up', flush=True)\n"
    "while True: time.sleep(1)\n"
)


def test_the_kill_step_reaches_children_born_during_the_grace(journal, reaper):
    """A gateway that answers the terminate step by starting a new worker: the kill takes the
    tree as it is then, not only the members seen before the grace."""
    root = spawn_plain(SPAWNS_ON_SIGTERM)
    reaper.append(root)
    record_as_run(journal, root.pid)
    outcome = stop_gateway(journal, platform_named("linux"), timeout=8, force=True, countdown=Silent())
    late_pid = int(root.stdout.readline().split()[1])
    if _alive(late_pid):  # only when the kill missed it: then the reaper must
        reaper.append(psutil.Process(late_pid))
    assert outcome.result == "forced" and outcome.state == "killed"
    kill_step = journal.events(triggers=("escalated",))[-1].data
    assert kill_step["step"] == "kill_tree" and late_pid in kill_step["pids"]
    assert _gone_soon(late_pid), "a child born during the grace outlived the tree kill"


def _gone_soon(pid: int, patience: float = 30.0) -> bool:
    import time

    until = time.monotonic() + patience
    while time.monotonic() < until:
        if not _alive(pid):
            return True
        time.sleep(0.01)
    return False


def test_the_kill_comes_before_the_stops_deadline_leaving_room_to_confirm_and_record_it(journal, reaper,
                                                                                          monkeypatch):
    """`stop --timeout T` must have ended by T: the kill goes KILL_RESERVE before the budget ends,
    not at its end (a large reserve here, so the order is clear on a loaded machine)."""
    from hermes_lifecycle.controller import escalate as escalate_module, stop as stop_module
    from hermes_lifecycle.store import parse_at

    monkeypatch.setattr(stop_module, "KILL_RESERVE", 0.6)
    stubborn = spawn_plain(STUBBORN)
    reaper.append(stubborn)
    record_as_run(journal, stubborn.pid)
    outcome = stop_gateway(journal, platform_named("linux"), timeout=2.0, countdown=Silent())
    assert outcome.result == "forced" and escalate_module.KILL_RESERVE > 0
    deadline = events_of(journal, "stop_requested")[-1].data["deadline"]
    kill_step = [e for e in events_of(journal, "escalated") if e.data["step"] == "kill_tree"][-1]
    assert parse_at(kill_step.at).timestamp() < deadline - 0.3
