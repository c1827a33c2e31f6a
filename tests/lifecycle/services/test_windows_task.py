"""The Windows logon task and its Startup-folder fallback, through a stand-in ``schtasks``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hermes_lifecycle.errors import ServiceError
from hermes_lifecycle.home import Home
from hermes_lifecycle.platforms.runner import CommandResult
from hermes_lifecycle.services.base import InstallPlan
from hermes_lifecycle.services.windows_task import WindowsTaskManager, pythonw_for, task_facts
from tests.lifecycle.services.fakes import FakeSchtasks
from tests.lifecycle.services.windows_parsers import cmd_batch_line, crt_argv, task_scheduler_argv

PYTHON = "C:\\Program Files\\Python312\\python.exe"
PYTHONW = "C:\\Program Files\\Python312\\pythonw.exe"
TASK = "HermesGateway-default"
DENIED = CommandResult(("schtasks",), 1, "", "ERROR: Access is denied.\n")


def make(home, user_env, fake: FakeSchtasks | None = None):
    fake = fake or FakeSchtasks()
    runner = fake.runner()
    return WindowsTaskManager(home, runner, user_env), runner, fake


def plan_for(home, **choices) -> InstallPlan:
    return InstallPlan.for_home(home, drain_timeout=30.0, interpreter=choices.pop("interpreter", PYTHON), **choices)


def gateway_argv(home: Home) -> list[str]:
    return [PYTHONW, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home.root), "--profile", home.profile, "run"]


def startup_cmd(user_env) -> Path:
    return (Path(user_env["APPDATA"]) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
            / "hermes-gateway-default.cmd")


def test_install_creates_a_logon_task_from_xml_with_no_time_limit_and_battery_proof(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    outcome = manager.install(plan_for(gateway_home))
    xml_path = gateway_home.root / "services" / "default.task.xml"
    assert outcome.changed and outcome.started and (outcome.track, outcome.definition) == ("scheduled-task", TASK)
    assert runner.calls == [
        ("schtasks", "/Query", "/TN", TASK, "/XML"),
        ("schtasks", "/Create", "/F", "/TN", TASK, "/XML", str(xml_path)),
        ("schtasks", "/Query", "/TN", TASK, "/FO", "CSV", "/NH"),
        ("schtasks", "/Run", "/TN", TASK),
    ]
    raw = xml_path.read_bytes()
    assert raw.startswith(b"\xff\xfe")  # UTF-16 with a byte order mark, as schtasks /XML expects
    facts = task_facts(raw.decode("utf-16"))
    assert facts["command"] == PYTHONW  # pythonw: no console window
    assert task_scheduler_argv(facts["command"], facts["arguments"]) == gateway_argv(gateway_home)
    assert facts["time_limit"] == "PT0S"
    assert (facts["battery_start"], facts["battery_stop"]) == ("false", "false")
    assert facts["instances"] == "IgnoreNew"
    assert (facts["logon_type"], facts["run_level"]) == ("InteractiveToken", "LeastPrivilege")
    assert facts["autostart"] == "true"
    assert "<UserId>DESKTOP-1\\alice</UserId>" in raw.decode("utf-16")


def test_pythonw_replaces_python_exe_only():
    assert pythonw_for(PYTHON) == PYTHONW
    assert pythonw_for("C:\\tools\\hermes-python.exe") == "C:\\tools\\hermes-python.exe"


@pytest.mark.parametrize("console, windowless", [
    ("C:\\WindowsApps\\python3.12.exe", "C:\\WindowsApps\\pythonw3.12.exe"),  # the Store's versioned aliases
    ("C:\\WindowsApps\\python3.exe", "C:\\WindowsApps\\pythonw3.exe"),
    ("C:\\Venv\\Scripts\\Python.EXE", "C:\\Venv\\Scripts\\pythonw.exe"),
])
def test_versioned_python_launchers_get_their_windowless_sibling(console, windowless):
    assert pythonw_for(console) == windowless


def test_no_autostart_disables_the_logon_trigger_but_keeps_start_on_demand(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    outcome = manager.install(plan_for(gateway_home, autostart=False, start_now=False))
    assert not outcome.started and ("schtasks", "/Run", "/TN", TASK) not in runner.calls
    assert task_facts(fake.tasks[TASK])["autostart"] == "false"
    manager.start()
    assert runner.calls[-1] == ("schtasks", "/Run", "/TN", TASK)


@pytest.mark.parametrize("create_result, said", [
    (DENIED, "Access is denied"),
    (CommandResult(("schtasks",), None, "", "", timed_out=True), "timed out"),
    (CommandResult(("schtasks",), None, "", "", went_silent=True), "no output past the cutoff"),
])
def test_access_denied_timeout_or_silence_falls_back_to_a_startup_cmd(gateway_home, user_env, create_result, said):
    manager, runner, fake = make(gateway_home, user_env, FakeSchtasks(create_result=create_result))
    outcome = manager.install(plan_for(gateway_home))
    path = startup_cmd(user_env)
    assert (outcome.track, outcome.definition) == ("startup-folder", str(path))
    assert said in outcome.fallback_reason and said in outcome.message
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    launch = [line for line in lines if line.startswith("start ")]
    assert len(launch) == 1 and "setlocal DisableDelayedExpansion" in lines and "chcp 65001 >nul" in lines
    assert crt_argv(cmd_batch_line(launch[0])[len('start "" '):]) == gateway_argv(gateway_home)
    # started now, as asked: the bare file name, run in its folder (see the next test)
    assert (runner.calls[-1], runner.cwds[-1]) == (("cmd.exe", "/d", "/c", ".\\" + path.name), str(path.parent))
    assert outcome.started


def test_the_startup_cmd_runs_by_its_bare_name_so_cmd_c_never_sees_the_profile_path(tmp_path, user_env):
    """`cmd /c "C:\\Users\\Tom (Work)\\...\\Start Menu\\...cmd"` loses its quotes (a special
    character between them) and runs `C:\\Users\\Tom`; a bare file name has nothing to lose."""
    env = {**user_env, "APPDATA": str(tmp_path / "Tom (Work) & Co" / "AppData" / "Roaming")}
    manager, runner, _ = make(Home.resolve(tmp_path / "h"), env, FakeSchtasks(create_result=DENIED))
    manager.install(plan_for(manager.home))
    assert "(Work) & Co" in str(runner.cwds[-1])
    program, *args = runner.calls[-1]
    assert (program, args[:2]) == ("cmd.exe", ["/d", "/c"]) and args[2] == ".\\hermes-gateway-default.cmd"


def test_create_uses_a_hard_timeout_and_a_silence_cutoff(gateway_home, user_env):
    seen = {}
    manager, runner, fake = make(gateway_home, user_env)
    original = runner.run

    def run(argv, **limits):
        if argv[1] == "/Create":
            seen.update(limits)
        return original(argv, **limits)

    runner.run = run
    manager.install(plan_for(gateway_home))
    assert seen["timeout"] > 0 and 0 < seen["idle_timeout"] < seen["timeout"]


def test_an_awkward_home_path_survives_both_tracks(tmp_path, user_env):
    home = Home.resolve(tmp_path / "50% & (ünïcode) ^caret \"q %APPDATA%")
    manager, _, fake = make(home, user_env, FakeSchtasks(create_result=DENIED))
    manager.install(plan_for(home))
    launch = next(line for line in manager.startup_cmd.read_bytes().decode("utf-8").split("\r\n") if line.startswith("start "))
    assert crt_argv(cmd_batch_line(launch)[len('start "" '):]) == gateway_argv(home)
    manager_ok, _, ok = make(home, user_env)
    manager_ok.install(plan_for(home))
    facts = task_facts(ok.tasks[f"HermesGateway-{home.profile}"])
    assert task_scheduler_argv(facts["command"], facts["arguments"]) == gateway_argv(home)


def test_any_other_task_scheduler_failure_is_reported_without_fallback(gateway_home, user_env):
    broken = CommandResult(("schtasks",), 1, "", "ERROR: The task XML is malformed.\n")
    manager, _, _ = make(gateway_home, user_env, FakeSchtasks(create_result=broken))
    with pytest.raises(ServiceError, match="malformed"):
        manager.install(plan_for(gateway_home))
    assert not startup_cmd(user_env).exists()


def test_fallback_refuses_no_autostart_instead_of_starting_at_logon_anyway(gateway_home, user_env):
    manager, _, _ = make(gateway_home, user_env, FakeSchtasks(create_result=DENIED))
    with pytest.raises(ServiceError, match="--no-autostart"):
        manager.install(plan_for(gateway_home, autostart=False))
    assert not startup_cmd(user_env).exists()


def test_installing_the_task_twice_is_a_no_op_that_says_so(gateway_home, user_env):
    manager, runner, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    runner.calls.clear()
    outcome = manager.install(plan_for(gateway_home))
    assert not outcome.changed and outcome.message.startswith("already installed")
    assert not any(c[1] == "/Create" for c in runner.calls)


def test_installing_the_fallback_twice_is_a_no_op_that_says_so(gateway_home, user_env):
    manager, _, _ = make(gateway_home, user_env, FakeSchtasks(create_result=DENIED))
    manager.install(plan_for(gateway_home, start_now=False))
    again = manager.install(plan_for(gateway_home, start_now=False))
    assert not again.changed and again.message.startswith("already installed")


@pytest.mark.parametrize("stale_home, reason", [(False, "another interpreter"), (True, "another home or profile")])
def test_a_stale_task_is_recreated(gateway_home, user_env, tmp_path, stale_home, reason):
    fake = FakeSchtasks()
    if stale_home:
        other, _, _ = make(Home.resolve(tmp_path / "elsewhere"), user_env, fake)
        other.install(plan_for(other.home, start_now=False))
    else:
        older, _, _ = make(gateway_home, user_env, fake)
        older.install(plan_for(gateway_home, interpreter="C:\\Python310\\python.exe", start_now=False))
    manager, runner, _ = make(gateway_home, user_env, fake)
    outcome = manager.install(plan_for(gateway_home, start_now=False))
    assert outcome.changed and reason in outcome.replaced
    assert [c[1] for c in runner.calls] == ["/Query", "/Create"]
    facts = task_facts(fake.tasks[TASK])
    assert task_scheduler_argv(facts["command"], facts["arguments"]) == gateway_argv(gateway_home)


def test_a_working_task_retires_this_homes_startup_fallback(gateway_home, user_env):
    fake = FakeSchtasks(create_result=DENIED)
    manager, _, _ = make(gateway_home, user_env, fake)
    manager.install(plan_for(gateway_home, start_now=False))
    fake.create_result = None
    outcome = manager.install(plan_for(gateway_home, start_now=False))
    assert outcome.track == "scheduled-task" and not startup_cmd(user_env).exists()
    assert "removed the Startup fallback" in outcome.message


def test_uninstall_removes_both_tracks_of_this_home_and_nothing_else(gateway_home, user_env, tmp_path):
    fake = FakeSchtasks(create_result=DENIED)
    manager, runner, _ = make(gateway_home, user_env, fake)
    manager.install(plan_for(gateway_home, start_now=False))  # Startup track
    fake.tasks[TASK] = manager.render_task(plan_for(gateway_home))  # and a task that appeared later
    removals = manager.uninstall()
    assert [(r.track, r.definition) for r in removals] == [("scheduled-task", TASK),
                                                           ("startup-folder", str(startup_cmd(user_env)))]
    assert fake.tasks == {} and not startup_cmd(user_env).exists()
    assert ("schtasks", "/Delete", "/TN", TASK, "/F") in runner.calls


def test_uninstall_from_a_temporary_home_leaves_the_production_tracks_alone(gateway_home, user_env, tmp_path):
    production = Home.resolve(tmp_path / "production")
    fake = FakeSchtasks()
    prod, _, _ = make(production, user_env, fake)
    prod.install(plan_for(production, start_now=False))
    startup_cmd(user_env).parent.mkdir(parents=True)
    startup_cmd(user_env).write_text(prod.render_cmd(plan_for(production)), "utf-8", newline="")
    temporary, runner, _ = make(gateway_home, user_env, fake)
    assert temporary.uninstall() == []
    assert TASK in fake.tasks and startup_cmd(user_env).exists()
    assert not any(c[1] == "/Delete" for c in runner.calls)


def test_stop_ends_the_task_but_never_unregisters_it_so_start_works_after_stop(gateway_home, user_env):
    manager, runner, fake = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home))
    runner.calls.clear()
    manager.stop()
    assert ("schtasks", "/End", "/TN", TASK) in runner.calls
    assert not any(c[1] == "/Delete" for c in runner.calls) and manager.is_installed()
    manager.start()
    assert runner.calls[-1] == ("schtasks", "/Run", "/TN", TASK) and manager.is_running()


def test_start_without_any_track_is_an_error_not_a_detached_spawn(gateway_home, user_env):
    manager, runner, _ = make(gateway_home, user_env)
    with pytest.raises(ServiceError, match="hermes-lifecycle install"):
        manager.start()
    assert all(c[0] == "schtasks" and c[1] == "/Query" for c in runner.calls)


def test_status_names_the_track_and_suggests_windows_commands_only(gateway_home, user_env):
    manager, _, fake = make(gateway_home, user_env, FakeSchtasks(create_result=DENIED))
    assert "hermes-lifecycle install" in manager.describe(30.0).hints[0]
    manager.install(plan_for(gateway_home, start_now=False))
    fallback = manager.describe(30.0)
    assert (fallback.track, fallback.installed, fallback.running) == ("startup-folder", True, None)
    fake.create_result = None
    manager.install(plan_for(gateway_home))
    task = manager.describe(30.0)
    assert (task.track, task.definition, task.running, task.autostart) == ("scheduled-task", TASK, True, True)
    for status in (fallback, task):
        text = " ".join(status.hints + status.warnings)
        assert "sudo" not in text and "--system" not in text and "systemctl" not in text


def test_our_task_is_recognised_when_schtasks_prints_utf16(tmp_path, user_env):
    home = Home.resolve(tmp_path / "hôme 中")
    fake = FakeSchtasks()
    manager, _, _ = make(home, user_env, fake)
    manager.install(plan_for(home, start_now=False))
    raw = fake.tasks[TASK]
    fake.tasks[TASK] = raw.encode("utf-16").decode("utf-8", "replace")  # what a byte-reading runner gets
    assert manager.is_installed()
    assert [r.track for r in manager.uninstall()] == ["scheduled-task"] and fake.tasks == {}


SILENT = CommandResult(("schtasks",), None, "", "", went_silent=True)


def test_a_task_scheduler_that_does_not_answer_is_an_error_not_no_service(gateway_home, user_env):
    """`start` must not spawn a detached gateway beside a task it could not see."""
    from hermes_lifecycle.platforms import platform_named
    from hermes_lifecycle.services.installed import installed_service

    fake = FakeSchtasks()
    manager, runner, _ = make(gateway_home, user_env, fake)
    InstallPlan.for_home(gateway_home, drain_timeout=30.0).save(gateway_home.root / "services" / "default.plan.json")
    manager.install(plan_for(gateway_home, start_now=False))
    runner.responses[("schtasks", "/Query")] = SILENT
    platform = platform_named("windows", runner=runner)
    with pytest.raises(ServiceError, match="did not answer"):
        installed_service(gateway_home, platform)
    assert installed_service(gateway_home, platform, strict=False) is None  # `stop` still drains it


def test_the_startup_track_still_answers_while_task_scheduler_hangs(gateway_home, user_env):
    fake = FakeSchtasks(create_result=SILENT)
    manager, runner, _ = make(gateway_home, user_env, fake)
    runner.responses[("schtasks", "/Query")] = SILENT
    outcome = manager.install(plan_for(gateway_home, start_now=False))
    assert outcome.track == "startup-folder" and manager.is_installed()



def _children(root, path: str) -> list[str]:
    from hermes_lifecycle.services.task_xml import TASK_NS

    element = root.find("/".join(f"{{{TASK_NS}}}{part}" for part in path.split("/")))
    return [child.tag.split("}")[1] for child in element]


def test_the_task_restarts_a_crashed_gateway_after_a_short_logon_delay_in_the_home(gateway_home, user_env):
    """RestartOnFailure (Interval within PT1M..P31D, Count an unsignedByte >= 1), StartWhenAvailable,
    a logon Delay after UserId (logonTriggerType is a sequence), and the home as WorkingDirectory."""
    import xml.etree.ElementTree as ET

    manager, _, _ = make(gateway_home, user_env)
    manager.install(plan_for(gateway_home, start_now=False))
    text = (gateway_home.root / "services" / "default.task.xml").read_bytes().decode("utf-16")
    facts = task_facts(text)
    assert (facts["restart_interval"], facts["restart_count"]) == ("PT1M", "10")
    assert facts["start_when_available"] == "true" and facts["logon_delay"] == "PT30S"
    assert facts["working_directory"] == str(gateway_home.root)
    root = ET.fromstring(text.split("?>", 1)[1])
    assert _children(root, "Triggers/LogonTrigger") == ["Enabled", "UserId", "Delay"]
    assert _children(root, "Actions/Exec") == ["Command", "Arguments", "WorkingDirectory"]
    assert _children(root, "Settings/RestartOnFailure") == ["Interval", "Count"]
    assert 1 <= int(facts["restart_count"]) <= 255


def test_the_startup_fallback_says_plainly_that_a_crash_is_not_revived(gateway_home, user_env):
    manager, _, _ = make(gateway_home, user_env, FakeSchtasks(create_result=DENIED))
    manager.install(plan_for(gateway_home, start_now=False))
    status = manager.describe(30.0)
    assert status.track == "startup-folder"
    assert ("the Startup-folder fallback has no manager: a gateway that crashes stays down until the next "
            "logon or `hermes-lifecycle start`") in status.warnings
