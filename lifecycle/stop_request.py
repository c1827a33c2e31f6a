"""THE stop request: what the controller writes, and how a gateway decides it is meant.

A stop request is a ``stop_requested`` event in the profile's log, appended *before*
anything is signalled.  It names its target by pid **and** create time, because pids
are reused: a request meant for a gateway that died must never stop the process that
inherited its pid.  The gateway's watcher (``lifecycle.runtime.watcher``) applies
:func:`judge` to every request it sees:

- ``mine``: pid and create time match this process, written after it started: drain;
- ``other``: another pid: someone else's business, left alone;
- ``refuse``: this pid, but another create time, or written before this process
  started (the pid was reused): a ``stop_refused`` event says why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hermes_lifecycle.errors import InvalidStopRequest
from hermes_lifecycle.exit_codes import GatewayExit
from hermes_lifecycle.identity import CREATE_TIME_TOLERANCE, ProcessIdentity, who, who_details
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.store import Event, parse_at

INTENTS: tuple[str, ...] = ("stop", "restart")
#: What a drained gateway exits with, per intent: 0 stays down, 75 (EX_TEMPFAIL) comes back.
EXIT_CODES: dict[str, int] = {"stop": GatewayExit.STOPPED, "restart": GatewayExit.RESTART}

MINE, OTHER, REFUSE = "mine", "other", "refuse"

#: How long a writer on the stop path waits for a locked database before it keeps its event
#: in the spool and goes on (see lifecycle/spooled.py): a stop must not wait on the log.
SPOOL_AFTER = 1.0

#: The restart id handed to the gateway a restart starts; the gateway records it in its
#: ``start`` event, so the restart's stop request and the new run's start name the same id.
RESTART_ID_ENV = "HERMES_RESTART_ID"


@dataclass(frozen=True)
class StopRequest:
    """A parsed ``stop_requested`` event."""

    seq: int
    at: str
    target: ProcessIdentity
    intent: str
    deadline: float | None
    requested_by: dict[str, Any]
    actor: str
    restart_id: str | None = None

    @classmethod
    def from_event(cls, event: Event) -> "StopRequest":
        data = event.data
        target = data.get("target") or {}
        try:
            identity = ProcessIdentity(int(target["pid"]), float(target["create_time"]))
        except (KeyError, TypeError, ValueError):
            raise InvalidStopRequest(f"stop request seq {event.seq} has no usable target pid/create_time") from None
        return cls(
            seq=event.seq,
            at=event.at,
            target=identity,
            intent=data.get("intent", "stop"),
            deadline=data.get("deadline"),
            requested_by=data.get("requested_by") or {},
            actor=event.actor,
            restart_id=data.get("restart_id"),
        )

    @property
    def exit_code(self) -> int:
        return int(EXIT_CODES.get(self.intent, GatewayExit.STOPPED))

    def describe(self) -> dict[str, Any]:
        """The facts a ``drain`` caused by this request carries in its data."""
        return {"cause": "stop_request", "request_seq": self.seq, "intent": self.intent,
                "requested_by": self.requested_by, "actor": self.actor, "restart_id": self.restart_id}


@dataclass(frozen=True)
class Verdict:
    decision: str  # MINE, OTHER or REFUSE
    why: str


def _deadline_epoch(deadline: float | datetime | None) -> float | None:
    if deadline is None:
        return None
    if isinstance(deadline, datetime):
        if deadline.tzinfo is None:
            raise InvalidStopRequest("deadline must be timezone-aware (use UTC)")
        return deadline.timestamp()
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        raise InvalidStopRequest(f"deadline must be epoch seconds or a datetime, not {deadline!r}")
    return float(deadline)


def request_stop(
    journal: Journal,
    target: ProcessIdentity,
    intent: str,
    deadline: float | datetime | None,
    actor_role: str,
    restart_id: str | None = None,
    idempotency_key: str | None = None,
    force: bool = False,
    expect_run: str | None = None,
    budget: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    """Append ``stop_requested`` addressed to ``target``; return the committed event.

    ``force`` records that the asker will not wait for the drain (``stop --force``): a
    gateway that drains anyway on the terminate signal still leaves that on the record.

    ``expect_run`` is the run the asker means: if the stream moved to another run meanwhile,
    :class:`hermes_lifecycle.errors.RunChanged` (checked inside the write transaction).
    ``budget`` is how the asker split its time (:func:`hermes_lifecycle.controller.budget.split`).

    ``deadline`` is when the asker will stop waiting and escalate (epoch seconds or an
    aware datetime).  ``details`` adds to ``requested_by`` what only the asker knows (a
    service manager's invocation and result).  Raises :class:`InvalidStopRequest` for a bad intent, and
    :class:`hermes_lifecycle.errors.IllegalTransition` when no gateway is alive in the log.
    """
    if intent not in INTENTS:
        raise InvalidStopRequest(f"intent must be one of {', '.join(INTENTS)}, not {intent!r}")
    epoch = _deadline_epoch(deadline)
    data: dict[str, Any] = {
        "target": target.to_json(),
        "intent": intent,
        "deadline": epoch,
        "deadline_at": None if epoch is None else
        datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "requested_by": {**who_details(actor_role), **(details or {})},
    }
    if restart_id is not None:
        data["restart_id"] = restart_id
    if force:
        data["force"] = True
    if budget is not None:
        data["budget"] = budget
    return journal.fire(
        "stop_requested",
        actor=who(actor_role),
        pid=os.getpid(),
        reason=intent,
        data=data,
        idempotency_key=idempotency_key,
        expect_run=expect_run,
        spool_after=SPOOL_AFTER,
    )


def judge(request: StopRequest, me: ProcessIdentity) -> Verdict:
    """Decide whether ``request`` is addressed to the process ``me``.  Pure."""
    if request.target.pid != me.pid:
        return Verdict(OTHER, f"addressed to pid {request.target.pid}, not {me.pid}")
    if abs(request.target.create_time - me.create_time) > CREATE_TIME_TOLERANCE:
        return Verdict(REFUSE, f"pid {me.pid} was reused: the request targets the process created at "
                               f"{request.target.create_time:.3f}, this one was created at {me.create_time:.3f}")
    written = parse_at(request.at).timestamp()
    if written + CREATE_TIME_TOLERANCE < me.create_time:
        return Verdict(REFUSE, f"written at {request.at}, before this process (pid {me.pid}) started")
    return Verdict(MINE, f"addressed to this process (pid {me.pid})")
