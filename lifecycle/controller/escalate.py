"""Force, in two recorded steps: terminate the tree, a short grace, then kill the tree.

Each step is done, then recorded as an ``escalated`` event with the pids it reached and
the signals or commands used, always: the machine accepts the step after the run reached
rest too (a gateway that drains on the terminate signal), and the write names its run
(``expect_run``), so it never lands on a newer run.  The ``kill`` transition ends the run
when the process is gone, unless the run already ended by itself.  The caller's own
ancestry is never part of the tree (see :mod:`.tree`).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from hermes_lifecycle.controller.countdown import Countdown
from hermes_lifecycle.controller.outcome import StopOutcome
from hermes_lifecycle.controller.target import Target
from hermes_lifecycle.controller.tree import ProcessTree, collect_tree, tree_as_it_is_now
from hermes_lifecycle.errors import IllegalTransition, RunChanged
from hermes_lifecycle.identity import who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import Platform
from hermes_lifecycle.stop_request import SPOOL_AFTER

#: How long a killed tree may take to vanish from the process table before we give up.
KILL_CONFIRM = 5.0
POLL = 0.005
#: Between looks when the platform wakes us at the process's exit (pidfd on Linux).
EXIT_WAKE_INTERVAL = 0.25
#: The kill goes this long before the stop's budget ends: its confirmation and its two
#: durable records (``escalated``, ``kill``) take some 20-60 ms on a loaded machine, and
#: `stop --timeout 2` must have ended by 2 s, not begun its kill then.
KILL_RESERVE = 0.1


def wait_tree_gone(tree: ProcessTree, until: float, countdown: Countdown, what: str) -> bool:
    """Poll the tree's members until none is alive or ``until`` (monotonic) passes."""
    return wait_gone(lambda: bool(tree.alive()), until, countdown, what)


def wait_gone(alive: Callable[[], bool], until: float, countdown: Countdown, what: str, *,
              sleep: Callable[[float], None] = time.sleep, interval: float = POLL) -> bool:
    """Ask ``alive()`` until it is False (True) or ``until`` (monotonic) passes (False),
    pausing with ``sleep`` for at most ``interval`` between looks (a ``sleep`` that wakes
    when the process exits can take a long interval and still answer at once)."""
    while True:
        if not alive():
            countdown.done()
            return True
        remaining = until - time.monotonic()
        if remaining <= 0:
            countdown.done()
            return False
        countdown.show(what, remaining)
        sleep(min(interval, remaining))


def escalate(journal: Journal, platform: Platform, target: Target, root: Any, *, grace: float,
             spare: frozenset[int] | None, countdown: Countdown, reason: str,
             kill_by: float | None = None) -> StopOutcome:
    """Terminate, wait ``grace`` (ending at ``kill_by``, a monotonic reading, if that comes
    first), kill; record each step and the ``kill`` at the end."""
    began = time.monotonic()
    tree = collect_tree(root, spare)
    steps = []
    done = platform.terminate_tree(target.pid, tree.processes, whole=tree.whole)
    steps.append(_record(journal, target, "terminate_tree", tree, done, reason))
    grace_ends = time.monotonic() + grace if kill_by is None else min(time.monotonic() + grace, kill_by)
    gone = wait_tree_gone(tree, grace_ends, countdown, "terminated, grace before kill")
    if not gone:
        remaining = tree_as_it_is_now(tree, root, spare)
        done = platform.kill_tree(target.pid, remaining.processes, whole=remaining.whole)
        steps.append(_record(journal, target, "kill_tree", remaining, done, reason))
        gone = wait_tree_gone(remaining, time.monotonic() + KILL_CONFIRM, countdown, "killed, waiting")
    after = round(time.monotonic() - began, 3)
    if not gone:
        return StopOutcome("failed", journal.state().state, target.run_id, target.pid,
                           f"gateway pid {target.pid} is still alive after kill; it could not be stopped",
                           steps=steps)
    state = _record_kill(journal, target, steps, after, reason)
    return StopOutcome("forced", state, target.run_id, target.pid,
                       f"gateway pid {target.pid} ended by force ({steps[-1]['step']})", steps=steps)


def _record(journal: Journal, target: Target, step: str, tree: ProcessTree, done: list[str],
            reason: str) -> dict:
    data = {"step": step, "pids": tree.pids, "spared": tree.spared, "whole_tree": tree.whole,
            "done": done, "target": target.identity.to_json()}
    try:
        journal.fire("escalated", actor=who("controller"), run_id=target.run_id, reason=reason, data=data,
                     expect_run=target.run_id, spool_after=SPOOL_AFTER)
    except RunChanged as exc:  # a new run began: the old one is long gone, never log on the new one
        import logging  # only here: `logging` costs every polite stop ~4 ms of start-up

        logging.getLogger("hermes.escalate").warning("escalation step %s not recorded: %s", step, exc)
    return data


def _record_kill(journal: Journal, target: Target, steps: list[dict], after: float, reason: str) -> str:
    """Append ``kill`` unless the run already ended in the log (it drained during the grace):
    the machine refuses ``kill`` at rest, and ``expect_run`` refuses it on another run, both
    decided inside the write transaction."""
    try:
        journal.fire("kill", actor=who("controller"), run_id=target.run_id, pid=target.pid,
                     reason=reason, data={"steps": [s["step"] for s in steps], "after_s": after},
                     expect_run=target.run_id, spool_after=SPOOL_AFTER)
    except (IllegalTransition, RunChanged):
        return journal.state().state
    return "killed"
