"""Fixtures of the CLI tests: a fake systemd on PATH whose gateway never outlives its test."""

from __future__ import annotations

import os
import signal

import pytest

from tests.cli.fake_systemd import gateway_pid, install_fake_systemd


@pytest.fixture
def systemd_env(tmp_path):
    env = install_fake_systemd(tmp_path / "fake")
    yield env
    pid = gateway_pid(env)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
