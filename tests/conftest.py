"""Shared fixtures: a fresh home per test, the real `hermes` command in a subprocess, and real
gateways that never outlive their test."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from tests.gateways import DEADLINE, ROOT, GatewayProcess, hermes_argv, hermes_env


def run_hermes(home: Path | str, *args: str, profile: str | None = None, timeout: float = 60,
               input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``hermes gateway --home HOME [--profile P] ARGS`` as a real process."""
    return subprocess.run(hermes_argv(home, *args, profile=profile), capture_output=True, text=True,
                          timeout=timeout, input=input, env=env or hermes_env(), cwd=ROOT)


def start_detached(home_dir: Path, *run_args: str, profile: str | None = None) -> dict:
    """``hermes gateway start`` for real; returns its JSON document (asserting it started)."""
    extra = ["--", *run_args] if run_args else []
    done = run_hermes(home_dir, "start", "--json", *extra, profile=profile)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["result"] in ("started", "already_running"), document
    return document


@pytest.fixture
def home_dir(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def home(home_dir: Path) -> Home:
    return Home.resolve(home_dir)


@pytest.fixture
def journal(home: Home):
    with Journal(home) as j:
        yield j


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


@pytest.fixture
def reaper(home_dir: Path):
    """Kills, at teardown, every gateway of the test's home (profiles ``default`` and ``other``,
    found by discovery, so detached ones too) and every process handed to it."""
    import psutil

    from hermes_lifecycle.controller.discovery import find_gateway_processes

    extra: list[psutil.Process | subprocess.Popen] = []
    yield extra
    for profile in ("default", "other"):
        for found in find_gateway_processes(Home.resolve(home_dir, profile)):
            try:
                psutil.Process(found.pid).kill()
            except psutil.Error:
                pass
    for proc in extra:
        try:
            proc.kill()
            if isinstance(proc, subprocess.Popen):
                proc.wait(DEADLINE)
        except (psutil.Error, ProcessLookupError, OSError):
            pass
