"""hermes-agent's instance records, kept by our runtime while it hosts hermes-agent's runner.

hermes-agent knows its gateway by three things in its home (``gateway/status.py``): the
runtime lock ``gateway.lock`` (an exclusive OS lock held while it runs), ``gateway.pid``
(JSON: pid, kind, argv, start time) and the live command line of that pid, which must
read ``hermes … gateway run``.  We take the lock and write the pid file with
hermes-agent's own helpers, so its ``hermes gateway status`` and ``stop`` find our
process and its ``hermes gateway run`` refuses a second gateway.  The command line is
the one thing we cannot write: a gateway started as ``hermes lifecycle gateway run …``
(our plugin command inside hermes-agent's CLI) has one; one started as
``hermes-lifecycle gateway run`` has not, and hermes-agent's tools do not see it (the
``ready`` event says so, and a warning is logged).

Its ``hermes gateway stop`` writes ``.gateway-planned-stop.json`` naming its target and
itself, then sends SIGTERM.  When that marker names this process we append the
``stop_requested`` it stands for (actor: hermes-agent's stop, with the stopper's pid), so
the drain is a planned stop (exit 0) that says who asked, not an unplanned signal.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from hermes_lifecycle.errors import GatewayAlreadyRunning
from hermes_lifecycle.identity import own_identity
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.runtime.app import RuntimeContext

log = logging.getLogger("hermes.hermes_agent")


def _process_facts(pid: object) -> dict[str, Any]:
    """User and command line of the stopper (a local process, still waiting for us to exit), as
    far as they can be read; the host is this one (the marker is a file in this home)."""
    import socket

    import psutil

    facts: dict[str, Any] = {"host": socket.gethostname()}
    if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
        try:
            process = psutil.Process(pid)
            facts.update(user=process.username(), argv=process.cmdline())
        except psutil.Error:
            pass
    return facts


class InstanceRecords:
    """hermes-agent's ``gateway.lock`` and ``gateway.pid``, held by this process."""

    def __init__(self, journal: Journal, run_id: str, recognised: bool) -> None:
        self.journal = journal
        self.run_id = run_id
        self.recognised = recognised

    @classmethod
    def take(cls, ctx: RuntimeContext) -> "InstanceRecords":
        """Take the runtime lock and write the pid file; refuse if hermes-agent's own gateway holds it."""
        from gateway import status

        if not status.acquire_gateway_runtime_lock():
            holder = status._read_gateway_lock_record() or {}
            raise GatewayAlreadyRunning(
                f"hermes-agent's own gateway holds {status._get_gateway_lock_path()} "
                f"(pid {holder.get('pid', 'unknown')}); stop it with hermes-agent's `hermes gateway stop` first")
        try:
            # We hold the lock, so a pid file left behind is a dead gateway's.
            status._get_pid_path().unlink(missing_ok=True)
            status.write_pid_file()
        except BaseException:
            status.release_gateway_runtime_lock()
            raise
        cmdline = status._read_process_cmdline(os.getpid())
        recognised = status.looks_like_gateway_runtime_command_line(cmdline)
        if not recognised:
            log.warning("hermes-agent will not recognise this process as its gateway: it looks for a "
                        "`hermes … gateway run` command line (this one: %s); start it as `hermes lifecycle "
                        "gateway run --app …` for its `gateway status`, `stop` and `run` to see it", cmdline)
        return cls(ctx.journal, ctx.run_id, recognised)

    def describe(self) -> dict[str, Any]:
        """For the ``ready`` event: where the records are and whether hermes-agent will see them."""
        from gateway import status

        return {"pid_file": str(status._get_pid_path()), "lock": str(status._get_gateway_lock_path()),
                "seen_by_hermes_agent": self.recognised}

    def record_planned_stop(self, signal_name: str) -> bool:
        """If hermes-agent's planned-stop marker names this process, consume it and append
        the ``stop_requested`` it stands for; return whether it did."""
        from gateway import status

        path = status._get_planned_stop_marker_path()
        try:
            marker = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(marker, dict) or not status.planned_stop_marker_targets_self():
            return False
        status.consume_planned_stop_marker_for_self()
        stopper = marker.get("stopper_pid")
        me = own_identity()
        asked_by = {"role": "hermes-agent's `hermes gateway stop`", **_process_facts(stopper), "pid": stopper,
                    "marker": str(path), "written_at": marker.get("written_at"), "signal": signal_name}
        actor = f"hermes-agent gateway stop {asked_by.get('user', '?')}@{asked_by['host']} pid {stopper}"
        self.journal.fire("stop_requested", actor=actor,
                          pid=stopper if isinstance(stopper, int) else None, reason="stop",
                          data={"target": me.to_json(), "intent": "stop", "deadline": None,
                                "deadline_at": None, "requested_by": asked_by})
        return True

    def release(self) -> None:
        """Remove the pid file and give back the lock (the runner's ``stop`` does too; both are idempotent)."""
        from gateway import status

        status.remove_pid_file()
        status.release_gateway_runtime_lock()
