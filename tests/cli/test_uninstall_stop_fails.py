"""`uninstall` whose stop of the running gateway fails: the definitions are removed all the
same (so the manager cannot revive it), the stop's failure is said, and the exit code is 1."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import hermes_env, run_hermes
from tests.gateways import events, state, wait_for

UNIT = "hermes-gateway-default.service"


def test_uninstall_whose_stop_fails_still_removes_the_unit_and_exits_one(home_dir, systemd_env):
    assert run_hermes(home_dir, "install", env=hermes_env(**systemd_env)).returncode == 0
    wait_for(lambda: state(home_dir).state == "running", what="the gateway systemd started to be ready")

    done = run_hermes(home_dir, "uninstall", env=hermes_env(**systemd_env, FAKE_SYSTEMCTL_FAIL="stop"))

    assert done.returncode == 1, done.stdout + done.stderr
    assert "the service manager's stop failed" in done.stderr and "Access denied" in done.stderr
    assert not (Path(systemd_env["XDG_CONFIG_HOME"]) / "systemd" / "user" / UNIT).exists()
    assert "removed systemd-user-unit: " in done.stdout
    removed = events(home_dir, "service_uninstalled")
    assert len(removed) == 1
    stops = [c for c in removed[0].data["commands"] if c["argv"][-2:] == ["stop", UNIT]]
    assert stops and stops[0]["returncode"] == 1  # the failed stop is on the record
