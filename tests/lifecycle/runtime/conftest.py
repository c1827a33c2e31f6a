"""Fixtures: gateway processes that never outlive their test."""

from __future__ import annotations

import pytest

from tests.lifecycle.runtime.harness import GatewayProcess


@pytest.fixture
def gateways():
    """``start(home_dir, *run_args)`` -> :class:`GatewayProcess`; all killed at teardown."""
    started: list[GatewayProcess] = []

    def start(home_dir, *args: str, profile: str | None = None) -> GatewayProcess:
        gateway = GatewayProcess(home_dir, *args, profile=profile)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.kill()
