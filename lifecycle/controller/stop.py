"""Stopping the gateway of a profile: ask first, wait for the drain, then force.

1. Reconcile: a recorded process that is gone is recorded ``lost``; nothing alive ->
   ``not_running``.
2. Append ``stop_requested`` (target pid and create time, intent, deadline, who asked)
   *before* any signal.  Its idempotency key is the run, so two stops at once append
   one request: the second finds the first's and joins it instead of starting a second
   stop sequence.
3. On POSIX send SIGTERM (not while the run is still ``starting``: the watcher honours
   the request as soon as the gateway can drain, and a signal before its handlers are
   installed would end it with no drain at all).
4. Wait for the process to leave, until the budget minus the grace.
5. Still alive: escalate (:mod:`.escalate`).  ``force`` skips step 4.

The process is identity-checked (pid, create time, command line) before anything is
sent to it; a pid that now belongs to another process is never signalled.
"""

from __future__ import annotations

import os
import time

from hermes_lifecycle.controller.countdown import Countdown, Silent
from hermes_lifecycle.controller.escalate import (
    EXIT_WAKE_INTERVAL,
    KILL_CONFIRM,
    KILL_RESERVE,
    POLL,
    escalate,
    wait_gone,
)
from hermes_lifecycle.controller.outcome import StopOutcome
from hermes_lifecycle.controller.target import Target
from hermes_lifecycle.errors import IllegalTransition, RunChanged
from hermes_lifecycle.identity import is_alive
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES
from hermes_lifecycle.platforms import Platform
from hermes_lifecycle.reconcile import reconcile
from hermes_lifecycle.run_facts import run_facts
from hermes_lifecycle.stop_budget import GRACE, MARGIN, describe, grace_for, split

__all__ = ["GRACE", "MARGIN", "grace_for", "stop_budget", "stop_gateway"]


def budget_of(journal: Journal, timeout: float | None, run_drain_timeout: float | None = None) -> dict:
    """The stop's budget (:func:`hermes_lifecycle.stop_budget.split`): ``timeout`` as typed, else
    the run's drain timeout (as the run recorded it, else ``restart_drain_timeout``, else 30 s)
    plus a margin and the grace."""
    from hermes_lifecycle.config import drain_timeout

    return split(timeout, drain_timeout(journal.home, run_drain_timeout))


def stop_budget(journal: Journal, timeout: float | None, run_drain_timeout: float | None = None) -> float:
    """Seconds from the request until the process must be gone (see :func:`budget_of`)."""
    return timeout if timeout is not None else budget_of(journal, None, run_drain_timeout)["total_s"]


def stop_gateway(journal: Journal, platform: Platform, *, timeout: float | None = None,
                 force: bool = False, intent: str = "stop", restart_id: str | None = None,
                 countdown: Countdown | None = None, spare: frozenset[int] | None = None,
                 started_at: float | None = None) -> StopOutcome:
    """Stop the profile's gateway; see the module docstring for the sequence.

    The budget counts from ``started_at`` (a ``time.monotonic()`` reading; the CLI passes
    the moment the command began, so `--timeout 2` means two seconds after it was run),
    else from this call."""
    countdown = countdown or Silent()
    began = time.monotonic() if started_at is None else min(started_at, time.monotonic())
    asked_at = time.time() - (time.monotonic() - began)
    current = reconcile(journal)
    target = Target.of(current) if current.state in ALIVE_STATES else None
    if target is None or not target.running(platform):
        if target is not None:
            current = reconcile(journal)
            if current.state in ALIVE_STATES:
                return StopOutcome("failed", current.state, current.run_id, current.pid,
                                   f"pid {current.pid} cannot be confirmed as the recorded run's process "
                                   "(no create time recorded); nothing was signalled")
        return StopOutcome("not_running", current.state, current.run_id, None,
                           f"gateway {journal.stream} is not running ({current.state})")

    split_budget = budget_of(journal, timeout, _run_drain_timeout(journal, target))
    budget, grace = split_budget["total_s"], split_budget["grace_s"]
    from hermes_lifecycle.stop_request import request_stop

    try:
        request = request_stop(journal, target.identity, intent, asked_at + budget, "controller",
                               restart_id=restart_id, idempotency_key=f"stop:{target.run_id}:{target.pid}",
                               force=force, expect_run=target.run_id, budget=split_budget)
    except (IllegalTransition, RunChanged):  # the run ended between our look and the request
        return _left(journal, target)
    leader = (request.data.get("requested_by") or {}).get("pid")
    if leader != os.getpid():
        deadline = time.time() if force else request.data.get("deadline")  # --force waits for no one
        return _join(journal, platform, target, deadline, grace, spare, countdown, leader,
                     own=(asked_at + budget, began + budget - grace))

    if not force:
        if target.state != "starting" and target.running(platform):
            try:
                platform.send_stop_signal(target.pid)
            except ProcessLookupError:
                pass
        if _wait_exit(platform, target, began + budget - grace, countdown, f"gateway pid {target.pid} draining"):
            return _left(journal, target)
    reason = "forced (--force)" if force else f"still alive after the drain wait ({describe(split_budget)})"
    outcome = _force(journal, platform, target, grace, spare, countdown, reason,
                     kill_by=None if force else began + budget - KILL_RESERVE)
    outcome.budget = split_budget
    if outcome.result == "forced" and not force:
        outcome.message += f", after the drain wait ({describe(split_budget)})"
    return outcome


def _wait_exit(platform: Platform, target: Target, until: float, countdown: Countdown, what: str) -> bool:
    """Wait for the run's process to leave; the platform wakes us at its exit where it can
    (Linux: a pidfd), else this polls every few ms."""
    interval = EXIT_WAKE_INTERVAL if platform.wakes_at_exit else POLL
    return wait_gone(lambda: target.running(platform), until, countdown, what,
                     sleep=lambda seconds: platform.sleep_until_exit(target.pid, seconds), interval=interval)


def _force(journal: Journal, platform: Platform, target: Target, grace: float, spare: frozenset[int] | None,
           countdown: Countdown, reason: str, kill_by: float | None = None) -> StopOutcome:
    """Escalate on the run's process tree (psutil from here on: the polite path never needs it)."""
    root = target.process()
    if root is None:  # it left between the last look and now, or psutil may not reach it
        if target.running(platform):
            return StopOutcome("failed", journal.state().state, target.run_id, target.pid,
                               f"gateway pid {target.pid} is alive but cannot be reached to force it; "
                               "it could not be stopped")
        return _left(journal, target)
    outcome = escalate(journal, platform, target, root, grace=grace, spare=spare, countdown=countdown,
                       reason=reason, kill_by=kill_by)
    if outcome.result == "forced" and outcome.state != "killed":
        # The run drained on the terminate signal before any kill: the log says `drained`,
        # so the stop says so too (with the force steps it took, which are on the log).
        steps = outcome.steps
        outcome = _left(journal, target)
        outcome.steps = steps
        outcome.message += f" (force sent {', then '.join(_step_words(s) for s in steps)}; the run drained first)"
    return outcome


def _step_words(step: dict) -> str:
    done = step.get("done") or []
    return f"{step['step']}: {done[0]}" if done else str(step["step"])


def _run_drain_timeout(journal: Journal, target: Target) -> float | None:
    """The drain timeout the run itself resolved (its `start` event records it), else its
    command line's ``--drain-timeout``: the config may have changed since it started."""
    facts = run_facts(journal, target.run_id)
    return facts.drain_timeout if facts is not None else target.drain_timeout_option


def _join(journal: Journal, platform: Platform, target: Target, deadline: float | None,
          grace: float, spare: frozenset[int] | None, countdown: Countdown, leader: int | None,
          own: tuple[float, float]) -> StopOutcome:
    """Another stop of this run is under way: wait for its outcome, and take over the
    escalation only if the process outlives that stop's deadline (its controller died).

    ``own`` is our deadline (epoch) and when we would force (monotonic): clearly earlier
    than theirs (their stop was interrupted, or given a longer ``--timeout``), ours holds.
    Two stops run at once have nearly the same deadline: the first one's escalation runs
    alone, with a grace and margin to record it."""
    theirs = time.monotonic() + max((deadline or time.time()) - time.time(), 0) + grace + MARGIN
    own_deadline, own_until = own
    ours_first = deadline is not None and own_deadline < deadline - grace - MARGIN
    until = own_until if ours_first else theirs
    if _wait_exit(platform, target, until, countdown, f"joined a stop of pid {target.pid} already under way"):
        _let_the_leader_record(journal, platform, target, leader)
        outcome = _left(journal, target)
        outcome.joined = True
        if outcome.state == "killed":
            outcome.result = "forced"
        return outcome
    outcome = _force(journal, platform, target, grace, spare, countdown,
                     "an earlier stop request passed its deadline")
    outcome.joined = True
    return outcome


def _let_the_leader_record(journal: Journal, platform: Platform, target: Target, leader: int | None,
                           patience: float = KILL_CONFIRM + MARGIN) -> None:
    """The stop we joined writes how the run ended (``kill``, after its ``escalated``) just
    after the process is gone; reconciling first would record ``lost`` in its place.

    So wait while that stop's process lives: on a busy machine its two durable writes
    can take longer than any fixed patience (the joiner then recorded ``lost``, the
    leader's ``kill`` was refused, and the run showed crashed).  A leader that died
    has nothing more to write: reconcile at once."""
    until = time.monotonic() + patience
    while time.monotonic() < until:
        current = journal.state()
        if current.state not in ALIVE_STATES or current.run_id != target.run_id:
            return
        if leader is None or not is_alive(leader, None, platform):
            return
        time.sleep(POLL)


def _left(journal: Journal, target: Target) -> StopOutcome:
    """The process left on its own: the log should say how (``drained``), else ``lost``; a
    drain whose timeout ran out (work abandoned) is its own result, with what was abandoned."""
    current = reconcile(journal)
    drain = drain_of(journal, target.run_id)
    if current.state == "stopped" and drain["timed_out"]:
        return StopOutcome("drain_timed_out", current.state, target.run_id, target.pid,
                           f"gateway pid {target.pid} stopped, but its drain timed out"
                           f"{abandoned_phrase(drain)}", drain=drain)
    how = {"stopped": "stopped after a drain", "crashed": "exited without a recorded drain",
           "killed": "killed"}.get(current.state, current.state)
    return StopOutcome("stopped", current.state, target.run_id, target.pid,
                       f"gateway pid {target.pid} {how}", drain=drain)


def drain_of(journal: Journal, run_id: str | None) -> dict:
    """What the run's ``drain_timeout`` event says: whether the drain ran out, after how long,
    and the work it abandoned (the same reading as forensics' ``drain``)."""
    timeouts = journal.events(run_id=run_id, triggers=("drain_timeout",), limit=1) if run_id else []
    if not timeouts:
        return {"timed_out": False, "timeout_s": None, "abandoned": [], "abandoned_count": 0}
    data = timeouts[0].data
    abandoned = data.get("abandoned")
    listed = abandoned if isinstance(abandoned, list) else []
    count = len(abandoned) if isinstance(abandoned, (list, dict)) else int(abandoned or 0)
    return {"timed_out": True, "timeout_s": data.get("timeout_s", data.get("timeout")),
            "abandoned": listed, "abandoned_count": count}


def abandoned_phrase(drain: dict) -> str:
    """`` after 1 s: 1 request abandoned`` for a stop's line."""
    after = f" after {drain['timeout_s']:g} s" if isinstance(drain.get("timeout_s"), (int, float)) else ""
    n = drain["abandoned_count"]
    return f"{after}: {n} in-flight request{'s' if n != 1 else ''} abandoned"
