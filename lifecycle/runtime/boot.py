"""Boot: one gateway per profile (the OS instance lock), ``--replace`` hand-over, ``start``.

The instance lock is an OS lock released by the kernel however the process ends, so a
crashed gateway never blocks the next one.  A second ``run`` refuses and names the
running pid; ``--replace`` asks the old run to stop through the normal stop protocol
(a ``stop_requested`` event, plus SIGTERM where the loop takes signals), waits for the
lock, and never touches another profile.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Any

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.errors import GatewayAlreadyRunning, GatewayError, IllegalTransition, RunChanged
from hermes_lifecycle.foreign_gateway import hermes_agent_gateway
from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import ProcessIdentity, run_is_alive, who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES, START_TRIGGER
from hermes_lifecycle.platforms import InstanceLock, Platform
from hermes_lifecycle.run_facts import run_facts
from hermes_lifecycle.stop_request import RESTART_ID_ENV, request_stop
from hermes_lifecycle.store import Event

#: Beyond the old run's drain timeout, how long ``--replace`` waits for its lock.
REPLACE_MARGIN = 5.0
LOCK_POLL = 0.05


def new_run_id() -> str:
    """Sortable and unique: ``r-20261126T124627-1a2b3c``."""
    return f"r-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def _holder(journal: Journal) -> str:
    state = journal.state()
    if state.state in ALIVE_STATES and run_is_alive(state):
        return f"pid {state.pid}, run {state.run_id}, {state.state}"
    return "a process that has not recorded its start yet"


def acquire_instance(home: Home, platform: Platform, journal: Journal, *, replace: bool,
                     fallback_wait_s: float) -> InstanceLock:
    """Take the profile's instance lock (see :func:`_take_lock`), then refuse, giving it back,
    while hermes-agent's own gateway runs in the home: one home, one gateway."""
    lock = _take_lock(home, platform, journal, replace=replace, fallback_wait_s=fallback_wait_s)
    foreign = hermes_agent_gateway(home, platform, booting=True)
    if foreign is not None:
        lock.release()
        raise GatewayAlreadyRunning(foreign)
    return lock


def _take_lock(home: Home, platform: Platform, journal: Journal, *, replace: bool,
               fallback_wait_s: float) -> InstanceLock:
    """Take the profile's instance lock, handing over from the running gateway if ``replace``.

    The hand-over waits for the old run's own drain timeout (from its ``start`` event,
    else ``fallback_wait_s``) plus :data:`REPLACE_MARGIN`.
    """
    lock = platform.try_lock(home.instance_lock)
    if lock is not None:
        return lock
    if not replace:
        raise GatewayAlreadyRunning(
            f"a gateway is already running for profile {home.profile!r} ({_holder(journal)}); "
            f"stop it with `{CLI} stop`, or run with --replace to take over")
    wait_s = _old_drain_timeout(journal, fallback_wait_s) + REPLACE_MARGIN
    asked = ask_old_run_to_stop(journal, platform, wait_s)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        lock = platform.try_lock(home.instance_lock)
        if lock is not None:
            return lock
        threading.Event().wait(LOCK_POLL)
    raise GatewayError(f"--replace: the running gateway ({asked}) did not stop within {wait_s:g} s; "
                       f"it was left running: try `{CLI} stop`, which escalates")


def _old_drain_timeout(journal: Journal, fallback: float) -> float:
    """The old run's own drain timeout (:func:`hermes_lifecycle.run_facts.run_facts`), else ``fallback``."""
    facts = run_facts(journal, journal.state().run_id)
    return facts.drain_timeout if facts is not None and facts.drain_timeout else fallback


def ask_old_run_to_stop(journal: Journal, platform: Platform, wait_s: float) -> str:
    """Append a stop request for the recorded run and signal it where signals reach the loop."""
    state = journal.state()
    if state.state not in ALIVE_STATES or not run_is_alive(state, platform) or state.pid is None:
        return _holder(journal)
    target = ProcessIdentity(state.pid, state.create_time or 0.0)
    try:
        request_stop(journal, target, "stop", time.time() + wait_s, "gateway", expect_run=state.run_id)
    except (IllegalTransition, RunChanged):  # it ended by itself since the look: nothing to ask
        return f"pid {state.pid}, run {state.run_id}, which ended by itself"
    if "SIGTERM" in platform.loop_signals and run_is_alive(state, platform):
        try:
            os.kill(target.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return f"pid {state.pid}, run {state.run_id}"


def take_restart_id() -> str | None:
    """The id of the restart that started this gateway (``HERMES_RESTART_ID``), if any.

    Removed from the environment once read: it names this boot only, and a process the
    gateway starts later must not claim it.
    """
    return os.environ.pop(RESTART_ID_ENV, None) or None


def fire_start(journal: Journal, me: ProcessIdentity, run_id: str, facts: dict[str, Any]) -> Event:
    """Append ``start`` for this process: pid, create time and command line identify it,
    and ``restart_id`` links it to the restart (and its stop request) that started it."""
    import psutil

    try:
        cmdline = psutil.Process(me.pid).cmdline()
    except psutil.Error:
        cmdline = list(sys.argv)
    data = {"create_time": me.create_time, "cmdline": cmdline, **facts}
    restart_id = take_restart_id()
    if restart_id is not None:
        data["restart_id"] = restart_id
    return journal.fire(START_TRIGGER, actor=who("gateway"), run_id=run_id, pid=me.pid,
                        reason=f"{CLI} run", data=data)
