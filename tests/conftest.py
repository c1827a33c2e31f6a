"""Shared fixtures: a fresh home per test, and the real `hermes` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.home import Home
from lifecycle.journal import Journal

ROOT = Path(__file__).resolve().parent.parent


def hermes_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run_hermes(home: Path | str, *args: str, profile: str | None = None, timeout: float = 60,
               input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``hermes gateway --home HOME [--profile P] ARGS`` as a real process."""
    argv = [sys.executable, "-m", "cli.main", "gateway", "--home", str(home)]
    if profile is not None:
        argv += ["--profile", profile]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=timeout,
                          input=input, env=env or hermes_env(), cwd=ROOT)


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
