"""A fatal configuration under launchd exits 0, so KeepAlive.SuccessfulExit=false leaves it down.

launchd has no RestartPreventExitStatus: any non-zero exit is revived every ThrottleInterval
forever.  The plist sets HERMES_SERVICE_MANAGER=launchd; the gateway then ends a fatal
configuration with 0 and says why in start_failed.  Everywhere else it stays 78.
"""

from __future__ import annotations

import pytest

from tests.conftest import run_hermes
from tests.gateways import events, hermes_env, state


def bad_config(home_dir) -> None:
    home_dir.mkdir(exist_ok=True)
    (home_dir / "config.json").write_text('{"restart_drain_timeout": "soon"}')


def test_under_launchd_a_bad_config_exits_0_and_start_failed_says_why(tmp_path):
    bad_config(tmp_path)
    result = run_hermes(tmp_path, "run", env=hermes_env(HERMES_SERVICE_MANAGER="launchd"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("\n") == 1 and "restart_drain_timeout" in result.stderr
    assert "exit 0 instead of 78 so launchd leaves it down" in result.stderr
    failed = events(tmp_path, "start_failed")[0]
    assert failed.data["exit_code"] == 0 and failed.data["fatal_exit_code"] == 78
    assert failed.data["service_manager"] == "launchd" and state(tmp_path).state == "stopped"


def test_under_launchd_an_app_that_is_not_an_app_also_exits_0(tmp_path):
    result = run_hermes(tmp_path, "run", "--app", "tests.apps:not_an_app",
                        env=hermes_env(HERMES_SERVICE_MANAGER="launchd"))
    assert result.returncode == 0 and "GatewayApp" in result.stderr
    assert events(tmp_path, "start_failed")[0].data["exit_code"] == 0


@pytest.mark.parametrize("manager", ["systemd", "windows-task", ""])
def test_other_managers_keep_exit_78(tmp_path, manager):
    bad_config(tmp_path)
    result = run_hermes(tmp_path, "run", env=hermes_env(HERMES_SERVICE_MANAGER=manager))
    assert result.returncode == 78
    failed = events(tmp_path, "start_failed")[0]
    assert failed.data["exit_code"] == 78 and "service_manager" not in failed.data
