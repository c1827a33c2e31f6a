"""The one shutdown path: whatever asks (signal, stop request, console close), the same drain.

Order, each step an event: ``signal_received`` (for signals and console events),
``drain`` with its cause, the drain hook (no new work), every active session marked
``resume_pending`` with one ``resume_pending_marked`` in the same transaction *before*
waiting (an app with a session store of its own marks them there just before that
transaction), the bounded wait (``drain_timeout`` naming what was abandoned), ``drained``.

Exit codes tell a service manager what to do: 0 planned stop (stay down), 75 planned
restart (come back), 1 unplanned signal or console close (come back), 78 fatal
configuration (stay down; raised as :class:`hermes_lifecycle.errors.ConfigError` at boot).
A signal that arrives for a gateway that was also sent a stop request (the controller
writes the request, then signals) is planned: the request's intent decides.  An app whose
own tools ask for a stop another way (hermes-agent's planned-stop marker) may append that
request when the signal arrives (:meth:`GatewayApp.stop_asked_by_signal`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sqlite3
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.errors import USER_ERRORS, HermesError, IllegalTransition
from hermes_lifecycle.exit_codes import GatewayExit
from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import ProcessIdentity, who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.runtime.app import GatewayApp
from hermes_lifecycle.runtime.sessions import SessionStore
from hermes_lifecycle.stop_request import MINE, SPOOL_AFTER, StopRequest, judge

if TYPE_CHECKING:
    from hermes_lifecycle.runtime.service_link import ServiceLink

#: How long a drained process may take to end by itself before exit is forced.
EXIT_GRACE = 2.0
#: How long an app's ``close`` may take after the wait before the drain goes on without it.
CLOSE_GRACE = 2.0
#: Windows ends a process ~5 s after a console close/logoff/shutdown event: the drain
#: must be recorded before that, so its wait and the app's close are capped here.
CONSOLE_DRAIN_BUDGET = 3.5
CONSOLE_CLOSE_GRACE = 0.5

log = logging.getLogger("hermes.shutdown")


@dataclass
class Cause:
    """Why the gateway shuts down."""

    kind: str  # "signal", "stop_request" or "console"
    name: str  # signal name, intent, or console event name
    request: StopRequest | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        if self.request is not None:
            return {**self.request.describe(), **({"signal": self.name} if self.kind == "signal" else {})}
        return {"cause": self.kind, self.kind if self.kind != "console" else "console_event": self.name,
                **self.details}

    @property
    def reason(self) -> str:
        if self.request is not None:
            via = f" (with {self.name})" if self.kind == "signal" else ""
            which = f"seq {self.request.seq}" if self.request.seq else "kept in the spool"
            return f"stop request {which}, intent {self.request.intent}{via}"
        return f"{'console event' if self.kind == 'console' else 'signal'} {self.name}"

    @property
    def exit_code(self) -> int:
        return self.request.exit_code if self.request is not None else int(GatewayExit.UNPLANNED)


def find_request_for(journal: Journal, me: ProcessIdentity, after_seq: int) -> StopRequest | None:
    """The first stop request in the log addressed to ``me`` (after ``after_seq``), if any."""
    spooled = [e for e in journal.pending() if e.trigger == "stop_requested"]
    for event in journal.events(after_seq=after_seq, triggers=("stop_requested",)) + spooled:
        try:
            request = StopRequest.from_event(event)
        except HermesError:
            continue
        if judge(request, me).decision == MINE:
            return request
    return None


class Shutdown:
    """Collects the first shutdown cause from any thread; :meth:`drain` runs the path once."""

    def __init__(self, journal: Journal, me: ProcessIdentity, *, run_id: str, start_seq: int,
                 drain_timeout: float, link: "ServiceLink | None" = None) -> None:
        self.journal = journal
        #: Tells the service manager the drain began and ended (``STOPPING=1``, stop timeout).
        self.link = link
        self.me = me
        self.run_id = run_id
        self.start_seq = start_seq
        self.drain_timeout = drain_timeout
        self.cause: Cause | None = None
        #: Tells a person at the terminal what the drain is doing (``run`` in the foreground).
        self.say: Callable[[str], None] = lambda text: None
        self.requested = asyncio.Event()
        self.drained = threading.Event()
        self.app: GatewayApp | None = None  # set once loaded: it may know who asked for a signal

    def request(self, cause: Cause) -> None:
        """Record ``cause`` (loop thread only); later causes are logged and ignored."""
        if cause.kind in ("signal", "console"):
            self._fire("signal_received", reason=cause.reason,
                       data={"signal" if cause.kind == "signal" else "console_event": cause.name})
        if self.cause is not None:
            log.info("shutdown already under way (%s); ignoring %s", self.cause.reason, cause.reason)
            self.say(f"{cause.name}: already draining, this changes nothing (the drain ends by itself, "
                     f"within {self.drain_timeout:g} s; `{CLI} stop --force` cuts it short)")
            return
        if cause.request is None and cause.kind == "signal":
            cause.request = self._find_request()
            if cause.request is None and self.app is not None:
                try:
                    self.app.stop_asked_by_signal(cause.name)
                except Exception as exc:  # a stop must drain whatever the app's records say
                    log.warning("app could not say who asked for %s: %s", cause.name, exc)
                cause.request = self._find_request()
        self.cause = cause
        self.requested.set()

    def _find_request(self) -> StopRequest | None:
        """The stop request naming this process, or None; a log unreadable now is None too
        (logged): the signal alone still drains, as unplanned."""
        try:
            return find_request_for(self.journal, self.me, self.start_seq)
        except (sqlite3.Error, OSError, *USER_ERRORS) as exc:
            log.error("could not look for a stop request (%s); draining for the signal alone", exc)
            return None

    def _fire(self, trigger: str, **kwargs: Any) -> None:
        """Record one step of the drain; a log that cannot take it (even in the spool) is
        logged and the drain goes on: stopping matters more than its record."""
        try:
            self.journal.fire(trigger, actor=who("gateway"), run_id=self.run_id, pid=self.me.pid,
                              spool_after=SPOOL_AFTER, **kwargs)
        except IllegalTransition as exc:
            log.warning("not recorded: %s", exc)
        except (sqlite3.Error, OSError, *USER_ERRORS) as exc:
            log.error("%s not recorded, the drain goes on: %s", trigger, exc)

    async def drain(self, app: GatewayApp | None, sessions: SessionStore) -> int:
        """Run the shutdown path for the recorded cause; return the exit code."""
        cause = self.cause
        assert cause is not None, "drain() before a cause was requested"
        in_flight = _in_flight(app)
        self._fire("drain", reason=cause.reason, data={**cause.describe(), **in_flight})
        if self.link is not None:
            self.link.drain_began(cause.reason, self.drain_timeout + CLOSE_GRACE)
        app_errors: list[str] = []
        if app is not None:
            # An app's hook that raises must not cut the path short: the sessions are still
            # marked, the wait still bounded and ``drained`` still recorded, naming the failure.
            await _call_app(app_errors, "stop_accepting", app.stop_accepting)
            active = await _call_app(app_errors, "active_sessions", app.active_sessions) or set()
            ids = sorted(active)
            turns = {w["session"] for w in in_flight.get("in_flight", []) if w.get("session")}
            work = len(in_flight.get("in_flight", []))
            self.say(f"{cause.name}: draining, no new work; "
                     + (f"waiting up to {budget_for(self, cause):g} s for {work} turn(s) in flight"
                        if work else "nothing in flight")
                     + (f"; {len(active)} session(s) marked for resume" if active else ""))
            facts = await _call_app(app_errors, "mark_resume_pending", lambda: app.mark_resume_pending(ids))
            try:
                sessions.mark_resume_pending(ids, run_id=self.run_id, actor=who("gateway"), app_facts=facts or None,
                                             spool_after=SPOOL_AFTER, interrupted=turns)
            except (sqlite3.Error, OSError, *USER_ERRORS) as exc:
                log.error("sessions not marked for resume, the drain goes on: %s", exc)
            console = cause.kind == "console"
            budget = budget_for(self, cause)
            close_grace = CONSOLE_CLOSE_GRACE if console else CLOSE_GRACE
            try:
                await asyncio.wait_for(_call_app(app_errors, "wait_idle", app.wait_idle), budget)
            except asyncio.TimeoutError:
                self._fire("drain_timeout", reason=f"in-flight work still running after {budget:g} s",
                           data={"timeout_s": budget, "abandoned": app.in_flight()})
                self.say(f"drain timeout: {len(app.in_flight())} turn(s) still running after {budget:g} s, abandoned")
            try:  # an adapter that never finishes closing must not hold the drain open
                await asyncio.wait_for(_call_app(app_errors, "close", app.close), close_grace)
            except asyncio.TimeoutError:
                app_errors.append(f"close: still running after {close_grace:g} s, abandoned")
        code = cause.exit_code
        data: dict[str, Any] = {"exit_code": code, "cause": cause.describe()}
        if app_errors:
            data["app_errors"] = app_errors
        self._fire("drained", reason=f"exit code {code}", data=data)
        if self.link is not None:
            self.link.drained(code)
        self.say(f"drained, exit code {code}")
        self.drained.set()
        return code


def budget_for(shutdown: Shutdown, cause: Cause) -> float:
    """How long the drain waits for in-flight work: shorter after a console event."""
    return min(shutdown.drain_timeout, CONSOLE_DRAIN_BUDGET) if cause.kind == "console" else shutdown.drain_timeout


async def _call_app(errors: list[str], hook: str, call: Callable[[], Any]) -> Any:
    """Call an app's drain-time hook (sync or async); a failure is logged and listed, not raised."""
    try:
        result = call()
        return await result if inspect.isawaitable(result) else result
    except Exception as exc:
        errors.append(f"{hook}: {type(exc).__name__}: {exc}")
        log.warning("app %s failed during the drain: %s", hook, exc)
        return None


def _in_flight(app: GatewayApp | None) -> dict[str, Any]:
    """What the ``drain`` event says was in flight as it began (nothing said: nothing was)."""
    work = app.in_flight() if app is not None else []
    return {"in_flight": work} if work else {}


def exit_now_if_nothing_holds(code: int) -> None:
    """End a drained process at once when no other non-daemon thread is left.

    Everything worth finishing has finished (the drain, the app's close, ``drained`` is
    committed), so the interpreter's own teardown would only make a waiting ``stop``
    wait longer (20-35 ms here).  Logging and stdio are flushed first.  With a stuck
    non-daemon thread this returns, and :func:`force_exit_after` ends the process.
    """
    others = [t for t in threading.enumerate()
              if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if others:
        return
    logging.shutdown()
    _flush_stdio()
    os._exit(code)


def _flush_stdio() -> None:
    """Flush stdout and stderr; a full disk under the log file must not change the exit code."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def force_exit_after(home: Home, me: ProcessIdentity, run_id: str, code: int,
                     grace: float = EXIT_GRACE) -> threading.Thread:
    """Start a daemon timer: if the process still exists after ``grace`` (a stuck non-daemon
    thread, an adapter that will not close), append ``exit_forced`` and ``os._exit(code)``."""

    def expire() -> None:
        threading.Event().wait(grace)
        stuck = [t.name for t in threading.enumerate()
                 if t is not threading.current_thread() and not t.daemon and t is not threading.main_thread()]
        try:
            with Journal(home) as journal:
                journal.fire("exit_forced", actor=who("gateway"), run_id=run_id, pid=me.pid,
                             reason=f"still alive {grace:g} s after drained; exit {code} forced",
                             data={"grace_s": grace, "exit_code": code, "stuck_threads": stuck},
                             spool_after=SPOOL_AFTER)
        except (OSError, sqlite3.Error, *USER_ERRORS) as exc:
            log.warning("exit_forced not recorded: %s", exc)
        finally:
            _flush_stdio()
            os._exit(code)

    timer = threading.Thread(target=expire, name="hermes-exit-guard", daemon=True)
    timer.start()
    return timer
