"""launchd agents, driven through the runner seam with a stand-in ``launchctl``."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from hermes_lifecycle.errors import ServiceError
from hermes_lifecycle.home import Home
from hermes_lifecycle.platforms.runner import CommandResult
from hermes_lifecycle.services.base import InstallPlan
from hermes_lifecycle.services.launchd import LaunchdAgentManager
from tests.lifecycle.services.fakes import FakeLaunchctl

INTERPRETER = "/Library/Frameworks/Python.framework/Versions/3.12/bin/python3"
LABEL = "org.hermes.gateway.default"
TARGET = f"gui/501/{LABEL}"


def make(home, user_env, fake: FakeLaunchctl | None = None):
    fake = fake or FakeLaunchctl()
    runner = fake.runner()
    return LaunchdAgentManager(home, runner, user_env, uid=501), runner, fake


def plan_for(home, **choices) -> InstallPlan:
    return InstallPlan.for_home(home, drain_timeout=choices.pop("drain_timeout", 30.0),
                                interpreter=choices.pop("interpreter", INTERPRETER), **choices)


def test_install_writes_an_agent_plist_that_keeps_alive_only_after_unsuccessful_exit(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    outcome = manager.install(plan_for(gateway_home))
    path = Path(user_env["HOME"]) / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    assert outcome.changed and outcome.started and outcome.definition == str(path)
    agent = plistlib.loads(path.read_bytes())
    assert agent["Label"] == LABEL
    assert agent["ProgramArguments"] == [INTERPRETER, "-m", "hermes_lifecycle.cli.main", "gateway", "--home",
                                         str(gateway_home.root), "--profile", "default", "run"]
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["RunAtLoad"] is True
    assert agent["ExitTimeOut"] > 30
    assert agent["StandardOutPath"] == agent["StandardErrorPath"] == str(gateway_home.stdio_log)
    assert runner.calls == [
        ("launchctl", "bootstrap", "gui/501", str(path)),
        ("launchctl", "print", TARGET),
    ]
    assert TARGET in fake.running


def test_no_autostart_sets_run_at_load_false_and_starts_when_starting_now(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    outcome = manager.install(plan_for(gateway_home, autostart=False))
    assert plistlib.loads(Path(outcome.definition).read_bytes())["RunAtLoad"] is False
    assert ("launchctl", "bootstrap", "gui/501", outcome.definition) in runner.calls
    assert TARGET in fake.running and outcome.started


def test_no_autostart_keeps_the_agent_out_of_the_login_load(gateway_home, user_env):
    """launchd runs a KeepAlive.SuccessfulExit agent whenever it loads it, RunAtLoad or not:
    an agent that must not start at login cannot sit in ~/Library/LaunchAgents."""
    manager, runner, fake = make(gateway_home, user_env)
    outcome = manager.install(plan_for(gateway_home, autostart=False, start_now=False))
    assert outcome.changed and not outcome.started and runner.calls == []
    fake.log_in(Path(user_env["HOME"]))
    assert fake.running == set() and manager.is_installed()
    assert manager.describe(drain_timeout=30.0).autostart is False
    manager.start()  # `hermes gateway start` still works: it loads the agent from the home
    assert runner.calls[-2:] == [("launchctl", "bootstrap", "gui/501", outcome.definition),
                                 ("launchctl", "kickstart", TARGET)]
    assert TARGET in fake.running and outcome.definition.startswith(str(gateway_home.root))


def test_switching_autostart_moves_the_agent_and_leaves_one_definition(gateway_home, user_env):
    manager, _, fake = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home, start_now=False))
    on_demand = manager.install(plan_for(gateway_home, autostart=False, start_now=False))
    assert on_demand.changed and not manager.plist_path.exists()
    at_login = manager.install(plan_for(gateway_home, start_now=False))
    assert at_login.changed and manager.plist_path.exists() and not Path(on_demand.definition).exists()
    assert [r.definition for r in manager.uninstall()] == [str(manager.plist_path)]
    assert not manager.is_installed()


def test_no_start_writes_the_agent_without_loading_it(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    outcome = manager.install(plan_for(gateway_home, start_now=False))
    assert outcome.changed and not outcome.started and manager.plist_path.exists()
    assert runner.calls == [] and fake.loaded == set()


def test_installing_twice_is_a_no_op_that_says_so(gateway_home, user_env):
    manager, runner, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    runner.calls.clear()
    outcome = manager.install(plan_for(gateway_home))
    assert not outcome.changed and outcome.message.startswith("already installed")
    assert runner.calls == [("launchctl", "print", TARGET)]


def test_a_stale_agent_is_booted_out_and_replaced(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home, interpreter="/usr/bin/python3"))
    runner.calls.clear()
    outcome = manager.install(plan_for(gateway_home))
    assert outcome.changed and outcome.replaced == "it ran another interpreter"
    assert plistlib.loads(manager.plist_path.read_bytes())["ProgramArguments"][0] == INTERPRETER
    assert runner.calls[:3] == [("launchctl", "print", TARGET), ("launchctl", "bootout", TARGET),
                                ("launchctl", "bootstrap", "gui/501", str(manager.plist_path))]


def test_bootstrap_failure_is_reported_never_replaced_by_a_detached_start(gateway_home, user_env):
    fake = FakeLaunchctl(bootstrap_result=CommandResult(("launchctl",), 5, "", "Bootstrap failed: 5: Input/output error\n"))
    manager, runner, _ = make(gateway_home, user_env, fake)
    with pytest.raises(ServiceError, match=r"exited 5: Bootstrap failed: 5: Input/output error"):
        manager.install(plan_for(gateway_home))
    assert [c[1] for c in runner.calls] == ["bootstrap"]  # nothing else was tried behind the user's back


def test_stop_signals_without_booting_out_so_start_works_after_stop(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    runner.calls.clear()
    manager.stop()
    assert ("launchctl", "kill", "SIGTERM", TARGET) in runner.calls
    assert not any(c[1] == "bootout" for c in runner.calls)
    assert TARGET in fake.loaded and not manager.is_running()
    manager.start()
    assert runner.calls[-1] == ("launchctl", "kickstart", TARGET) and manager.is_running()


def test_uninstall_boots_out_and_removes_only_this_homes_agent(gateway_home, user_env, tmp_path):
    production = Home.resolve(tmp_path / "production")
    manager, runner, fake = make(production, user_env)
    manager.install(plan_for(production))
    temporary, temp_runner, _ = make(gateway_home, user_env, fake)
    assert temporary.uninstall() == [] and manager.plist_path.exists()
    assert not any(c[1] == "bootout" for c in temp_runner.calls)
    assert [r.track for r in manager.uninstall()] == ["launchd-agent"]
    assert not manager.plist_path.exists() and fake.loaded == set()


def test_status_describes_the_agent_and_flags_a_short_exit_timeout(gateway_home, user_env):
    manager, _, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    status = manager.describe(drain_timeout=30.0)
    assert (status.track, status.installed, status.running, status.autostart) == ("launchd-agent", True, True, True)
    assert status.warnings == [] and f"launchctl print {TARGET}" in status.hints[0]
    agent = plistlib.loads(manager.plist_path.read_bytes())
    manager.plist_path.write_bytes(plistlib.dumps({**agent, "ExitTimeOut": 20}))
    assert "ExitTimeOut=20s" in manager.describe(drain_timeout=30.0).warnings[0]


def test_the_agent_tells_the_gateway_it_runs_under_launchd_and_is_not_throttled_as_background(
        gateway_home, user_env):
    """exit 78 would be revived forever (no RestartPreventExitStatus): the env var makes the gateway
    exit 0 on a fatal configuration; ProcessType Standard (not Background) keeps CPU and I/O
    unthrottled for a gateway that answers people; ThrottleInterval is chosen, not defaulted."""
    manager, _, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home, start_now=False))
    agent = plistlib.loads(manager.plist_path.read_bytes())
    assert agent["EnvironmentVariables"] == {"PYTHONUNBUFFERED": "1", "HERMES_SERVICE_MANAGER": "launchd"}
    assert agent["ProcessType"] == "Standard"
    assert agent["ThrottleInterval"] == 30
    assert sorted(agent) == sorted([
        "Label", "ProgramArguments", "WorkingDirectory", "EnvironmentVariables", "RunAtLoad", "KeepAlive",
        "ExitTimeOut", "ThrottleInterval", "ProcessType", "StandardOutPath", "StandardErrorPath"])


def test_an_agent_written_before_the_fatal_exit_design_is_replaced_on_install(gateway_home, user_env):
    manager, runner, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home, start_now=False))
    old = plistlib.loads(manager.plist_path.read_bytes())
    old["EnvironmentVariables"] = {"PYTHONUNBUFFERED": "1"}
    old["ProcessType"] = "Background"
    del old["ThrottleInterval"]
    manager.plist_path.write_bytes(plistlib.dumps(old))
    outcome = manager.install(plan_for(gateway_home, start_now=False))
    assert outcome.changed
    assert plistlib.loads(manager.plist_path.read_bytes())["ProcessType"] == "Standard"


def test_status_warns_when_the_agent_would_revive_a_fatal_configuration(gateway_home, user_env):
    manager, _, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home, start_now=False))
    old = plistlib.loads(manager.plist_path.read_bytes())
    old["EnvironmentVariables"] = {"PYTHONUNBUFFERED": "1"}
    manager.plist_path.write_bytes(plistlib.dumps(old))
    warnings = manager.describe(drain_timeout=30.0).warnings
    assert warnings == ["the agent predates the fatal-configuration exit: launchd would revive a misconfigured "
                        "gateway forever; run `hermes-lifecycle install` to rewrite the agent"]
