"""``stop --strays``: stray gateway processes of this profile that the log does not know.

A stray has no run in the log to address a stop request to, so it is asked with the
platform's stop signal where there is one (SIGTERM on POSIX), given the budget to drain,
then terminated and killed as a tree.  Each one that ends is recorded as an ``exited``
event (a side step allowed in every state), so the log still says what was done.
"""

from __future__ import annotations

import time

from hermes_lifecycle.controller.countdown import Silent
from hermes_lifecycle.controller.discovery import GatewayProcess, find_strays
from hermes_lifecycle.controller.escalate import KILL_CONFIRM, wait_tree_gone
from hermes_lifecycle.controller.outcome import StopOutcome
from hermes_lifecycle.controller.stop import grace_for, stop_budget
from hermes_lifecycle.controller.tree import ProcessTree, collect_tree, tree_as_it_is_now
from hermes_lifecycle.identity import CREATE_TIME_TOLERANCE, who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import Platform


def stop_strays(journal: Journal, platform: Platform, *, timeout: float | None = None,
                force: bool = False) -> list[StopOutcome]:
    """Stop every stray of the profile; one outcome each.  ``force`` skips the polite ask
    and its wait, as it does for the recorded run."""
    strays = find_strays(journal.home, journal.state())
    if not strays:
        return []
    budget = stop_budget(journal, timeout)
    return [_stop_one(journal, platform, stray, budget, force) for stray in strays]


def _process(stray: GatewayProcess):
    """The live process if it is still the stray discovery saw: create time and command line."""
    import psutil

    try:
        proc = psutil.Process(stray.pid)
        if abs(proc.create_time() - stray.create_time) > CREATE_TIME_TOLERANCE:
            return None
        if tuple(proc.cmdline()) != stray.cmdline:
            return None
    except psutil.Error:
        return None
    return proc


def _stop_one(journal: Journal, platform: Platform, stray: GatewayProcess, budget: float,
              force: bool = False) -> StopOutcome:
    state = journal.state().state
    proc = _process(stray)
    if proc is None:
        return StopOutcome("stopped", state, None, stray.pid, f"stray pid {stray.pid} was already gone")
    grace, silent, began = grace_for(budget), Silent(), time.monotonic()
    asked = None
    try:
        asked = None if force else platform.send_stop_signal(stray.pid)
    except ProcessLookupError:
        pass
    steps = [asked] if asked else []
    tree = ProcessTree(stray.pid, [proc])
    gone = asked is not None and wait_tree_gone(tree, began + budget - grace, silent, "stray")
    if not gone:
        tree = collect_tree(proc)
        steps += platform.terminate_tree(stray.pid, tree.processes, whole=tree.whole)
        gone = wait_tree_gone(tree, time.monotonic() + grace, silent, "stray")
        if not gone:
            remaining = tree_as_it_is_now(tree, proc, None)
            steps += platform.kill_tree(stray.pid, remaining.processes, whole=remaining.whole)
            gone = wait_tree_gone(remaining, time.monotonic() + KILL_CONFIRM, silent, "stray")
    result = "failed" if not gone else ("stopped" if len(steps) <= 1 and asked else "forced")
    journal.fire("exited", actor=who("controller"), run_id=f"stray-{stray.pid}-{int(stray.create_time)}",
                 pid=stray.pid,
                 reason=f"stray gateway (unknown to the log) {result} by stop --strays",
                 data={"stray": stray.to_json(), "result": result, "steps": steps,
                       "after_s": round(time.monotonic() - began, 3)})
    word = {"stopped": "stopped", "forced": "ended by force", "failed": "could not be stopped"}[result]
    return StopOutcome(result, state, None, stray.pid, f"stray gateway pid {stray.pid} {word}")
