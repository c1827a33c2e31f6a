"""Our runtime hosting hermes-agent's real ``GatewayRunner`` (issue 9, findings 4 and 5).

Real processes only: our ``run`` hosting the runner, hermes-agent's own ``hermes``
command (its ``gateway status``, ``run`` and ``stop``), and hermes-agent's own
``SessionStore`` read in a separate process.  No platforms are configured and nothing
touches the network.  Skipped, with the reason, when hermes-agent 0.19.0 is not installed
in this Python (``pip install hermes-agent==0.19.0``).
"""

from __future__ import annotations

import importlib.metadata
import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_hermes
from tests.gateways import DEADLINE, ROOT, events, hermes_argv, hermes_env, wait_for
from tests.hermes_apps import RELEASE_TURN, SESSION_KEY

APP = "hermes_lifecycle.runtime.hermes_agent:create"
HERMES = Path(sys.executable).parent / "hermes"


def _installed() -> str | None:
    try:
        return importlib.metadata.version("hermes-agent")
    except importlib.metadata.PackageNotFoundError:
        return None


needs_hermes_agent = pytest.mark.skipif(
    _installed() != "0.19.0" or not HERMES.exists(),
    reason=f"hermes-agent==0.19.0 is not installed beside this Python (found {_installed()}); "
           "pip install hermes-agent==0.19.0 to run this tier")

# hermes-agent's own session store, read in its own process: what hermes-agent itself sees.
STORE_PROBE = """
import json, sys
from gateway.config import GatewayConfig
from gateway.session import SessionStore
config = GatewayConfig()
store = SessionStore(config.sessions_dir, config)
entry = {e.session_key: e for e in store.list_sessions()}.get(sys.argv[1])
print(json.dumps(None if entry is None else {"resume_pending": entry.resume_pending,
                                               "resume_reason": entry.resume_reason}))
"""


def ha_env(home_dir: Path) -> dict[str, str]:
    return hermes_env(HERMES_HOME=str(home_dir), TIRITH_ENABLED="0")


def hermes_agent_entry(home_dir: Path, key: str) -> dict | None:
    done = subprocess.run([sys.executable, "-c", STORE_PROBE, key], capture_output=True, text=True,
                          env=ha_env(home_dir), cwd=ROOT, timeout=DEADLINE * 2)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def hermes_agent(home_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """hermes-agent's own ``hermes ARGS`` with ``HERMES_HOME`` set to the test home."""
    return subprocess.run([str(HERMES), *args], capture_output=True, text=True, env=ha_env(home_dir),
                          cwd=ROOT, timeout=DEADLINE * 3, stdin=subprocess.DEVNULL)


def _ready_event(home_dir: Path, pid: int):
    found = [e for e in events(home_dir, "ready") if e.pid == pid]
    return found[-1] if found else None


def wait_ready(home_dir: Path, proc: subprocess.Popen):
    def ready():
        if proc.poll() is not None:
            raise AssertionError(f"gateway exited {proc.returncode} before ready: {proc.stderr.read()}")
        return home_dir.joinpath("state.db").exists() and _ready_event(home_dir, proc.pid)
    return wait_for(ready, DEADLINE * 2, "ready")


@pytest.fixture
def hosted_as_hermes_plugin(home_dir: Path):
    """Our runtime hosting the runner, started as ``hermes lifecycle gateway run`` (our real plugin,
    entry point ``lifecycle``, enabled in the home's config.yaml): the command line hermes-agent
    knows its gateway by (``hermes ... gateway run``)."""
    home_dir.mkdir(parents=True)
    (home_dir / "config.yaml").write_text("plugins:\n  enabled: [lifecycle]\n")
    proc = subprocess.Popen([str(HERMES), "lifecycle", "gateway", "run", "--app", APP, "--drain-timeout", "20"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ha_env(home_dir), cwd=ROOT)
    try:
        wait_ready(home_dir, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(DEADLINE)
        proc.stdout.close()
        proc.stderr.close()


def test_another_hermes_agent_version_is_a_config_error(tmp_path, home_dir):
    """The pin: a hermes-agent other than 0.19.0 on the path fails the start, exit 78, one line."""
    site = tmp_path / "site"
    meta = site / "hermes_agent-0.18.0.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: hermes-agent\nVersion: 0.18.0\n")
    done = subprocess.run(hermes_argv(home_dir, "run", "--app", APP), capture_output=True, text=True,
                          env=hermes_env(PYTHONPATH=f"{site}:{ROOT}"), cwd=ROOT, timeout=DEADLINE * 2,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 78, done.stderr
    failed = events(home_dir, "start_failed")[-1]
    assert "hermes-agent 0.18.0 is installed" in failed.reason and "0.19.0" in failed.reason
    assert "\n" not in failed.reason
    assert not (home_dir / "gateway.pid").exists()


@needs_hermes_agent
def test_held_turn_drains_then_resumes_with_hermes_agent_store_marked_and_cleared(home_dir, gateways):
    """Finding 4: the drain marks the session in hermes-agent's own SessionStore too; the next boot clears it."""
    gateway = gateways(home_dir, "--app", "tests.hermes_apps:HeldTurn", "--drain-timeout", "30")
    ready = wait_for(lambda: gateway.run_event("ready") or (gateway.proc.poll() is not None and
                                                            AssertionError(gateway.proc.stderr.read())),
                     DEADLINE * 2, "ready")
    assert not isinstance(ready, AssertionError), ready
    assert ready.data["held_turn"] == SESSION_KEY and ready.data["hermes_agent"] == "0.19.0"
    runtime = json.loads((home_dir / "gateway_state.json").read_text())
    assert runtime["active_agents"] == 1 and runtime["pid"] == gateway.pid  # hermes-agent's own count

    stop = subprocess.Popen(hermes_argv(home_dir, "stop"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=hermes_env(), cwd=ROOT)
    marked = wait_for(lambda: gateway.run_event("resume_pending_marked"), what="resume_pending_marked")
    assert hermes_agent_entry(home_dir, SESSION_KEY)["resume_pending"] is True
    assert marked.data["sessions"] == [SESSION_KEY]
    assert marked.data["app"]["hermes_agent_session_store"]["marked"] == [SESSION_KEY]
    assert gateway.proc.poll() is None  # still draining: the held turn is in flight

    (home_dir / RELEASE_TURN).touch()
    assert stop.wait(DEADLINE * 2) == 0, stop.stderr.read()
    stop.stdout.close()
    stop.stderr.close()
    assert gateway.wait_exit() == 0
    assert not [e for e in events(home_dir, "drain_timeout") if e.pid == gateway.pid]
    assert hermes_agent_entry(home_dir, SESSION_KEY)["resume_pending"] is True  # survives the stop

    again = gateways(home_dir, "--app", APP)
    wait_for(lambda: again.run_event("ready"), DEADLINE * 2, "second ready")
    resumed = [e for e in events(home_dir, "session_resumed") if e.pid == again.pid]
    assert [e.data["session"] for e in resumed] == [SESSION_KEY]
    assert hermes_agent_entry(home_dir, SESSION_KEY)["resume_pending"] is False
    assert run_hermes(home_dir, "stop").returncode == 0
    assert again.wait_exit() == 0


@needs_hermes_agent
def test_hermes_agent_status_sees_our_gateway_and_its_run_refuses_a_second(home_dir, hosted_as_hermes_plugin):
    """Finding 5: hermes-agent's own status and run see the gateway our runtime hosts."""
    pid = hosted_as_hermes_plugin.pid
    record = json.loads((home_dir / "gateway.pid").read_text())
    assert record["pid"] == pid and record["kind"] == "hermes-gateway"
    assert _ready_event(home_dir, pid).data["hermes_agent_records"]["seen_by_hermes_agent"] is True

    status = hermes_agent(home_dir, "gateway", "status")
    assert f"Gateway is running (PID: {pid})" in status.stdout, status.stdout + status.stderr

    second = hermes_agent(home_dir, "gateway", "run")
    assert second.returncode == 1
    assert f"Another gateway instance is already running (PID {pid})" in second.stdout + second.stderr
    assert hosted_as_hermes_plugin.poll() is None


@needs_hermes_agent
def test_hermes_agent_stop_is_recorded_as_a_planned_stop_naming_the_stopper(home_dir, hosted_as_hermes_plugin):
    """Finding 5: its ``hermes gateway stop`` (planned-stop marker, then SIGTERM) drains us as a planned stop."""
    pid = hosted_as_hermes_plugin.pid
    done = hermes_agent(home_dir, "gateway", "stop")
    assert done.returncode == 0, done.stdout + done.stderr
    assert hosted_as_hermes_plugin.wait(DEADLINE) == 0  # planned: not the unplanned signal's 1
    asked = [e for e in events(home_dir, "stop_requested") if e.data["target"]["pid"] == pid]
    assert len(asked) == 1
    stopper = asked[0].data["requested_by"]["pid"]
    assert isinstance(stopper, int) and stopper not in (pid, 0)
    assert asked[0].actor.startswith("hermes-agent gateway stop ") and asked[0].actor.endswith(f" pid {stopper}")
    argv = asked[0].data["requested_by"]["argv"]  # the stopper, read while it waited for us
    assert Path(argv[1]).name == "hermes" and argv[2:] == ["gateway", "stop"], argv
    drain = [e for e in events(home_dir, "drain") if e.pid == pid][-1]
    assert drain.data["cause"] == "stop_request" and drain.data["request_seq"] == asked[0].seq
    drained = [e for e in events(home_dir, "drained") if e.pid == pid][-1]
    assert drained.data["exit_code"] == 0
    assert not (home_dir / "gateway.pid").exists()


@needs_hermes_agent
def test_our_start_and_run_refuse_while_hermes_agents_own_gateway_runs(home_dir, reaper):
    """The converse: hermes-agent's own ``hermes gateway run`` holds the home; ours starts nothing."""
    home_dir.mkdir(parents=True)
    theirs = subprocess.Popen([str(HERMES), "gateway", "run"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ha_env(home_dir), cwd=ROOT)
    reaper.append(theirs)
    wait_for(lambda: (home_dir / "gateway.pid").exists() and theirs.poll() is None, DEADLINE * 2,
             "hermes-agent's gateway.pid")
    for command in (["start"], ["run", "--app", APP]):
        done = run_hermes(home_dir, *command)
        assert done.returncode != 0, command
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "hermes-agent's own gateway is running" in lines[0], done.stderr
        assert f"pid {theirs.pid}" in lines[0]
    with sqlite3.connect(home_dir / "state.db") as db:  # nothing recorded (no `start`), whatever our tables' names
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        ours = tables & {"events", "lifecycle_events"}
        assert all(db.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == 0 for name in ours)
    assert theirs.poll() is None


@needs_hermes_agent
def test_a_sigterm_without_hermes_agents_marker_stays_unplanned(home_dir, gateways):
    """Only hermes-agent's marker naming this process makes a bare signal planned: any other SIGTERM
    still drains as unplanned (exit 1, revived by a service manager), with no stop request invented."""
    gateway = gateways(home_dir, "--app", APP)
    wait_for(lambda: gateway.run_event("ready"), DEADLINE * 2, "ready")
    (home_dir / ".gateway-planned-stop.json").write_text(json.dumps(
        {"target_pid": gateway.pid + 100000, "target_start_time": None, "stopper_pid": 1,
         "written_at": "2026-01-01T00:00:00+00:00"}))  # someone else's, and stale
    gateway.proc.send_signal(signal.SIGTERM)
    assert gateway.wait_exit() == 1
    assert not [e for e in events(home_dir, "stop_requested")]
    assert [e for e in events(home_dir, "drained") if e.pid == gateway.pid][-1].data["exit_code"] == 1
