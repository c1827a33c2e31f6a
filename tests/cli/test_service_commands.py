"""`install`, `uninstall`, and start/stop/restart/status once a service is installed.

Linux runs the real CLI in a subprocess with a stand-in systemd on PATH (real gateways,
real signals); Windows and macOS run the CLI in-process with their platform built on
this machine and a recording runner.  HOME, XDG_CONFIG_HOME and APPDATA always point
into a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hermes_lifecycle import platforms
from hermes_lifecycle.cli.main import hermes
from hermes_lifecycle.home import Home
from hermes_lifecycle.platforms import platform_named
from hermes_lifecycle.platforms.runner import CommandResult
from hermes_lifecycle.services import actions
from hermes_lifecycle.services.base import InstallPlan
from tests.cli.fake_systemd import calls, gateway_pid
from tests.conftest import hermes_env, run_hermes, start_detached
from tests.gateways import events, state, wait_for
from tests.lifecycle.services.fakes import FakeLaunchctl, FakeSchtasks

UNIT = "hermes-gateway-default.service"


def hermes_with(env: dict[str, str], home_dir: Path, *args: str):
    return run_hermes(home_dir, *args, env=hermes_env(**env))


def systemctl_verbs(env) -> list[str]:
    return [c[2] for c in calls(env) if c[0] == "systemctl" and len(c) > 2]  # not `systemctl --version`


def test_install_starts_through_systemd_and_stop_drains_before_the_managers_stop(home_dir, systemd_env):
    done = hermes_with(systemd_env, home_dir, "install")
    assert done.returncode == 0, done.stderr
    assert "installed" in done.stdout and "started by systemd: pid" in done.stdout
    assert systemctl_verbs(systemd_env) == ["is-enabled", "daemon-reload", "enable", "is-active", "start"]
    assert state(home_dir).state == "running"  # install waited for `ready` before it said so
    first_run = state(home_dir).run_id

    stopped = hermes_with(systemd_env, home_dir, "stop")
    assert stopped.returncode == 0, stopped.stderr
    history = [e.trigger for e in events(home_dir, run_id=first_run)]
    assert history.index("stop_requested") < history.index("drain") < history.index("drained")
    asked = events(home_dir, "service_requested")
    assert [e.data["action"] for e in asked] == ["stop"] and asked[0].data["ok"]
    assert asked[0].seq > events(home_dir, "drained")[-1].seq  # the manager's stop comes after the drain
    assert systemctl_verbs(systemd_env)[-1] == "stop"
    assert "disable" not in systemctl_verbs(systemd_env)  # stop never unregisters

    started = hermes_with(systemd_env, home_dir, "start", "--json")
    assert started.returncode == 0, started.stderr
    document = json.loads(started.stdout)
    assert document["result"] == "started" and document["run_id"] != first_run
    assert document["pid"] == gateway_pid(systemd_env)  # systemd's process, not a detached spawn
    assert [e.data["action"] for e in events(home_dir, "service_requested")] == ["stop", "start"]


def test_a_cli_py_in_the_users_home_does_not_replace_the_gateway_the_unit_runs(home_dir, systemd_env):
    """systemd starts user units in the user's home, first on `python -m`'s sys.path."""
    (Path(systemd_env["HOME"]) / "hermes_lifecycle.cli.py").write_text("raise SystemExit('the wrong cli module')\n")
    done = hermes_with(systemd_env, home_dir, "install", "--timeout", "30")
    assert done.returncode == 0, done.stdout + done.stderr
    assert state(home_dir).state == "running"


def test_install_reports_a_gateway_that_died_before_ready_instead_of_claiming_it_started(home_dir, systemd_env):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        Home.resolve(home_dir).ensure_private_dir()
        (home_dir / "config.json").write_text(json.dumps({"port": taken.getsockname()[1]}))
        done = hermes_with(systemd_env, home_dir, "install", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["changed"] is True and document["started"] is True
    assert document["start"]["result"] == "failed" and "before it was ready" in document["start"]["message"]
    assert events(home_dir, "start_failed")


def test_install_does_not_start_a_second_gateway_beside_a_running_one(home_dir, systemd_env, reaper):
    running = start_detached(home_dir)
    done = hermes_with(systemd_env, home_dir, "install")
    assert done.returncode == 0, done.stderr
    assert f"already running (pid {running['pid']}, running) outside the service" in done.stdout and "hermes-lifecycle restart" in done.stdout
    assert "start" not in systemctl_verbs(systemd_env) and gateway_pid(systemd_env) is None
    assert state(home_dir).run_id == running["run_id"]
    assert events(home_dir, "service_installed")[-1].data["plan"]["start_now"] is True  # the plan as decided


def test_restart_and_uninstall_go_through_systemd_and_keep_the_log_whole(home_dir, systemd_env):
    assert hermes_with(systemd_env, home_dir, "install").returncode == 0
    wait_for(lambda: state(home_dir).state == "running", what="the gateway systemd started to be ready")
    old_run = state(home_dir).run_id

    restarted = hermes_with(systemd_env, home_dir, "restart")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    request = events(home_dir, "stop_requested", run_id=old_run)[-1]
    assert request.data["intent"] == "restart"
    old_history = [e.trigger for e in events(home_dir, run_id=old_run)]
    assert old_history.index("drain") < old_history.index("drained") < old_history.index("service_requested")
    new = state(home_dir)
    assert new.state == "running" and new.run_id != old_run and new.pid == gateway_pid(systemd_env)

    removed = hermes_with(systemd_env, home_dir, "uninstall")
    assert removed.returncode == 0, removed.stderr
    assert f"removed systemd-user-unit: {systemd_env['XDG_CONFIG_HOME']}/systemd/user/{UNIT}" in removed.stdout
    assert state(home_dir).state == "stopped"
    last_run = [e.trigger for e in events(home_dir, run_id=new.run_id)]
    assert last_run.index("stop_requested") < last_run.index("drained") < last_run.index("service_requested") \
        < last_run.index("service_uninstalled")
    assert systemctl_verbs(systemd_env)[-3:] == ["stop", "disable", "daemon-reload"]
    assert not (Path(systemd_env["XDG_CONFIG_HOME"]) / "systemd" / "user" / UNIT).exists()
    assert [e.trigger for e in events(home_dir, "service_installed", "service_uninstalled")] == [
        "service_installed", "service_uninstalled"]


def test_install_twice_says_nothing_changed_and_records_one_event(home_dir, systemd_env):
    assert hermes_with(systemd_env, home_dir, "install", "--no-start").returncode == 0
    again = hermes_with(systemd_env, home_dir, "install", "--no-start", "--json")
    assert again.returncode == 0, again.stderr
    document = json.loads(again.stdout)
    assert document["changed"] is False and document["message"].startswith("already installed")
    assert document["plan"]["start_now"] is False and document["track"] == "systemd-user-unit"
    assert len(events(home_dir, "service_installed")) == 1
    assert "start" not in systemctl_verbs(systemd_env)


def test_uninstall_from_another_home_leaves_the_installed_unit_alone(home_dir, tmp_path, systemd_env):
    assert hermes_with(systemd_env, home_dir, "install", "--no-start").returncode == 0
    other = hermes_with(systemd_env, tmp_path / "scratch-home", "uninstall")
    assert other.returncode == 0 and "nothing to uninstall" in other.stdout
    assert (Path(systemd_env["XDG_CONFIG_HOME"]) / "systemd" / "user" / UNIT).exists()


def test_status_shows_the_service_line_and_the_linger_warning(home_dir, systemd_env):
    assert hermes_with(systemd_env, home_dir, "install", "--no-start").returncode == 0
    out = hermes_with({**systemd_env, "FAKE_LINGER": "no"}, home_dir, "status")
    assert out.returncode == 3, out.stderr  # not running
    assert f"service: systemd-user-unit {systemd_env['XDG_CONFIG_HOME']}/systemd/user/{UNIT} " \
           "(not running, starts at logon)" in out.stdout
    assert "loginctl enable-linger alice" in out.stdout
    document = json.loads(hermes_with(systemd_env, home_dir, "status", "--json").stdout)
    assert document["service"]["installed"] is True and document["service"]["track"] == "systemd-user-unit"


def test_a_recorded_plan_is_executed_as_recorded(home_dir, tmp_path, systemd_env):
    home = Home.resolve(home_dir)
    plan = InstallPlan.for_home(home, drain_timeout=90.0, autostart=False, start_now=False)
    path = plan.save(tmp_path / "handoff.plan.json")
    done = hermes_with(systemd_env, home_dir, "install", "--plan", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["plan"] == plan.to_json()
    assert systemctl_verbs(systemd_env) == ["is-enabled", "daemon-reload", "disable"]
    unit = (Path(systemd_env["XDG_CONFIG_HOME"]) / "systemd" / "user" / UNIT).read_text()
    assert "TimeoutStopSec=105" in unit  # from the plan's drain timeout, not re-read


def test_a_plan_carries_its_home_and_profile_across_a_handoff_without_flags(home_dir, tmp_path, systemd_env):
    """The process after an elevation handoff gets the plan, not the flags: it must not fall
    back to the default home and profile (the profile once got lost exactly there)."""
    home = Home.resolve(home_dir, "night-shift")
    path = InstallPlan.for_home(home, drain_timeout=30.0, start_now=False).save(tmp_path / "handoff.plan.json")
    argv = [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "install", "--plan", str(path), "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=hermes_env(**systemd_env))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["profile"] == "night-shift"
    assert document["definition"].endswith("/hermes-gateway-night-shift.service")
    assert events(home_dir, "service_installed", profile="night-shift")
    other = hermes_with(systemd_env, home_dir, "--profile", "other", "install", "--plan", str(path))
    assert other.returncode == 2 and "is for home" in other.stderr  # a contradicting flag is refused


def test_plan_and_flags_together_are_a_usage_error(home_dir, tmp_path, systemd_env):
    path = InstallPlan.for_home(Home.resolve(home_dir), drain_timeout=30.0).save(tmp_path / "p.json")
    done = hermes_with(systemd_env, home_dir, "install", "--plan", str(path), "--no-start")
    assert done.returncode == 2 and "--plan carries every decision" in done.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"plan_version": 1, "profile": "default"}')
    bad = hermes_with(systemd_env, home_dir, "install", "--plan", str(broken))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and calls(systemd_env) == []


# -- Windows and macOS: the same commands, the platform built here with a recording runner --

@pytest.fixture
def account(tmp_path, monkeypatch):
    root = tmp_path / "account"
    root.mkdir()
    for name, value in {"HOME": str(root), "APPDATA": str(root / "AppData" / "Roaming"),
                        "USERNAME": "alice", "USERDOMAIN": "DESKTOP-1"}.items():
        monkeypatch.setenv(name, value)
    return root


def invoke_on(monkeypatch, platform, home_dir, *args):
    monkeypatch.setattr(actions, "current_platform", lambda: platform)
    monkeypatch.setattr(platforms, "current_platform", lambda: platform)
    return CliRunner().invoke(hermes, ["gateway", "--home", str(home_dir), *args])


def test_windows_install_reports_the_startup_fallback_and_why(monkeypatch, home_dir, account):
    fake = FakeSchtasks(create_result=CommandResult(("schtasks",), 1, "", "ERROR: Access is denied.\n"))
    platform = platform_named("windows", runner=fake.runner())
    result = invoke_on(monkeypatch, platform, home_dir, "install", "--no-start", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["track"] == "startup-folder" and "Access is denied" in document["fallback_reason"]
    assert document["definition"].endswith("Startup/hermes-gateway-default.cmd")
    removed = invoke_on(monkeypatch, platform, home_dir, "uninstall")
    assert removed.exit_code == 0 and "removed startup-folder" in removed.output


def test_macos_install_failure_of_launchctl_is_an_error_with_its_exit_code(monkeypatch, home_dir, account):
    fake = FakeLaunchctl(bootstrap_result=CommandResult(("launchctl",), 5, "", "Bootstrap failed: 5: Input/output error\n"))
    runner = fake.runner()
    result = invoke_on(monkeypatch, platform_named("macos", runner=runner), home_dir, "install")
    assert result.exit_code == 1
    assert "launchd refused the agent" in result.output and "exited 5" in result.output
    assert [c[1] for c in runner.calls] == ["bootstrap"]  # no kickstart, no detached spawn behind its back


def test_uninstall_exits_1_when_the_gateway_could_not_be_stopped_first(monkeypatch, home_dir, account, reaper):
    """The definitions go (as asked), but a failed stop is not papered over with exit 0."""
    start_detached(home_dir)
    fake = FakeSchtasks()
    runner = fake.runner()
    platform = platform_named("windows", runner=runner)
    assert invoke_on(monkeypatch, platform, home_dir, "install", "--no-start").exit_code == 0
    fake.running.add("HermesGateway-default")
    runner.responses[("schtasks", "/End")] = CommandResult(("schtasks",), 1, "", "ERROR: Access is denied.\n")
    result = invoke_on(monkeypatch, platform, home_dir, "uninstall", "--json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["stopped"]["result"] == "failed" and "Access is denied" in document["stopped"]["message"]
    assert [r["track"] for r in document["removed"]] == ["scheduled-task"]

