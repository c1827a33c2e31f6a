"""systemd user units, driven through the runner seam with a stand-in ``systemctl --user``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from hermes_lifecycle.services.registry import manager_for
from hermes_lifecycle.errors import ServiceError
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import platform_named
from hermes_lifecycle.platforms.runner import CommandResult
from hermes_lifecycle.services import actions
from hermes_lifecycle.services.base import InstallPlan
from hermes_lifecycle.services.systemd import (
    SystemdUserManager, parse_timespan, parse_unit, quote_exec_word, split_exec_line,
)
from tests.lifecycle.services.fakes import FakeSystemctl
from tests.strategies import unit_words

UNIT = "hermes-gateway-default.service"


def make(gateway_home, user_env, fake: FakeSystemctl | None = None):
    fake = fake or FakeSystemctl()
    runner = fake.runner()
    return SystemdUserManager(gateway_home, runner, user_env), runner, fake


def plan_for(home, **choices) -> InstallPlan:
    return InstallPlan.for_home(home, drain_timeout=choices.pop("drain_timeout", 30.0),
                                interpreter=choices.pop("interpreter", sys.executable), **choices)


def test_install_writes_a_user_unit_under_the_xdg_config_home(gateway_home, user_env):
    manager, runner, _ = make(gateway_home, user_env)
    outcome = manager.install(plan_for(gateway_home))
    path = Path(user_env["XDG_CONFIG_HOME"]) / "systemd" / "user" / UNIT
    assert outcome.changed and outcome.started and outcome.definition == str(path)
    service = parse_unit(path.read_text())["Service"]
    assert split_exec_line(service["ExecStart"]) == [
        sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(gateway_home.root), "--profile", "default", "run"]
    assert service["Restart"] == "on-failure"
    assert service["RestartForceExitStatus"] == "75" and service["SuccessExitStatus"] == "75"
    assert service["RestartPreventExitStatus"] == "78"
    assert service["KillMode"] == "mixed"
    assert parse_timespan(service["TimeoutStopSec"]) > 30.0
    assert runner.calls == [
        ("systemctl", "--version"),
        ("systemctl", "--user", "is-enabled", UNIT),
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", UNIT),
        ("systemctl", "--user", "is-active", UNIT),
        ("systemctl", "--user", "start", UNIT),
    ]


def test_the_unit_runs_in_the_gateway_home_not_the_users_home(gateway_home, user_env):
    """systemd starts a user unit in the user's home, and `python -m cli.main` puts the
    working directory first on sys.path: a ~/cli.py there would replace our package."""
    manager, _, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    service = parse_unit(manager.unit_path.read_text())["Service"]
    assert service["WorkingDirectory"].replace("%%", "%") == str(gateway_home.root)


def test_a_percent_in_the_home_is_not_a_specifier_in_the_working_directory(tmp_path, user_env):
    home = Home.resolve(tmp_path / "100%h")
    manager, _, _ = make(home, user_env)
    manager.install(plan_for(home))
    assert parse_unit(manager.unit_path.read_text())["Service"]["WorkingDirectory"].endswith("/100%%h")


@pytest.mark.parametrize("name", ["ends in a backslash\\", "ends in a space "])
def test_a_home_the_unit_syntax_would_bend_is_refused_before_anything_is_written(tmp_path, user_env, name):
    """A trailing backslash continues the line into the next directive; trailing blanks are
    trimmed: either way systemd would run the gateway somewhere else."""
    from hermes_lifecycle.errors import QuotingError

    home = Home.resolve(tmp_path / name)
    manager, runner, _ = make(home, user_env)
    with pytest.raises(QuotingError, match="WorkingDirectory"):
        manager.install(plan_for(home))
    assert not manager.unit_path.exists() and runner.calls == []


def test_unit_dir_falls_back_to_home_dot_config_without_xdg(gateway_home, user_env):
    env = {k: v for k, v in user_env.items() if k != "XDG_CONFIG_HOME"}
    manager = SystemdUserManager(gateway_home, FakeSystemctl().runner(), env)
    assert manager.unit_path == Path(user_env["HOME"]) / ".config" / "systemd" / "user" / UNIT


def test_stop_timeout_follows_a_long_drain(gateway_home, user_env):
    manager, _, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home, drain_timeout=600.0))
    service = parse_unit(manager.unit_path.read_text())["Service"]
    assert parse_timespan(service["TimeoutStopSec"]) > 600.0


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_unit_and_flags_a_mangled_copy(gateway_home, user_env, tmp_path):
    manager, _, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    runtime = Path(user_env["XDG_RUNTIME_DIR"])
    runtime.mkdir(mode=0o700, exist_ok=True)

    def verify(path: Path) -> str:
        result = subprocess.run(["systemd-analyze", "--user", "verify", str(path)], capture_output=True,
                                text=True, timeout=60, env={**os.environ, **user_env})
        return result.stdout + result.stderr if result.returncode == 0 else f"exit {result.returncode}: {result.stderr}"

    assert verify(manager.unit_path) == ""
    mangled = tmp_path / UNIT
    mangled.write_text(manager.unit_path.read_text().replace("KillMode=mixed", "KillMode=gently"))
    assert "KillMode" in verify(mangled) or "kill mode" in verify(mangled)


@settings(max_examples=200, deadline=None)
@given(unit_words)
def test_exec_start_words_round_trip_through_the_unit_syntax(word):
    assert split_exec_line(f"{quote_exec_word('/usr/bin/python3')} {quote_exec_word(word)}") == ["/usr/bin/python3", word]


def test_installing_twice_is_a_no_op_that_says_so(gateway_home, user_env):
    manager, runner, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    runner.calls.clear()
    outcome = manager.install(plan_for(gateway_home))
    assert not outcome.changed and not outcome.started
    assert outcome.message.startswith("already installed")
    assert runner.calls == [("systemctl", "--user", "is-enabled", UNIT), ("systemctl", "--user", "is-active", UNIT)]


@pytest.mark.parametrize("old, reason", [
    ({"interpreter": "/opt/old-python/bin/python3"}, "another interpreter"),
    ({"argv_home": "/srv/other-home"}, "another home or profile"),
    ({"argv_extra": ("--drain-timeout", "5")}, "other arguments"),
])
def test_a_stale_unit_is_replaced_and_says_why(gateway_home, user_env, old, reason):
    manager, runner, fake = make(gateway_home, user_env)
    stale = plan_for(gateway_home, interpreter=old.get("interpreter", sys.executable))
    if "argv_home" in old:
        stale = InstallPlan(**{**stale.__dict__, "argv": stale.argv[:4] + (old["argv_home"],) + stale.argv[5:]})
    if "argv_extra" in old:
        stale = InstallPlan(**{**stale.__dict__, "argv": stale.argv + old["argv_extra"]})
    manager.unit_path.parent.mkdir(parents=True)
    manager.unit_path.write_text(manager.render(stale))
    fake.enabled.add(UNIT)
    outcome = manager.install(plan_for(gateway_home))
    assert outcome.changed and reason in outcome.replaced
    assert outcome.message.startswith("replaced")
    assert split_exec_line(parse_unit(manager.unit_path.read_text())["Service"]["ExecStart"])[0] == sys.executable
    assert ("systemctl", "--user", "daemon-reload") in runner.calls


def test_start_now_and_autostart_are_separate_choices(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    outcome = manager.install(plan_for(gateway_home, autostart=False, start_now=False))
    assert not outcome.started and fake.active == set()
    assert ("systemctl", "--user", "disable", UNIT) in runner.calls
    assert ("systemctl", "--user", "enable", UNIT) not in runner.calls
    assert ("systemctl", "--user", "start", UNIT) not in runner.calls


def test_stop_keeps_the_unit_enabled_so_start_works_after_stop(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    runner.calls.clear()
    manager.stop()
    assert runner.calls == [("systemctl", "--user", "stop", UNIT)]
    assert manager.is_installed() and UNIT in fake.enabled
    manager.start()
    assert manager.is_running()


def test_a_failing_start_is_reported_not_papered_over(gateway_home, user_env):
    fake = FakeSystemctl(fail={"start": CommandResult(("systemctl",), 1, "", "Job failed: unit entered failed state\n")})
    manager, runner, _ = make(gateway_home, user_env, fake)
    with pytest.raises(ServiceError, match="Job failed"):
        manager.install(plan_for(gateway_home))
    assert [c for c in runner.calls if c[2:3] == ("start",)] == [("systemctl", "--user", "start", UNIT)]


def test_uninstall_removes_only_this_homes_unit(gateway_home, user_env, tmp_path):
    from hermes_lifecycle.home import Home

    production = Home.resolve(tmp_path / "production home")
    manager, runner, fake = make(production, user_env)
    manager.install(plan_for(production))
    temporary, temp_runner, _ = make(gateway_home, user_env, fake)
    assert temporary.uninstall() == []
    assert manager.unit_path.exists()
    assert [c for c in temp_runner.calls if c[2] in ("stop", "disable", "daemon-reload")] == []
    removals = manager.uninstall()
    assert [r.definition for r in removals] == [str(manager.unit_path)] and not manager.unit_path.exists()
    assert runner.calls[-3:] == [("systemctl", "--user", "stop", UNIT), ("systemctl", "--user", "disable", UNIT),
                                 ("systemctl", "--user", "daemon-reload")]


def test_status_flags_a_stop_timeout_shorter_than_the_drain(gateway_home, user_env):
    manager, _, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home, drain_timeout=30.0))
    status = manager.describe(drain_timeout=30.0)
    assert status.installed and status.running and status.autostart and status.warnings == []
    manager.unit_path.write_text(manager.unit_path.read_text().replace("TimeoutStopSec=45", "TimeoutStopSec=20s"))
    warnings = manager.describe(drain_timeout=30.0).warnings
    assert len(warnings) == 1 and "TimeoutStopSec=20s" in warnings[0] and "mid-drain" in warnings[0]


@pytest.mark.parametrize("span, seconds", [
    ("45", 45.0), ("45s", 45.0), ("1min 30s", 90.0), ("2minutes", 120.0), ("1 hour", 3600.0),
    ("1h 5m 2s 500ms", 3902.5), ("1M", 2629800.0), ("1w", 604800.0), ("750msec", 0.75), ("infinity", None),
])
def test_time_spans_are_read_with_every_systemd_unit(span, seconds):
    assert parse_timespan(span) == seconds


def test_an_unreadable_time_span_is_refused_not_read_as_zero():
    with pytest.raises(ValueError):
        parse_timespan("5 fortnights")


def test_status_reads_the_stop_timeout_systemd_applies_including_drop_ins(gateway_home, user_env):
    """A drop-in (`systemctl --user edit`) can shorten the timeout the unit file states."""
    fake = FakeSystemctl()
    manager, runner, _ = make(gateway_home, user_env, fake)
    manager.install(plan_for(gateway_home, drain_timeout=30.0))
    assert manager.describe(drain_timeout=30.0).warnings == []
    fake.fail["show"] = CommandResult(("systemctl",), 0, "20s\n", "")
    warnings = manager.describe(drain_timeout=30.0).warnings
    assert len(warnings) == 1 and "TimeoutStopSec=20s" in warnings[0] and "mid-drain" in warnings[0]
    assert ("systemctl", "--user", "show", UNIT, "--property=TimeoutStopUSec", "--value") in runner.calls


def test_status_says_unknown_not_stopped_when_systemd_does_not_answer(gateway_home, user_env):
    fake = FakeSystemctl()
    manager, _, _ = make(gateway_home, user_env, fake)
    manager.install(plan_for(gateway_home))
    fake.fail["is-active"] = CommandResult(("systemctl",), 1, "", "Failed to connect to bus: No medium found\n")
    status = manager.describe(drain_timeout=30.0)
    assert status.installed and status.running is None
    assert any("Failed to connect to bus" in w for w in status.warnings)


def test_status_warns_when_lingering_is_off_and_says_how_to_turn_it_on(gateway_home, user_env):
    manager, runner, _ = make(gateway_home, user_env, FakeSystemctl(linger="no"))
    manager.install(plan_for(gateway_home))
    status = manager.describe(drain_timeout=30.0)
    assert any("loginctl enable-linger alice" in w for w in status.warnings)
    assert ("loginctl", "show-user", "alice", "--property=Linger", "--value") in runner.calls
    assert not any("sudo" in line for line in status.warnings + status.hints)


def test_install_and_uninstall_are_recorded_as_events_with_track_and_file(gateway_home, user_env):
    fake = FakeSystemctl()
    platform = platform_named("linux", runner=fake.runner())
    plan = plan_for(gateway_home)
    outcome = actions.install(gateway_home, plan, manager_for(platform, gateway_home, user_env))
    again = actions.install(gateway_home, plan, manager_for(platform, gateway_home, user_env))
    removals = actions.uninstall(gateway_home, manager_for(platform, gateway_home, user_env))
    assert outcome.changed and not again.changed and len(removals) == 1
    with Journal(gateway_home) as journal:
        events = journal.events(triggers=("service_installed", "service_uninstalled"))
    assert [e.trigger for e in events] == ["service_installed", "service_uninstalled"]
    installed = events[0].data
    assert installed["track"] == "systemd-user-unit" and installed["definition"] == outcome.definition
    assert installed["plan"] == plan.to_json()
    assert ["systemctl", "--user", "daemon-reload"] in [c["argv"] for c in installed["commands"]]
    assert events[0].actor.startswith("service-manager ")
    assert events[1].data["definition"] == outcome.definition
    assert InstallPlan.load(actions.plan_path(gateway_home)) == plan


def test_with_no_user_bus_install_leaves_no_unit_and_no_event_and_says_how_to_fix_it(gateway_home, user_env):
    """All or nothing: a unit systemd never loaded is no install (retrying used to pile up
    `service_installed` events and `status` then reported an installed service)."""
    no_bus = CommandResult(("systemctl",), 1, "", "Failed to connect to bus: No medium found\n")
    fake = FakeSystemctl(fail={"daemon-reload": no_bus})
    manager = manager_for(platform_named("linux", runner=fake.runner()), gateway_home, user_env)
    for _ in range(2):  # a retry changes nothing either
        with pytest.raises(ServiceError) as failed:
            actions.install(gateway_home, plan_for(gateway_home), manager)
        message = str(failed.value)
        assert "\n" not in message and "loginctl enable-linger alice" in message and "XDG_RUNTIME_DIR" in message
        assert not manager.unit_path.exists() and not manager.is_installed()
    with Journal(gateway_home) as journal:
        assert journal.events(triggers=("service_installed",)) == []


def test_a_failing_enable_puts_the_previous_unit_back(gateway_home, user_env):
    fake = FakeSystemctl()
    manager, runner, _ = make(gateway_home, user_env, fake)
    manager.install(plan_for(gateway_home))
    before = manager.unit_path.read_text()
    fake.fail["enable"] = CommandResult(("systemctl",), 1, "", "Failed to enable unit: Access denied\n")
    with pytest.raises(ServiceError, match="nothing was installed"):
        actions.install(gateway_home, plan_for(gateway_home, drain_timeout=90.0), manager)
    assert manager.unit_path.read_text() == before
    assert runner.calls[-1] == ("systemctl", "--user", "daemon-reload")  # systemd sees the old file again
    with Journal(gateway_home) as journal:
        assert journal.events(triggers=("service_installed",)) == []


def test_the_managers_stop_waits_longer_than_a_silent_drain(gateway_home, user_env):
    gateway_home.ensure_private_dir()
    gateway_home.config_file.write_text('{"restart_drain_timeout": 120}')
    fake = FakeSystemctl()
    runner = fake.runner()
    seen = []
    original = runner.run
    runner.run = lambda argv, **limits: (seen.append((tuple(argv), limits)), original(argv, **limits))[1]
    SystemdUserManager(gateway_home, runner, user_env).stop()
    [(argv, limits)] = seen
    assert argv == ("systemctl", "--user", "stop", UNIT)
    assert limits["timeout"] > 120 and limits["idle_timeout"] > 120


def test_each_profile_gets_its_own_unit_and_uninstall_keeps_the_other(gateway_home, user_env):
    from hermes_lifecycle.home import Home

    other = Home.resolve(gateway_home.root, "night-shift")
    fake = FakeSystemctl()
    default, _, _ = make(gateway_home, user_env, fake)
    night, _, _ = make(other, user_env, fake)
    default.install(plan_for(gateway_home, start_now=False))
    night.install(plan_for(other, start_now=False))
    assert night.unit_path.name == "hermes-gateway-night-shift.service" and default.unit_path.exists()
    assert split_exec_line(parse_unit(night.unit_path.read_text())["Service"]["ExecStart"])[-3:] == [
        "--profile", "night-shift", "run"]
    night.uninstall()
    assert default.unit_path.exists() and not night.unit_path.exists()
    assert fake.enabled == {UNIT}


def test_install_says_whether_the_gateway_starts_at_boot_without_a_login(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env, FakeSystemctl(linger="no"))
    manager.install(plan_for(gateway_home))
    assert manager.boot_note(True).startswith("starts at your first login, not at boot")
    assert "install --linger" in manager.boot_note(True)
    fake.linger = "yes"
    assert manager.boot_note(True) == "starts at boot, without a login (lingering is on)"
    assert manager.boot_note(False) == "does not start at boot or logon"
    assert ("loginctl", "show-user", "alice", "--property=Linger", "--value") in runner.calls


def test_install_linger_turns_lingering_on_first_and_records_it_even_when_the_unit_is_unchanged(
        gateway_home, user_env):
    fake = FakeSystemctl(linger="no")
    platform = platform_named("linux", runner=fake.runner())
    actions.install(gateway_home, plan_for(gateway_home), manager_for(platform, gateway_home, user_env))
    manager = manager_for(platform, gateway_home, user_env)
    outcome = actions.install(gateway_home, plan_for(gateway_home), manager, linger=True)
    assert not outcome.changed and outcome.linger_enabled
    assert fake.linger == "yes"
    assert manager.commands[0]["argv"] == ["loginctl", "enable-linger", "alice"]
    with Journal(gateway_home) as journal:
        first, second = journal.events(triggers=("service_installed",))
    assert "linger_enabled" not in first.data and second.data["linger_enabled"] is True
    assert manager.boot_note(True).startswith("starts at boot")


def test_linger_is_refused_where_the_manager_has_none(gateway_home, user_env):
    from hermes_lifecycle.errors import UsageError

    manager = manager_for(platform_named("macos", runner=FakeSystemctl().runner()), gateway_home, user_env)
    with pytest.raises(UsageError, match="--linger is for systemd"):
        actions.install(gateway_home, plan_for(gateway_home), manager, linger=True)
    assert manager.boot_note(True) is None


def test_the_stop_timeout_warning_names_the_drop_in_that_sets_it(gateway_home, user_env, tmp_path):
    """Reinstalling rewrites the unit, not a drop-in: the warning must point at the file to edit."""
    fake = FakeSystemctl()
    manager, runner, _ = make(gateway_home, user_env, fake)
    manager.install(plan_for(gateway_home, drain_timeout=30.0))
    folder = manager.unit_dir / f"{UNIT}.d"
    folder.mkdir()
    (folder / "10-env.conf").write_text("[Service]\nEnvironment=A=1\n")
    (folder / "override.conf").write_text("[Service]\nTimeoutStopSec=20\n")
    paths = f"{folder / '10-env.conf'} {folder / 'override.conf'}\n"

    def show(argv):
        return CommandResult(argv, 0, "20s\n" if "--property=TimeoutStopUSec" in argv else paths, "")
    runner.responses[("systemctl", "--user", "show")] = show
    [warning] = manager.describe(drain_timeout=30.0).warnings
    assert "TimeoutStopSec=20s" in warning and f"the drop-in {folder / 'override.conf'} sets it" in warning
    assert "hermes-lifecycle install" not in warning


@pytest.mark.parametrize("version, grows", [("systemd 252 (252.38-1~deb12u1)", False), ("systemd 254 (254.5)", True),
                                            ("", False)])
def test_the_restart_delay_grows_only_where_systemd_reads_restart_steps(gateway_home, user_env, version, grows):
    """systemd < 254 warns "Unknown key" on RestartSteps=/RestartMaxDelaySec= and ignores them."""
    manager, runner, _ = make(gateway_home, user_env, FakeSystemctl(version=version))
    manager.install(plan_for(gateway_home))
    sections = parse_unit(manager.unit_path.read_text())
    service = sections["Service"]
    assert ("RestartSteps" in service and "RestartMaxDelaySec" in service) is grows
    assert sections["Unit"]["StartLimitBurst"] == "10" and sections["Unit"]["StartLimitIntervalSec"] == "600"
    assert service["Type"] == "notify" and service["WatchdogSec"] == "60" and service["NotifyAccess"] == "main"
    assert split_exec_line(service["ExecStop"])[-3:] == ["default", "stop", "--from-service-manager"]
    assert service["ExecStopPost"] == service["ExecStop"]
    assert runner.calls.count(("systemctl", "--version")) == 1
