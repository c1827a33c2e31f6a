"""Reconciliation: history is never silently wrong about a process that vanished.

When the log says a process is alive (``starting``, ``running``, ``draining``) but no
process with that pid *and* create time exists, append ``lost`` (-> ``crashed``)
with what is known, including the process's last heartbeat (:mod:`heartbeat`: its
age, RSS and the OOM kills in its cgroup since).  The append is guarded by the version that was read, so two
readers noticing at once append it once.
"""

from __future__ import annotations

from typing import Any

from hermes_lifecycle.errors import IllegalTransition, VersionConflict
from hermes_lifecycle.heartbeat import read_beat
from hermes_lifecycle.identity import is_alive, who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES
from hermes_lifecycle.projection import StreamState


def reconcile(journal: Journal, *, actor_role: str = "controller") -> StreamState:
    """Return the stream's state after recording ``lost`` if its process is gone."""
    for _ in range(3):
        current = journal.state()
        if current.state not in ALIVE_STATES or is_alive(current.pid, current.create_time):
            return current
        data: dict[str, Any] = {
            "pid": current.pid,
            "create_time": current.create_time,
            "last_state": current.state,
            "last_seq": current.last_seq,
        }
        beat = read_beat(journal.home)
        if beat is not None and beat.belongs_to(current.pid, current.create_time):
            data["heartbeat"] = beat.describe_after_death()
        try:
            journal.fire(
                "lost",
                actor=who(actor_role),
                reason=f"process {current.pid} is gone; no shutdown was recorded",
                data=data,
                expect_version=current.version,
            )
        except (VersionConflict, IllegalTransition):
            continue
    return journal.state()
