"""The story of one run, read from its events alone: what stopped it, how it drained, how it ended.

A person reads :func:`hermes_lifecycle.history.verdict.verdict` in one line; a script reads the
:class:`Story` as JSON with the stable field names documented in the README.  The
story is built from the log only (no process table), so it tells the same thing
tomorrow as it does today.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.errors import HermesError
from hermes_lifecycle.history.runs import ENDINGS, newest_run_id, next_run_start, run_events
from hermes_lifecycle.machine import START_TRIGGER
from hermes_lifecycle.run_facts import RunFacts
from hermes_lifecycle.stop_budget import deadline_seconds
from hermes_lifecycle.store.events import Event, parse_at

#: Signal names and console events that mean the console (or session) went away.
CONSOLE_EVENTS = ("CTRL_CLOSE_EVENT", "CTRL_LOGOFF_EVENT", "CTRL_SHUTDOWN_EVENT", "console_close")


class RunNotFound(HermesError):
    def __init__(self, stream: str, run_id: str | None) -> None:
        what = f"no run {run_id!r}" if run_id else "no run at all"
        super().__init__(f"{what} in the log of profile {stream!r}; "
                         f"`{CLI} status --history` lists the runs")


def signal_name(value: Any) -> str | None:
    """``15``, ``"15"``, ``"SIGTERM"`` and ``"TERM"`` all read as ``"SIGTERM"``."""
    if value is None:
        return None
    import signal as _signal

    text = str(value)
    if text.lstrip("-").isdigit():
        try:
            return _signal.Signals(abs(int(text))).name
        except ValueError:
            return f"signal {text}"
    if text.isupper() and not text.startswith(("SIG", "CTRL_")) and hasattr(_signal, "SIG" + text):
        return "SIG" + text
    return text


def _seconds(since: str, until: str) -> float:
    return round((parse_at(until) - parse_at(since)).total_seconds(), 6)


def _session_ids(event: Event) -> list[str]:
    """Session ids named by a resume step (``sessions``/``session_ids`` lists, ``session``/``session_id``)."""
    data = event.data
    for key in ("sessions", "session_ids"):
        if isinstance(data.get(key), list):
            return [str(s) for s in data[key]]
    for key in ("session", "session_id"):
        if data.get(key) is not None:
            return [str(data[key])]
    return []


def _signal_sent(done: Any) -> str | None:
    """The signal a POSIX force step names first in its ``done`` list ("SIGKILL to 4242, 4250")."""
    for entry in done if isinstance(done, list) else []:
        word = str(entry).split(" ", 1)[0]
        if word.startswith("SIG") and word[3:].isalpha():
            return word
    return None


def _count(value: Any) -> int:
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    if isinstance(value, (int, float)):
        return int(value)
    return 0


@dataclass
class Story:
    """Everything the log says about one run; ``to_json`` is the documented shape."""

    stream: str
    run_id: str
    events: list[Event]
    next_run: list[Event] = field(default_factory=list)

    def _first(self, trigger: str) -> Event | None:
        return next((e for e in self.events if e.trigger == trigger), None)

    def _all(self, trigger: str) -> list[Event]:
        return [e for e in self.events if e.trigger == trigger]

    @property
    def start(self) -> Event:
        return self._first(START_TRIGGER) or self.events[0]

    @property
    def facts(self) -> RunFacts:
        """What the run recorded about itself at its start (drain timeout, command line, ...)."""
        return RunFacts.from_start(self.start)

    @property
    def end(self) -> Event | None:
        return next((e for e in reversed(self.events) if e.is_transition and e.trigger in ENDINGS), None)

    @property
    def state(self) -> str:
        transitions = [e for e in self.events if e.is_transition]
        return transitions[-1].to_state if transitions else self.events[-1].to_state

    def t(self, event: Event) -> float:
        return _seconds(self.start.at, event.at)

    def stop_cause(self) -> dict[str, Any]:
        request = self._first("stop_requested")
        signals = self._all("signal_received")
        signal = signal_name(signals[0].data.get("signal") or signals[0].data.get("console_event")
                             or signals[0].data.get("event")) if signals else None
        drain = self._first("drain")
        during_start = any(e.from_state == "starting" for e in (request, drain) if e is not None)
        never_ready = self._first("ready") is None
        cause: dict[str, Any] = {
            "kind": "none", "requested_by": None, "requested_at": None, "intent": None,
            "restart_id": None, "deadline": None, "drain_timeout_s": None, "force": False,
            "signal": signal, "during_start": during_start, "never_ready": never_ready,
            "drain_reason": drain.reason if drain else None,
        }
        if request is not None:
            cause.update(kind="stop_request", requested_by=request.data.get("requested_by") or
                         {"actor": request.actor}, requested_at=request.at,
                         intent=request.data.get("intent", "stop"),
                         restart_id=request.data.get("restart_id"), deadline=request.data.get("deadline"),
                         drain_timeout_s=self.facts.drain_timeout or deadline_seconds(request),
                         force=bool(request.data.get("force")) or any(
                             "--force" in (e.reason or "") for e in self._all("escalated")))
        elif signal is not None:
            cause["kind"] = "console_close" if signal in CONSOLE_EVENTS else "signal"
        return cause

    def drain(self) -> dict[str, Any] | None:
        began = self._first("drain")
        if began is None:
            return None
        done = self._first("drained")
        timeout = self._first("drain_timeout")
        marked = self._first("resume_pending_marked")
        in_flight = began.data.get("in_flight", [])  # the gateway names work in flight only when there is some
        abandoned = timeout.data.get("abandoned") if timeout else None
        until = done or self.end
        return {
            "started_at": began.at,
            "t_s": self.t(began),
            "duration_s": _seconds(began.at, until.at) if until else None,
            "completed": done is not None,
            "in_flight": in_flight,
            "in_flight_count": _count(in_flight),
            "sessions_marked": len(_session_ids(marked)) if marked else 0,
            "timed_out": timeout is not None,
            "timeout_s": (timeout.data.get("timeout_s", timeout.data.get("timeout")) if timeout
                          else self.facts.drain_timeout),
            "abandoned": abandoned,
            "abandoned_count": _count(abandoned),
        }

    def resume(self) -> dict[str, Any]:
        """Sessions this run marked for resume, and what the next run did with each."""
        marked = [sid for event in self._all("resume_pending_marked") for sid in _session_ids(event)]
        resumed_next = {sid: e for e in self.next_run if e.trigger == "session_resumed" for sid in _session_ids(e)}
        abandoned_next = {sid: e for e in self.next_run if e.trigger == "resume_abandoned"
                          for sid in _session_ids(e)}
        next_id = self.next_run[0].run_id if self.next_run else None
        next_alive = bool(self.next_run) and not any(
            e.is_transition and e.trigger in ENDINGS for e in self.next_run)
        sessions = []
        for sid in marked:
            if sid in resumed_next:
                outcome, at = "resumed", resumed_next[sid].at
            elif sid in abandoned_next:
                outcome, at = "abandoned", abandoned_next[sid].at
            elif not self.next_run:
                outcome, at = "waiting", None
            else:
                outcome, at = ("pending" if next_alive else "not_resumed"), None
            sessions.append({"session_id": sid, "outcome": outcome, "next_run_id": next_id, "at": at})
        return {
            "marked": marked,
            "sessions": sessions,
            "resumed_at_boot": [sid for e in self._all("session_resumed") for sid in _session_ids(e)],
            "abandoned_at_boot": [sid for e in self._all("resume_abandoned") for sid in _session_ids(e)],
        }

    def restart(self) -> dict[str, Any] | None:
        """For a run a restart stopped: the restart id and the run that restart brought up.

        ``linked_by`` says how the next run is known: ``restart_id`` when its ``start``
        carries the same id (``hermes-lifecycle restart`` hands it over in the environment),
        ``order`` when its ``start`` carries none: a service manager revived the gateway, and no
        environment travels that way, so the first run after the request is the one.
        """
        request = next((e for e in self._all("stop_requested") if e.data.get("intent") == "restart"), None)
        if request is None:
            return None
        restart_id = request.data.get("restart_id")
        following = self.next_run[0] if self.next_run and self.next_run[0].trigger == START_TRIGGER else None
        carried = following.data.get("restart_id") if following else None
        if following is None or (carried is not None and carried != restart_id):
            linked_by = None
        else:
            linked_by = "restart_id" if carried is not None else "order"
        return {"restart_id": restart_id, "requested_at": request.at,
                "next_run_id": following.run_id if following is not None and linked_by else None,
                "linked_by": linked_by}

    def escalation(self) -> list[dict[str, Any]]:
        """Each force step with what it did: ``done`` as recorded ("SIGTERM to 4242", a taskkill
        command line), and ``signal`` read from it where a signal was sent."""
        return [{"at": e.at, "t_s": self.t(e), "step": e.data.get("step"),
                 "signal": signal_name(e.data.get("signal")) or _signal_sent(e.data.get("done")),
                 "pids": e.data.get("pids", []), "done": e.data.get("done", []), "actor": e.actor}
                for e in self._all("escalated")]

    def exit(self) -> dict[str, Any] | None:
        """The exit as observed (``exited``), else as the gateway announced it (``drained``, ``start_failed``)."""
        exited = self._all("exited")
        forced = self._first("exit_forced")
        announced = next((e for e in reversed(self.events) if e.trigger in ("drained", "start_failed")
                          and "exit_code" in e.data), None)
        if not exited and forced is None and announced is None:
            return None
        last = exited[-1].data if exited else (announced.data if announced else {})
        code = last.get("exit_code", forced.data.get("exit_code") if forced else None)
        return {"code": code, "signal": signal_name(last.get("signal")),
                "observed": bool(exited), "forced": forced is not None,
                "forced_reason": forced.reason if forced else None,
                "service_result": last.get("service_result") if exited else None}

    def last_sign_of_life(self) -> dict[str, Any] | None:
        """For a crash: the last event before ``lost``, and how long before the loss was noticed."""
        end = self.end
        if end is None or end.trigger != "lost":
            return None
        before = [e for e in self.events if e.seq < end.seq]
        if not before:
            return None
        last = before[-1]
        return {"at": last.at, "trigger": last.trigger, "noticed_at": end.at,
                "seconds_before_noticed": _seconds(last.at, end.at), "noticed_by": end.actor}

    def heartbeat(self) -> dict[str, Any] | None:
        """For a crash: the last heartbeat ``lost`` found (age, RSS, OOM kills in its cgroup since)."""
        end = self.end
        if end is None or end.trigger != "lost":
            return None
        return end.data.get("heartbeat")

    def timeline(self) -> list[dict[str, Any]]:
        return [{"seq": e.seq, "at": e.at, "t_s": self.t(e), "trigger": e.trigger, "kind": e.kind,
                 "from": e.from_state, "to": e.to_state, "actor": e.actor, "reason": e.reason,
                 "data": e.data} for e in self.events]

    def to_json(self) -> dict[str, Any]:
        from hermes_lifecycle.history.verdict import ending, verdict

        end = self.end
        return {
            "profile": self.stream,
            "run_id": self.run_id,
            "pid": self.start.pid,
            "state": self.state,
            "started_at": self.start.at,
            "started_by_restart": self.start.data.get("restart_id"),
            "ended_at": end.at if end else None,
            "duration_s": self.t(end) if end else None,
            "end": end.trigger if end else None,
            "ending": ending(self),
            "verdict": verdict(self),
            "stop_cause": self.stop_cause(),
            "drain": self.drain(),
            "resume": self.resume(),
            "restart": self.restart(),
            "escalation": self.escalation(),
            "exit": self.exit(),
            "last_sign_of_life": self.last_sign_of_life(),
            "heartbeat": self.heartbeat(),
            "timeline": self.timeline(),
        }


def build_story(conn: sqlite3.Connection, stream: str, run_id: str | None = None) -> Story:
    """The story of ``run_id`` (default: the newest run); :class:`RunNotFound` if there is none."""
    run_id = run_id or newest_run_id(conn, stream)
    events = run_events(conn, stream, run_id) if run_id else []
    if not events or run_id is None:
        raise RunNotFound(stream, run_id)
    following = next_run_start(conn, stream, events[0].seq)
    next_run = run_events(conn, stream, following.run_id) if following and following.run_id else []
    return Story(stream, run_id, events, next_run)
