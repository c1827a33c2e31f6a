"""The generated unit under a REAL systemd user manager (a throw-away user, see user_manager.py).

Skipped with the reason where it cannot run (not root, no systemd, PID 1 already systemd).
The tests run in order against one manager and one installed gateway, each leaving the unit
running for the next.  The user's gateway runs from a venv of ``/usr/bin/python3`` in a
world-readable folder (root's own interpreter may be unreadable to the user), with this
worktree pip-installed into it (not editable: what a user would run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from hermes_lifecycle.home import Home
from tests.gateways import ROOT, hold_a_turn_in_flight
from tests.lifecycle.services import user_manager

REASON = user_manager.why_not_available()
if REASON is None and not os.access("/usr/bin/python3", os.X_OK):
    REASON = "needs /usr/bin/python3 for the user's venv"
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"real systemd tier: {REASON}")

USER = "hermes-sd-test"
UNIT = "hermes-gateway-default.service"
SHARED = Path(tempfile.gettempdir()) / "hermes-systemd-tier"
DEPENDENCIES = ["transitions>=0.9,<0.10", "sqlite-utils>=4,<5", "psutil>=5.9", "click>=8.1", "platformdirs>=3"]
DEADLINE = 45.0

#: Apps the user's gateway can import (PYTHONPATH through a drop-in): the loop wedges after
#: ready; the start raises (a gateway that dies at boot, exit 1).
APPS = '''
import asyncio, time
from hermes_lifecycle.runtime.reference import ReferenceGateway

class WedgesLoop(ReferenceGateway):
    async def start(self, ctx):
        ready = await super().start(ctx)
        asyncio.get_running_loop().call_later(1.0, time.sleep, 3600)
        return ready

class DiesAtBoot(ReferenceGateway):
    async def start(self, ctx):
        raise RuntimeError("this gateway dies at boot")
'''


def _user_venv() -> Path:
    """Built once per machine session (deps from the pip cache); the project reinstalled each run."""
    SHARED.mkdir(mode=0o755, exist_ok=True)
    SHARED.chmod(0o755)
    venv = SHARED / "venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *DEPENDENCIES], check=True, capture_output=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(ROOT)],
                   check=True, capture_output=True)
    (SHARED / "apps").mkdir(mode=0o755, exist_ok=True)
    (SHARED / "apps" / "hermes_sd_apps.py").write_text(APPS)
    return python


@pytest.fixture(scope="module")
def tier():
    try:
        python = _user_venv()
    except subprocess.CalledProcessError as exc:  # no index and no cache for the dependencies
        pytest.skip(f"real systemd tier: cannot build the user's venv: {(exc.stderr or b'')[-300:]!r}")
    manager = user_manager.start_user_manager(USER)
    home = manager.home / "hermes"
    try:
        yield Tier(manager, python, home)
    finally:
        manager.stop()


class Tier:
    def __init__(self, manager: user_manager.UserManager, python: Path, home: Path) -> None:
        self.manager = manager
        self.python = python
        self.home = home
        self.drop_ins = manager.home / ".config" / "systemd" / "user" / f"{UNIT}.d"

    def hermes(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        return self.manager.run([str(self.python), "-m", "hermes_lifecycle.cli.main", "gateway", "--home",
                                 str(self.home), *args], timeout=timeout)

    def show(self, *properties: str) -> dict[str, str]:
        return self.manager.show(UNIT, *properties)

    def events(self, *triggers: str) -> list[dict]:
        lines = self.hermes("events", "--json").stdout.splitlines()
        found = [json.loads(line) for line in lines]
        return [e for e in found if not triggers or e["trigger"] in triggers]

    def forensics(self, run_id: str) -> dict:
        answer = self.hermes("forensics", "--run", run_id, "--json")
        assert answer.returncode == 0, answer.stderr
        return json.loads(answer.stdout)

    def wait(self, condition, what: str, timeout: float = DEADLINE):
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}: {self.show(*SHOWN)}")

    def ready_run(self, after: str | None = None) -> dict:
        """The newest ready run (other than ``after``) once systemd says the unit is active."""
        def found():
            if self.show("ActiveState")["ActiveState"] != "active":
                return None
            ready = self.events("ready")
            return ready[-1] if ready and ready[-1]["run_id"] != after else None
        return self.wait(found, "a ready run")

    def drop_in(self, name: str, text: str) -> None:
        self.drop_ins.mkdir(parents=True, exist_ok=True)
        (self.drop_ins / name).write_text(text)
        subprocess.run(["chown", "-R", f"{USER}:", str(self.manager.home / ".config")], check=True)
        assert self.manager.systemctl("daemon-reload").returncode == 0

    def clear_drop_ins(self) -> None:
        for path in self.drop_ins.glob("*.conf"):
            path.unlink()
        self.manager.systemctl("daemon-reload")
        self.manager.systemctl("reset-failed", UNIT)


SHOWN = ("ActiveState", "SubState", "Result", "NRestarts", "ExecMainStatus", "MainPID", "StatusText")


def test_install_starts_the_unit_and_systemctl_start_waited_for_ready(tier):
    installed = tier.hermes("install")
    assert installed.returncode == 0, installed.stderr + installed.stdout
    assert "started by systemd" in installed.stdout and "at boot" in installed.stdout  # the linger note
    shown = tier.show(*SHOWN, "Type", "WatchdogUSec", "NotifyAccess")
    assert shown["ActiveState"] == "active" and shown["Type"] == "notify" and shown["NotifyAccess"] == "main"
    assert shown["StatusText"].startswith("running on ") and shown["WatchdogUSec"] == "1min"
    [ready] = tier.events("ready")
    assert int(shown["MainPID"]) == ready["pid"]


@pytest.mark.skipif(not os.path.exists("/usr/bin/systemd-analyze"), reason="systemd-analyze is not installed")
def test_the_generated_unit_passes_systemd_analyze_verify_with_no_warning(tier):
    unit = tier.manager.home / ".config" / "systemd" / "user" / UNIT
    verified = tier.manager.run(["systemd-analyze", "--user", "verify", str(unit)])
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")


def test_systemctl_stop_is_a_planned_stop_by_the_service_manager_and_the_unit_ends_inactive(tier):
    run = tier.ready_run()
    assert tier.manager.systemctl("stop", UNIT).returncode == 0
    shown = tier.show(*SHOWN)
    assert (shown["ActiveState"], shown["Result"], shown["ExecMainStatus"]) == ("inactive", "success", "0")
    [request] = tier.events("stop_requested")
    assert request["actor"].startswith("service-manager ") and request["data"]["requested_by"]["manager"] == "systemd"
    story = tier.forensics(run["run_id"])
    assert story["ending"] == "planned_stop" and story["exit"]["code"] == 0
    assert story["verdict"].startswith("planned stop by the service manager (systemd), drained in")


def test_systemctl_restart_drains_and_comes_back(tier):
    assert tier.manager.systemctl("start", UNIT).returncode == 0
    first = tier.ready_run()
    assert tier.manager.systemctl("restart", UNIT).returncode == 0
    second = tier.ready_run(after=first["run_id"])
    assert tier.forensics(first["run_id"])["ending"] == "planned_stop"
    assert int(tier.show("MainPID")["MainPID"]) == second["pid"]


def test_a_drain_longer_than_the_stop_timeout_is_not_cut_short(tier):
    """EXTEND_TIMEOUT_USEC: a drop-in shortened TimeoutStopSec to 2 s; a turn works 5 s."""
    tier.drop_in("50-short-stop.conf", "[Service]\nTimeoutStopSec=2\n")
    try:
        run = tier.ready_run()
        client, _session = hold_a_turn_in_flight(run["data"]["port"], work_ms=5000)
        began = time.monotonic()
        assert tier.manager.systemctl("stop", UNIT).returncode == 0
        shown = tier.show(*SHOWN)
        assert (shown["ActiveState"], shown["Result"]) == ("inactive", "success")
        assert time.monotonic() - began > 4  # the stop waited for the turn, past the 2 s timeout
        reply = client.read()
        client.close()
        assert reply["ok"] and reply["reply"] == "echo: hello"  # the turn in flight was finished
        story = tier.forensics(run["run_id"])
        assert story["drain"]["completed"] and not story["drain"]["timed_out"] and story["exit"]["code"] == 0
    finally:
        tier.clear_drop_ins()
    assert tier.manager.systemctl("start", UNIT).returncode == 0


def test_hermes_restart_and_stop_go_through_the_unit(tier):
    first = tier.ready_run()
    restarted = tier.hermes("restart")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    second = tier.ready_run(after=first["run_id"])
    assert tier.forensics(first["run_id"])["ending"] == "planned_restart"
    assert tier.show("Result")["Result"] == "success"  # exit 75: SuccessExitStatus, no failure
    stopped = tier.hermes("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    shown = tier.show(*SHOWN)
    assert (shown["ActiveState"], shown["Result"]) == ("inactive", "success")
    assert tier.forensics(second["run_id"])["ending"] == "planned_stop"
    assert tier.manager.systemctl("start", UNIT).returncode == 0


def test_a_sigkill_is_revived_and_told_as_such(tier):
    run = tier.ready_run()
    before = int(tier.show("NRestarts")["NRestarts"])
    os.kill(run["pid"], signal.SIGKILL)
    tier.ready_run(after=run["run_id"])
    assert int(tier.show("NRestarts")["NRestarts"]) == before + 1
    story = tier.forensics(run["run_id"])
    assert story["ending"] == "crashed" and story["exit"]["signal"] == "SIGKILL"
    assert story["exit"]["service_result"] == "signal"


def test_a_wedged_loop_is_restarted_by_the_watchdog(tier):
    tier.drop_in("50-wedge.conf", "[Service]\nWatchdogSec=2\n"
                 f"Environment=PYTHONPATH={SHARED / 'apps'}\n"
                 "ExecStart=\n"
                 f"ExecStart={tier.python} -m hermes_lifecycle.cli.main gateway --home {tier.home} "
                 "--profile default run --app hermes_sd_apps:WedgesLoop\n")
    try:
        assert tier.manager.systemctl("restart", UNIT).returncode == 0
        wedged = tier.ready_run()
        before = int(tier.show("NRestarts")["NRestarts"])
        tier.ready_run(after=wedged["run_id"])  # systemd aborted it and started the next
        assert int(tier.show("NRestarts")["NRestarts"]) == before + 1
        story = tier.forensics(wedged["run_id"])
        assert story["exit"]["service_result"] == "watchdog" and story["exit"]["signal"] == "SIGABRT"
        assert story["verdict"].startswith("watchdog: the loop stopped answering")
        assert "; its last heartbeat was " in story["verdict"]  # when the wedged loop last ticked
    finally:
        tier.clear_drop_ins()
    assert tier.manager.systemctl("restart", UNIT).returncode == 0
    tier.ready_run()


def test_exit_78_a_fatal_configuration_is_not_revived(tier):
    tier.ready_run()
    config = Home.resolve(tier.home).config_file
    config.write_text('{"restart_drain_timeout": "not a number"}')
    try:
        tier.manager.systemctl("restart", UNIT)
        shown = tier.wait(lambda: (lambda s: s if s["ActiveState"] == "failed" else None)(tier.show(*SHOWN)),
                          "the unit to fail")
        assert shown["ExecMainStatus"] == "78" and shown["Result"] == "exit-code"
        assert shown["SubState"] == "failed"  # not auto-restart: RestartPreventExitStatus=78
        assert tier.events("start_failed")[-1]["data"]["exit_code"] == 78
    finally:
        config.unlink()
        tier.manager.systemctl("reset-failed", UNIT)


def test_a_boot_loop_is_stopped_by_the_start_limit(tier):
    limits = tier.show("StartLimitBurst", "StartLimitIntervalUSec")
    assert limits == {"StartLimitBurst": "10", "StartLimitIntervalUSec": "10min"}  # systemd's own: 5 in 10 s
    tier.drop_in("50-boot-loop.conf", "[Unit]\nStartLimitIntervalSec=60\nStartLimitBurst=3\n"
                 "[Service]\nRestartSec=100ms\n"
                 f"Environment=PYTHONPATH={SHARED / 'apps'}\n"
                 "ExecStart=\n"
                 f"ExecStart={tier.python} -m hermes_lifecycle.cli.main gateway --home {tier.home} "
                 "--profile default run --app hermes_sd_apps:DiesAtBoot\n")
    try:
        tier.manager.systemctl("start", UNIT)

        def gave_up():
            shown = tier.show(*SHOWN)
            return shown if shown["ActiveState"] == "failed" and shown["SubState"] == "failed" else None
        shown = tier.wait(gave_up, "the breaker to stop the loop")
        # failed with no restart job pending: systemd gave up after the burst of three starts
        died = [e for e in tier.events("start_failed") if "dies at boot" in (e["reason"] or "")]
        assert len(died) == 3 and int(shown["NRestarts"]) <= 3
    finally:
        tier.clear_drop_ins()


def test_uninstall_stops_the_gateway_in_order_and_removes_the_unit(tier):
    assert tier.manager.systemctl("start", UNIT).returncode == 0
    run = tier.ready_run()
    removed = tier.hermes("uninstall")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not (tier.manager.home / ".config" / "systemd" / "user" / UNIT).exists()
    assert tier.forensics(run["run_id"])["ending"] == "planned_stop"
