"""The Windows order on a real gateway: the stop request and the drain first (no signal
reaches asyncio there), then ``schtasks /End``, recorded; ``/End`` alone would kill it
mid-conversation."""

from __future__ import annotations

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import platform_named
from hermes_lifecycle.services.base import InstallPlan
from hermes_lifecycle.controller.through_service import restart_through_service, stop_through_service
from hermes_lifecycle.services.windows_task import WindowsTaskManager
from tests.conftest import start_detached
from tests.gateways import events, state, wait_for
from tests.lifecycle.services.fakes import FakeSchtasks

TASK = "HermesGateway-default"


def windows_service(home: Home, user_env: dict[str, str]):
    fake = FakeSchtasks()
    runner = fake.runner()
    manager = WindowsTaskManager(home, runner, user_env)
    manager.install(InstallPlan.for_home(home, drain_timeout=30.0, start_now=False))
    return manager, runner, fake


def test_windows_stop_drains_through_the_request_then_ends_the_task(home_dir, user_env, reaper):  # noqa: F811
    started = start_detached(home_dir)
    home = Home.resolve(home_dir)
    manager, runner, fake = windows_service(home, user_env)
    fake.running.add(TASK)
    platform = platform_named("windows", runner=runner)
    with Journal(home) as journal:
        outcome = stop_through_service(journal, platform, manager, timeout=30.0)
    assert outcome.result == "stopped", outcome.message
    history = [e.trigger for e in events(home_dir, run_id=started["run_id"])]
    assert "signal_received" not in history  # the Windows path: the request in the log is the way in
    assert history.index("stop_requested") < history.index("drain") < history.index("drained") \
        < history.index("service_requested")
    assert runner.calls[-1] == ("schtasks", "/End", "/TN", TASK)
    assert not any(c[0] == "taskkill" for c in runner.calls)  # no escalation was needed
    assert manager.is_installed() and TASK in fake.tasks  # stop never unregisters


def test_windows_restart_drains_then_runs_the_task_again(home_dir, user_env, reaper):  # noqa: F811
    started = start_detached(home_dir)
    home = Home.resolve(home_dir)
    manager, runner, fake = windows_service(home, user_env)
    platform = platform_named("windows", runner=runner)

    def run_task_for_real(argv):
        fake.running.add(TASK)
        start_detached(home_dir)  # what Task Scheduler's /Run does: launch the gateway
        return fake(argv)

    runner.responses[("schtasks", "/Run")] = run_task_for_real
    with Journal(home) as journal:
        outcome = restart_through_service(journal, platform, manager, timeout=30.0, start_timeout=60.0)
    assert outcome.exit_code == 0, (outcome.stop and outcome.stop.message, outcome.start and outcome.start.message)
    request = events(home_dir, "stop_requested", run_id=started["run_id"])[-1]
    assert request.data["intent"] == "restart"
    asked = events(home_dir, "service_requested")
    assert [e.data["action"] for e in asked] == ["start"] and asked[0].data["commands"][-1]["argv"] == [
        "schtasks", "/Run", "/TN", TASK]
    wait_for(lambda: state(home_dir).state == "running", what="the new run to be ready")
    assert state(home_dir).run_id != started["run_id"] == outcome.stop.run_id
