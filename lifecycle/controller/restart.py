"""Restart as one audited operation: a restart id links its stop request and its start.

The stop request's intent is ``restart``, so the drained gateway exits 75 (a service
manager revives it; a plain stop exits 0 and stays down).  Success means the new run
reached ``ready``.  The exit code reflects both halves: 1 if either failed, 3 if the
old gateway had to be forced, else 0.

Asked from inside the gateway's own process tree (an agent's tool call), the restart
would be killed with the tree it stops: it first re-launches itself detached (a new
session, its output in the sidecar log) and the caller gets the restart id to follow.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from hermes_lifecycle.command_line import gateway_args, run_args_of
from hermes_lifecycle.controller.countdown import Countdown, Silent
from hermes_lifecycle.controller.outcome import StopOutcome
from hermes_lifecycle.controller.start import DEFAULT_START_TIMEOUT, StartOutcome, start_gateway
from hermes_lifecycle.controller.stop import stop_gateway
from hermes_lifecycle.controller.tree import caller_ancestry
from hermes_lifecycle.exit_codes import CommandExit
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES
from hermes_lifecycle.platforms import Platform
from hermes_lifecycle.projection import StreamState
from hermes_lifecycle.reconcile import reconcile
from hermes_lifecycle.stop_request import RESTART_ID_ENV

#: Set in the environment of a restart that already detached itself (it must not again).
DETACHED_ENV = "HERMES_RESTART_DETACHED"


def new_restart_id() -> str:
    return f"rs-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.urandom(3).hex()}"  # not `secrets`: 7 ms of imports


@dataclass
class RestartOutcome:
    restart_id: str
    stop: StopOutcome | None = None
    start: StartOutcome | None = None
    detached_pid: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.detached_pid is not None:
            return CommandExit.OK
        if self.stop is None or self.start is None or self.stop.result == "failed" or self.start.exit_code:
            return CommandExit.FAILED
        return self.stop.exit_code  # forced (3) or a drain that ran out (4) says so, as `stop` does

    def to_json(self) -> dict[str, Any]:
        return {"restart_id": self.restart_id, "exit_code": self.exit_code,
                "detached_pid": self.detached_pid,
                "stop": self.stop.to_json() if self.stop else None,
                "start": self.start.to_json() if self.start else None}


def recorded_run_args(current: StreamState) -> list[str]:
    """The options the last run was started with, so a restart brings back the same
    gateway (port, app, drain timeout)."""
    return run_args_of(current.data.get("cmdline"))


def inside_gateway_tree(journal: Journal) -> bool:
    """True when this process descends from the profile's recorded gateway."""
    current = journal.state()
    return current.state in ALIVE_STATES and current.pid in caller_ancestry()


def restart_gateway(journal: Journal, platform: Platform, *, timeout: float | None = None,
                    start_timeout: float = DEFAULT_START_TIMEOUT, restart_id: str | None = None,
                    countdown: Countdown | None = None) -> RestartOutcome:
    """Stop with intent ``restart`` (if anything runs), then start and confirm ``ready``."""
    countdown = countdown or Silent()
    restart_id = restart_id or new_restart_id()
    outcome = RestartOutcome(restart_id)
    run_args = recorded_run_args(reconcile(journal))
    if inside_gateway_tree(journal) and not os.environ.get(DETACHED_ENV):
        outcome.detached_pid = _detach(journal, platform, restart_id, timeout, start_timeout)
        return outcome
    outcome.stop = stop_gateway(journal, platform, timeout=timeout, intent="restart",
                                restart_id=restart_id, countdown=countdown, spare=caller_ancestry())
    if outcome.stop.result == "failed":
        return outcome
    # the marker is this restart's own: a gateway inheriting it would let its tool calls'
    # restarts skip the detach and wait on their own caller's drain
    env = {**{k: v for k, v in os.environ.items() if k != DETACHED_ENV}, RESTART_ID_ENV: restart_id}
    outcome.start = start_gateway(journal, platform, timeout=start_timeout, run_args=run_args,
                                  env=env, countdown=countdown)
    return outcome


def _detach(journal: Journal, platform: Platform, restart_id: str, timeout: float | None,
            start_timeout: float) -> int:
    home = journal.home
    args = gateway_args(str(home.root), home.profile, "restart",
                        ["--restart-id", restart_id, "--start-timeout", f"{start_timeout:g}"])
    if timeout is not None:
        args += ["--timeout", f"{timeout:g}"]
    home.ensure_private_dir(home.logs_dir)
    env = {**os.environ, DETACHED_ENV: restart_id}
    return platform.spawn_detached(args, home.stdio_log, env=env).pid
