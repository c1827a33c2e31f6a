"""The embeddable app interface: what any asyncio app gives the runtime to be run by it.

The runtime owns the lifecycle (lock, events, signals, the watcher, resume, drain,
exit codes); an app owns its protocol.  ``hermes-lifecycle run --app module:factory``
calls ``factory()`` and expects a :class:`GatewayApp`; the reference gateway is one.

The runtime calls, in order: :meth:`GatewayApp.start` (bind and begin; return the
``ready`` facts), :meth:`GatewayApp.resume` for each session a previous run marked,
then at shutdown :meth:`GatewayApp.stop_accepting` (the drain hook),
:meth:`GatewayApp.active_sessions` (marked ``resume_pending`` before the wait),
:meth:`GatewayApp.wait_idle` (bounded by the drain timeout) and :meth:`GatewayApp.close`.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from hermes_lifecycle.errors import ConfigError
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.runtime.sessions import SessionStore


@dataclass(frozen=True)
class RuntimeContext:
    """What the runtime hands an app at start."""

    home: Home
    journal: Journal
    sessions: SessionStore
    run_id: str
    host: str
    port: int
    actor: str
    #: Seconds in-flight work may take after a stop (the run's ``--drain-timeout``): an app
    #: with its own drain of its own (hermes-agent's runner) is told the same budget.
    drain_timeout: float = 0.0


class GatewayApp:
    """Base class of apps run by the runtime; it tracks in-flight work for the drain.

    Subclasses implement :meth:`start` and usually :meth:`active_sessions`,
    :meth:`resume`, :meth:`stop_accepting` and :meth:`close`; wrap each unit of work
    in ``async with self.work(session_id, what):`` so the drain can wait for it.
    """

    def __init__(self) -> None:
        self._work: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._idle: asyncio.Event | None = None

    async def start(self, ctx: RuntimeContext) -> dict[str, Any]:
        """Bind and begin serving; return the facts for ``ready`` (at least ``port`` and ``host``)."""
        raise NotImplementedError

    def active_sessions(self) -> set[str]:
        """Sessions that would lose something if the process ended now."""
        return {w["session"] for w in self._work.values() if w["session"]}

    async def resume(self, session_id: str) -> None:
        """A session a previous run marked ``resume_pending`` is this run's again; raising
        parks that session (``resume_abandoned``) and the boot goes on."""

    async def stop_accepting(self) -> None:
        """The drain hook: refuse new work from now on; in-flight work continues."""

    def mark_resume_pending(self, session_ids: list[str]) -> dict[str, Any]:
        """An app with a session store of its own marks these sessions for resume there too.

        Called at the drain just *before* the runtime commits its ``resume_pending_marked``
        event (an app's store has its own connection: it cannot write inside that
        transaction); what it returns is recorded in that event's data."""
        return {}

    def stop_asked_by_signal(self, signal_name: str) -> None:
        """A signal arrived with no stop request of ours in the log: an app whose own tools
        ask for a stop another way (a marker file) appends the ``stop_requested`` it stands
        for now, so the drain reads as the planned stop it is and names who asked."""

    async def close(self) -> None:
        """Release everything; called once, after the drain (in-flight work may be abandoned)."""

    # In-flight tracking, provided.

    def _idle_event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            if not self._work:
                self._idle.set()
        return self._idle

    @asynccontextmanager
    async def work(self, session_id: str | None, what: str) -> AsyncIterator[None]:
        """Track one unit of in-flight work for the drain."""
        key = next(self._ids)
        self._work[key] = {"session": session_id, "what": what, "since": time.time()}
        self._idle_event().clear()
        try:
            yield
        finally:
            del self._work[key]
            if not self._work:
                self._idle_event().set()

    def in_flight(self) -> list[dict[str, Any]]:
        """In-flight work, oldest first: what a ``drain_timeout`` event lists as abandoned."""
        return [{"session": w["session"], "what": w["what"], "age_s": round(time.time() - w["since"], 3)}
                for w in self._work.values()]

    async def wait_idle(self) -> None:
        """Return when no work is in flight."""
        await self._idle_event().wait()


def load_app(spec: str) -> GatewayApp:
    """Build the app named ``module:factory``; a bad spec is a configuration error (exit 78)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f"--app {spec!r} must look like module:factory, e.g. lifecycle.runtime.reference:create")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # not only ImportError: a relative name, or the module's own code failing
        raise ConfigError(f"--app {spec!r}: cannot import {module_name!r} ({type(exc).__name__}: {exc})") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ConfigError(f"--app {spec!r}: {module_name} has no callable {attribute!r}")
    try:
        app = factory()
    except ConfigError:  # the factory's own configuration check says it in its words
        raise
    except Exception as exc:  # a factory that needs arguments or fails: reviving will not fix it
        raise ConfigError(f"--app {spec!r}: {attribute}() failed ({type(exc).__name__}: {exc})") from None
    if not isinstance(app, GatewayApp):
        raise ConfigError(f"--app {spec!r}: the factory returned {type(app).__name__}, not a GatewayApp "
                          "(see README: the app interface)")
    return app
