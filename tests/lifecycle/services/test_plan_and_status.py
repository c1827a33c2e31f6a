"""The install plan as data, the status lines per platform, and the controller's call-out."""

from __future__ import annotations

import json

import pytest

from hermes_lifecycle.services.registry import manager_for
from hermes_lifecycle.errors import UsageError
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import platform_named
from hermes_lifecycle.platforms.runner import CommandResult
from hermes_lifecycle.services import actions
from hermes_lifecycle.services.base import InstallPlan, stop_timeout_seconds
from hermes_lifecycle.controller.through_service import start_through_service
from hermes_lifecycle.services.installed import installed_service
from hermes_lifecycle.services.status import service_status, service_status_json, service_status_lines
from tests.lifecycle.services.fakes import FakeLaunchctl, FakeSchtasks, FakeSystemctl


def test_a_plan_round_trips_through_its_json_file(gateway_home, tmp_path):
    plan = InstallPlan.for_home(gateway_home, drain_timeout=42.5, autostart=False, start_now=True,
                                interpreter="C:\\Python 3\\python.exe")
    assert InstallPlan.load(plan.save(tmp_path / "plan.json")) == plan
    assert plan.argv == ("-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(gateway_home.root), "--profile", "default", "run")
    assert plan.stop_timeout == stop_timeout_seconds(42.5) > 42.5


@pytest.mark.parametrize("document, says", [
    ({"plan_version": 2}, "version 1"),
    ({"plan_version": 1, "profile": "default"}, "'home'"),
    ({"plan_version": 1, "profile": "Bad Name", "home": "/h", "interpreter": "/p", "argv": [],
      "autostart": True, "start_now": True, "drain_timeout": 30}, "invalid profile name"),
    ({"plan_version": 1, "profile": "default", "home": "/h", "interpreter": "/p", "argv": [],
      "autostart": True, "start_now": True, "drain_timeout": True}, "'drain_timeout'"),
])
def test_a_malformed_plan_is_a_usage_error_naming_the_problem(tmp_path, document, says):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError, match=says):
        InstallPlan.load(path)


def test_a_plan_for_another_home_is_refused_before_anything_is_written(gateway_home, tmp_path, user_env):
    manager = manager_for(platform_named("linux", runner=FakeSystemctl().runner()), gateway_home, user_env)
    other = InstallPlan.for_home(Home.resolve(tmp_path / "other"), drain_timeout=30.0)
    with pytest.raises(UsageError, match="is for home"):
        manager.install(other)
    assert not manager.unit_path.exists() and manager.runner.calls == []


def test_a_plan_whose_arguments_run_another_home_is_refused(gateway_home, tmp_path, user_env):
    """A hand-edited plan must not install a definition that `uninstall` here would not
    recognise as this home's."""
    manager = manager_for(platform_named("linux", runner=FakeSystemctl().runner()), gateway_home, user_env)
    plan = InstallPlan.for_home(gateway_home, drain_timeout=30.0)
    edited = InstallPlan(**{**plan.__dict__, "argv": tuple(str(tmp_path / "other") if a == str(gateway_home.root)
                                                         else a for a in plan.argv)})
    with pytest.raises(UsageError, match="arguments"):
        manager.install(edited)
    assert not manager.unit_path.exists() and manager.runner.calls == []


@pytest.mark.parametrize("name, fake, first_line", [
    ("linux", FakeSystemctl(), "service: systemd-user-unit "),
    ("macos", FakeLaunchctl(), "service: launchd-agent "),
    ("windows", FakeSchtasks(), "service: scheduled-task HermesGateway-default (running, starts at logon)"),
])
def test_status_lines_name_the_track_and_whether_it_runs(gateway_home, user_env, name, fake, first_line):
    platform = platform_named(name, runner=fake.runner())
    actions.install(gateway_home, InstallPlan.for_home(gateway_home, drain_timeout=30.0, interpreter="/usr/bin/python3"),
                    manager_for(platform, gateway_home, user_env))
    lines = service_status_lines(gateway_home, platform, user_env)
    assert lines[0].startswith(first_line) and "(running, starts at logon)" in lines[0]
    assert not any("sudo" in line or "--system" in line for line in lines)


@pytest.mark.parametrize("name, fake", [("linux", FakeSystemctl()), ("macos", FakeLaunchctl()),
                                        ("windows", FakeSchtasks())])
def test_status_without_a_service_suggests_the_plain_install_command(gateway_home, user_env, name, fake):
    lines = service_status_lines(gateway_home, platform_named(name, runner=fake.runner()), user_env)
    assert lines[0] == f"service: not installed ({ {'linux': 'systemd', 'macos': 'launchd'}.get(name, name) })"
    assert "`hermes-lifecycle install`" in lines[1] and "sudo" not in lines[1] and "--system" not in lines[1]


def test_status_still_answers_when_the_config_is_broken(gateway_home, user_env):
    gateway_home.ensure_private_dir()
    gateway_home.config_file.write_text('{"restart_drain_timeout": "soon"}')
    status = service_status(gateway_home, platform_named("linux", runner=FakeSystemctl().runner()), user_env)
    assert "restart_drain_timeout" in status.warnings[0] and "default drain of 30s" in status.warnings[0]


def test_status_without_home_variables_warns_instead_of_failing(gateway_home):
    status = service_status(gateway_home, platform_named("windows", runner=FakeSchtasks().runner()), {})
    assert not status.installed
    assert status.warnings == ["%APPDATA% is not set; cannot locate the windows service files"]


def test_the_controller_goes_through_a_service_only_when_this_home_installed_one(gateway_home, user_env, tmp_path):
    fake = FakeSystemctl()
    platform = platform_named("linux", runner=fake.runner())
    assert installed_service(gateway_home, platform) is None
    other = Home.resolve(tmp_path / "other")
    actions.install(other, InstallPlan.for_home(other, drain_timeout=30.0, start_now=False),
                    manager_for(platform, other))
    assert installed_service(gateway_home, platform) is None
    actions.install(gateway_home, InstallPlan.for_home(gateway_home, drain_timeout=30.0, start_now=False),
                    manager_for(platform, gateway_home))
    assert installed_service(gateway_home, platform) is not None
    actions.uninstall(gateway_home, manager_for(platform, gateway_home))
    assert actions.plan_path(gateway_home).is_file()  # kept for `install --plan`: the manager decides
    assert installed_service(gateway_home, platform) is None


def test_without_a_saved_plan_no_service_manager_is_asked(gateway_home, user_env):
    """`stop` asks on every run; where `install` never ran the answer is one stat, not a
    `schtasks /Query` (nor a managers' import)."""
    runner = FakeSchtasks().runner()
    assert installed_service(gateway_home, platform_named("windows", runner=runner)) is None
    assert runner.calls == []
    InstallPlan.for_home(gateway_home, drain_timeout=30.0).save(actions.plan_path(gateway_home))
    assert installed_service(gateway_home, platform_named("windows", runner=runner)) is None
    assert any("/Query" in call for call in runner.calls)  # with a plan, the manager decides


def test_a_failing_service_start_is_reported_and_recorded_never_replaced_by_a_spawn(gateway_home, user_env):
    fake = FakeSystemctl(fail={"start": CommandResult(("systemctl",), 1, "", "Unit is masked.\n")})
    platform = platform_named("linux", runner=fake.runner())
    manager = manager_for(platform, gateway_home)
    manager.install(InstallPlan.for_home(gateway_home, drain_timeout=30.0, start_now=False))
    with Journal(gateway_home) as journal:
        outcome = start_through_service(journal, manager, timeout=5.0)
        asked = journal.events(triggers=("service_requested",))
        runs = journal.events(triggers=("start",))
    assert outcome.result == "failed" and "Unit is masked." in outcome.message and outcome.exit_code == 1
    assert [(e.data["action"], e.data["ok"]) for e in asked] == [("start", False)]
    assert runs == []  # nothing was spawned behind the manager's back


def test_start_options_cannot_apply_to_an_installed_service(gateway_home, user_env):
    manager = manager_for(platform_named("linux", runner=FakeSystemctl().runner()), gateway_home)
    with Journal(gateway_home) as journal, pytest.raises(UsageError, match="installed command line"):
        start_through_service(journal, manager, timeout=5.0, run_args=("--port", "8080"))


@pytest.mark.parametrize("name, fake", [("linux", FakeSystemctl()), ("macos", FakeLaunchctl()),
                                        ("windows", FakeSchtasks())])
def test_the_quick_not_installed_answer_says_what_the_manager_would(gateway_home, user_env, name, fake):
    """`status` answers a home where `install` never ran without asking (or importing) the
    manager; its object has the manager's keys, name and hint."""
    runner = fake.runner()
    platform = platform_named(name, runner=runner)
    quick = service_status_json(gateway_home, platform, user_env)
    assert runner.calls == []
    full = service_status(gateway_home, platform, user_env).to_json()
    assert quick.keys() == full.keys()
    assert (quick["manager"], quick["installed"], quick["hints"]) == (full["manager"], False, full["hints"])
    assert quick["manager"] == manager_for(platform, gateway_home, user_env).name


def test_once_this_home_saved_a_plan_status_describes_what_the_manager_sees(gateway_home, user_env, tmp_path):
    platform = platform_named("linux", runner=FakeSystemctl().runner())
    other = Home.resolve(tmp_path / "other")  # same profile name, so the same unit file
    manager_for(platform, other).install(InstallPlan.for_home(other, drain_timeout=30.0, start_now=False))
    assert service_status_lines(gateway_home, platform, user_env)[0] == "service: not installed (systemd)"
    InstallPlan.for_home(gateway_home, drain_timeout=30.0).save(actions.plan_path(gateway_home))
    lines = service_status_lines(gateway_home, platform, user_env)
    assert any("runs another home or profile" in line for line in lines)
