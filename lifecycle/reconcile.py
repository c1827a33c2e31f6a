"""Reconciliation: history is never silently wrong about a process that vanished.

When the log says a process is alive (``starting``, ``running``, ``draining``) but no
process is it by the one identity rule (:func:`hermes_lifecycle.identity.run_is_alive`:
pid, create time, and the command line the run recorded), append ``lost`` (-> ``crashed``)
with what is known, including the process's last heartbeat (:mod:`heartbeat`: its age, RSS
and the OOM kills in its cgroup since): a pid now running another command line is a lost
gateway, as the README says.  The append names the run it means (``expect_run``, checked
inside the write transaction), so two readers noticing at once append it once and a new run
is never lost.
"""

from __future__ import annotations

from typing import Any

from hermes_lifecycle.errors import IllegalTransition, RunChanged
from hermes_lifecycle.identity import is_alive, recorded_cmdline, run_is_alive, who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES
from hermes_lifecycle.projection import StreamState


def reconcile(journal: Journal, *, actor_role: str = "controller") -> StreamState:
    """Return the stream's state after recording ``lost`` if its process is gone."""
    for _ in range(3):
        current = journal.state()
        if current.state not in ALIVE_STATES or run_is_alive(current):
            return current
        # Only a lost process needs these (a live one is the common case: `status`, `stop`).
        from hermes_lifecycle.heartbeat import read_beat
        from hermes_lifecycle.stop_request import SPOOL_AFTER

        reason, data = _why_lost(current)
        beat = read_beat(journal.home)
        if beat is not None and beat.belongs_to(current.pid, current.create_time):
            data["heartbeat"] = beat.describe_after_death()
        try:
            journal.fire("lost", actor=who(actor_role), reason=reason, data=data, expect_run=current.run_id,
                         spool_after=SPOOL_AFTER)
        except (RunChanged, IllegalTransition):
            continue  # someone else recorded the end (or a new run began): read again
    return journal.state()


def _why_lost(current: StreamState) -> tuple[str, dict[str, Any]]:
    data: dict[str, Any] = {"pid": current.pid, "create_time": current.create_time,
                            "last_state": current.state, "last_seq": current.last_seq}
    if is_alive(current.pid, current.create_time):  # the pid and create time live: another program
        from hermes_lifecycle.platforms import current_platform

        data["pid_reused"] = True
        data["cmdline_now"] = current_platform().process_command_line(current.pid or 0)
        data["cmdline_recorded"] = recorded_cmdline(current)
        reason = f"process {current.pid} now runs another command line; the gateway is gone with no shutdown recorded"
        return reason, data
    return f"process {current.pid} is gone; no shutdown was recorded", data
