"""Spawning ``hermes-lifecycle run`` detached from the calling shell, through the platform.

The command line always names the home and the profile, so the gateway serves exactly
the profile that asked, and discovery can tell whose gateway a process is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from hermes_lifecycle.command_line import gateway_args
from hermes_lifecycle.home import Home
from hermes_lifecycle.platforms import Platform
from hermes_lifecycle.platforms.spawner import SpawnedProcess


def gateway_run_args(home: Home, run_args: Sequence[str] = ()) -> list[str]:
    return gateway_args(str(home.root), home.profile, "run", run_args)


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def log_tail(path: Path, offset: int = 0, lines: int = 20) -> str:
    """The last ``lines`` lines written to the sidecar log after ``offset``."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def spawn_gateway(home: Home, platform: Platform, run_args: Sequence[str] = (), *,
                  env: dict[str, str] | None = None) -> SpawnedProcess:
    """Start the gateway detached; returns at once (readiness is :mod:`.start`'s business)."""
    home.ensure_private_dir()
    home.ensure_private_dir(home.logs_dir)
    return platform.spawn_detached(gateway_run_args(home, run_args), home.stdio_log, env=env)
