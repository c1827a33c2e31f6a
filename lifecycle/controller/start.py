"""Starting the gateway: spawn it detached, then report only what the log confirms.

Success means the new run's ``ready`` event, with its pid and port: a pid alone proves
nothing.  A gateway that dies while starting is reported with the tail of its log.
Single instance is the runtime's OS lock: when two starts race, the loser's gateway
refuses to boot, and the loser's ``start`` reports the winner (exit 0): a gateway is
running, which is what was asked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

from hermes_lifecycle.controller.countdown import Countdown, Silent
from hermes_lifecycle.controller.wait import POLL, wait_for_state
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES
from hermes_lifecycle.platforms import Platform
from hermes_lifecycle.reconcile import reconcile
from hermes_lifecycle.store import ChangeWatch
from hermes_lifecycle.store import StreamState

DEFAULT_START_TIMEOUT = 60.0


@dataclass
class StartOutcome:
    """``result``: ``started``, ``spawned`` (--no-wait), ``already_running`` or ``failed``."""

    result: str
    state: str
    pid: int | None = None
    port: int | None = None
    run_id: str | None = None
    message: str = ""
    log_tail: str = ""

    @property
    def exit_code(self) -> int:
        return 1 if self.result == "failed" else 0

    def to_json(self) -> dict[str, Any]:
        return {"result": self.result, "state": self.state, "pid": self.pid, "port": self.port,
                "run_id": self.run_id, "message": self.message, "exit_code": self.exit_code}


def _running(result: str, current: StreamState, message: str) -> StartOutcome:
    return StartOutcome(result, current.state, current.pid, current.port, current.run_id, message)


def _already(journal: Journal, current: StreamState, until: float, wait_ready: bool,
             timeout: float) -> StartOutcome:
    """Another run is alive: success only if it is (or, when waiting, becomes) ready; one
    still starting or draining when the time is up is not a gateway that serves."""
    if current.state == "starting" and wait_ready:
        wait_for_state(journal, "running", max(until - time.monotonic(), 0))
        current = reconcile(journal)
    if current.state == "draining" or (current.state == "starting" and wait_ready):
        what = "still draining" if current.state == "draining" else "not ready"
        return StartOutcome("failed", current.state, current.pid, None, current.run_id,
                            f"gateway {journal.stream} (pid {current.pid}) is {what} after {timeout:g}s")
    if current.state in ALIVE_STATES:
        port = f", port {current.port}" if current.port else ""
        return _running("already_running", current,
                        f"gateway {journal.stream} is already running (pid {current.pid}{port}, {current.state})")
    return StartOutcome("failed", current.state, None, None, current.run_id,
                        f"gateway {journal.stream} was starting and ended {current.state}")


def start_gateway(journal: Journal, platform: Platform, *, timeout: float = DEFAULT_START_TIMEOUT,
                  wait_ready: bool = True, run_args: Sequence[str] = (), env: dict[str, str] | None = None,
                  countdown: Countdown | None = None) -> StartOutcome:
    """Start the profile's gateway unless one is alive; see the module docstring."""
    countdown = countdown or Silent()
    until = time.monotonic() + timeout
    current = reconcile(journal)
    if current.state == "draining":  # on its way out: let it finish, then start a new run
        _wait_until_at_rest(journal, until)
        current = reconcile(journal)
    if current.state in ALIVE_STATES:
        return _already(journal, current, until, wait_ready, timeout)
    from hermes_lifecycle.controller.spawn import log_size, log_tail, spawn_gateway

    home = journal.home
    offset = log_size(home.stdio_log)
    watch = ChangeWatch(journal.conn)
    child = spawn_gateway(home, platform, run_args, env=env)

    def failed(message: str) -> StartOutcome:
        tail = log_tail(home.stdio_log, offset)
        state = reconcile(journal)
        return StartOutcome("failed", state.state, child.pid, None, state.run_id, message, tail)

    ours: str | None = None  # our run's id, once its `start` is in the log
    while True:
        if watch.changed():
            current = journal.state()
            if ours is None and current.run_id and _is_ours(current.pid, child.pid):
                ours = current.run_id
            if ours is not None and current.run_id == ours:
                if current.state == "running":
                    countdown.done()
                    return _running("started", current, f"gateway {journal.stream} started: "
                                    f"pid {current.pid}, port {current.port}, run {current.run_id}")
                if not wait_ready:
                    return _running("spawned", current, f"gateway {journal.stream} spawned: pid "
                                    f"{current.pid}, run {current.run_id} ({current.state})")
                if current.state not in ALIVE_STATES:
                    countdown.done()
                    return failed(f"gateway pid {child.pid} ended {current.state} before it was ready")
        code = child.poll()
        if code is not None:
            countdown.done()
            current = reconcile(journal)
            if current.run_id == ours and ours is not None and current.state not in ALIVE_STATES:
                return failed(f"gateway pid {child.pid} exited with code {code} before it was ready")
            winner = _winner(journal, until)
            if winner is not None:
                return _already(journal, winner, until, wait_ready, timeout)
            return failed(f"gateway pid {child.pid} exited with code {code} while starting")
        remaining = until - time.monotonic()
        if remaining <= 0:
            countdown.done()
            return failed(f"gateway pid {child.pid} was not ready within {timeout:g}s (it may still be starting)")
        countdown.show(f"waiting for gateway pid {child.pid} to be ready", remaining)
        time.sleep(min(POLL, remaining))


def _is_ours(pid: int | None, spawned: int) -> bool:
    """The recorded gateway is the process we spawned, or its child: a Windows venv's
    ``pythonw.exe`` is a launcher that runs the interpreter as its child and waits for it."""
    if pid is None or pid == spawned:
        return pid is not None
    import psutil

    try:
        return psutil.Process(pid).ppid() == spawned
    except psutil.Error:
        return False


def _wait_until_at_rest(journal: Journal, until: float) -> None:
    """Until the draining run has ended (reconcile also notices a silent death)."""
    while time.monotonic() < until and reconcile(journal).state in ALIVE_STATES:
        time.sleep(0.02)


def _winner(journal: Journal, until: float) -> StreamState | None:
    """After our gateway refused to boot: the gateway that holds the profile, if any.

    It may hold the instance lock a moment before its ``start`` is in the log, so a
    live gateway process of this profile is waited for until it is recorded."""
    from hermes_lifecycle.controller.discovery import find_gateway_processes

    while time.monotonic() < until:
        current = reconcile(journal)
        if current.state in ALIVE_STATES:
            return current
        if not find_gateway_processes(journal.home):
            return None
        time.sleep(0.05)
    return None
