"""``start``, ``stop`` and ``restart`` when a service is installed (chosen by :mod:`.entry`).

The service manager owns the process (it started it, it revives it), so the controller
must not spawn a second, detached gateway beside it.  But the manager's own stop is no
drain on Windows (``schtasks /End`` kills), so the controller's stop protocol still
runs first: stop request, drain wait, escalation; only then the manager's stop, which
also cancels systemd's revival of a gateway that had to be killed.  launchd has no such
stop short of unloading the agent (which ``stop`` never does): its KeepAlive revives a
killed gateway after its throttle.  Each call to the manager is a ``service_requested``
event, beside the gateway's own events.
"""

from __future__ import annotations

import os
import time
from typing import Sequence

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.controller.countdown import Countdown, Silent
from hermes_lifecycle.controller.outcome import StopOutcome
from hermes_lifecycle.controller.restart import (
    DETACHED_ENV,
    RestartOutcome,
    inside_gateway_tree,
    new_restart_id,
    restart_gateway,
)
from hermes_lifecycle.controller.start import StartOutcome
from hermes_lifecycle.controller.stop import stop_gateway
from hermes_lifecycle.controller.tree import caller_ancestry
from hermes_lifecycle.controller.wait import poll_log
from hermes_lifecycle.errors import ServiceError, UsageError
from hermes_lifecycle.identity import who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES
from hermes_lifecycle.platforms import Platform
from hermes_lifecycle.reconcile import reconcile
from hermes_lifecycle.services.base import ServiceManager

__all__ = ["restart_through_service", "start_through_service", "stop_through_service", "wait_for_new_run"]


def _ask(journal: Journal, manager: ServiceManager, action: str) -> str | None:
    """Run the manager's ``start`` or ``stop`` and record it; the error text, if it failed."""
    manager.commands.clear()
    error = None
    try:
        getattr(manager, action)()
    except ServiceError as exc:
        error = str(exc)
    journal.fire("service_requested", actor=who("controller"), reason=f"{manager.name} {action}",
                 data={"action": action, "manager": manager.name, "commands": list(manager.commands),
                       "ok": error is None, "error": error})
    return error


def start_through_service(journal: Journal, manager: ServiceManager, *, timeout: float, wait_ready: bool = True,
                          run_args: Sequence[str] = (), countdown: Countdown | None = None) -> StartOutcome:
    """Ask the manager to start the gateway, then report only what the log confirms."""
    if run_args:
        raise UsageError("a service is installed: it runs its installed command line, so `start -- OPTIONS` "
                         "cannot apply; change config.json or uninstall the service")
    current = reconcile(journal)
    if current.state in ALIVE_STATES:
        return StartOutcome("already_running", current.state, current.pid, current.port, current.run_id,
                            f"gateway {journal.stream} is already running (pid {current.pid}, {current.state})")
    error = _ask(journal, manager, "start")
    if error is not None:
        return StartOutcome("failed", current.state, run_id=current.run_id, message=error)
    return wait_for_new_run(journal, manager, after_seq=current.last_seq, old_run=None, timeout=timeout,
                            wait_ready=wait_ready, countdown=countdown or Silent())


def wait_for_new_run(journal: Journal, manager: ServiceManager, *, after_seq: int, old_run: str | None,
                     timeout: float, wait_ready: bool, countdown: Countdown) -> StartOutcome:
    """Wait for a run begun after ``after_seq`` (other than ``old_run``) to be ready."""

    def look(changed: bool) -> StartOutcome | None:
        if not changed:
            return None
        starts = [e for e in journal.events(after_seq=after_seq, triggers=("start",)) if e.run_id != old_run]
        current = journal.state()
        if not starts or current.run_id != starts[-1].run_id:
            return None
        if current.state == "running" or (not wait_ready and current.state in ALIVE_STATES):
            verb = "started" if current.state == "running" else "spawned"
            return StartOutcome(verb, current.state, current.pid, current.port, current.run_id,
                                f"gateway {journal.stream} {verb} by {manager.name}: pid {current.pid}, "
                                f"port {current.port}, run {current.run_id}")
        if current.state not in ALIVE_STATES:
            return StartOutcome("failed", current.state, current.pid, None, current.run_id,
                                f"the gateway {manager.name} started ended {current.state} before it "
                                f"was ready; see {journal.home.stdio_log} and `{CLI} status`")
        return None

    found = poll_log(journal, look, until=time.monotonic() + timeout, countdown=countdown,
                     waiting=f"waiting for {manager.name} to start the gateway")
    if found is not None:
        return found
    return StartOutcome("failed", journal.state().state, message=(
        f"{manager.name} did not bring the gateway to ready within {timeout:g}s; "
        f"`{CLI} status` shows what the service manager says"))


def stop_through_service(journal: Journal, platform: Platform, manager: ServiceManager, *,
                         timeout: float | None = None, force: bool = False,
                         countdown: Countdown | None = None) -> StopOutcome:
    """The controller's stop protocol, then the manager's stop (the service stays installed)."""
    outcome = stop_gateway(journal, platform, timeout=timeout, force=force, countdown=countdown)
    error = _ask(journal, manager, "stop")
    if error is not None:
        outcome.result = "failed"
        outcome.message += f"; then the service manager's stop failed: {error}"
    else:
        outcome.message += f"; {manager.name} holds the service stopped (still installed: `{CLI} start`)"
    return outcome


def restart_through_service(journal: Journal, platform: Platform, manager: ServiceManager, *,
                            timeout: float | None = None, start_timeout: float = 60.0,
                            restart_id: str | None = None, countdown: Countdown | None = None) -> RestartOutcome:
    """Drain with intent ``restart`` (exit 75: systemd and launchd revive it themselves);
    if the manager does not run it again, ask it to start; then wait for ``ready``."""
    if inside_gateway_tree(journal) and not os.environ.get(DETACHED_ENV):
        # the detached copy (DETACHED_ENV set) re-enters `hermes-lifecycle restart` and comes back here
        return restart_gateway(journal, platform, timeout=timeout, start_timeout=start_timeout,
                               restart_id=restart_id, countdown=countdown)
    countdown = countdown or Silent()
    outcome = RestartOutcome(restart_id or new_restart_id())
    before = reconcile(journal)
    outcome.stop = stop_gateway(journal, platform, timeout=timeout, intent="restart", restart_id=outcome.restart_id,
                                countdown=countdown, spare=caller_ancestry())
    if outcome.stop.result == "failed":
        return outcome
    if not manager.is_running():
        error = _ask(journal, manager, "start")
        if error is not None:
            outcome.start = StartOutcome("failed", journal.state().state, message=error)
            return outcome
    outcome.start = wait_for_new_run(journal, manager, after_seq=before.last_seq, old_run=before.run_id,
                                     timeout=start_timeout, wait_ready=True, countdown=countdown)
    return outcome
