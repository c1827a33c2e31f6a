"""Host hermes-agent's own ``GatewayRunner`` in our runtime: ``--app hermes_lifecycle.runtime.hermes_agent:create``.

Our lifecycle maps onto the runner: start (``GatewayRunner(GatewayConfig())``, its
platforms as its own config says, none by default), ready, stop accepting (its
``_draining``), wait for in-flight work by hermes-agent's own count
(``_active_work_count()``: running agents, cron jobs, api_server runs), close (its
``stop()``, which releases its instance records).  Sessions the drain marks
``resume_pending`` are marked in hermes-agent's own ``SessionStore`` too, and cleared
there when the next boot resumes them.  Its instance records (``gateway.pid``,
``gateway.lock``) are kept while we host it; see :mod:`.hermes_agent_records`.

Pinned: written and tested against hermes-agent :data:`PINNED_VERSION`, whose private
attributes it reads; any other version (or none) is a configuration error (exit 78).
hermes-agent reads ``HERMES_HOME`` once, when its modules are imported: they are imported
here only after ``HERMES_HOME`` names our home.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from hermes_lifecycle.errors import ConfigError, GatewayError
from hermes_lifecycle.runtime.app import GatewayApp, RuntimeContext

PINNED_VERSION = "0.19.0"
DISTRIBUTION = "hermes-agent"
#: How often the drain looks at hermes-agent's in-flight count (its own drain polls as often).
POLL_S = 0.1
#: Tirith (hermes-agent's command scanner) downloads itself when the runner is built;
#: off unless the user says otherwise, so hosting it needs no network.
TIRITH_ENV = "TIRITH_ENABLED"

log = logging.getLogger("hermes.hermes_agent")


def check_version() -> str:
    """The installed hermes-agent version, if it is the one this adapter was tested with."""
    try:
        found = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(f"--app hermes_agent: {DISTRIBUTION} is not installed in this Python "
                          f"({sys.executable}); install {DISTRIBUTION}=={PINNED_VERSION}") from None
    if found != PINNED_VERSION:
        raise ConfigError(f"--app hermes_agent: {DISTRIBUTION} {found} is installed, but this adapter was "
                          f"tested with {PINNED_VERSION} only; install {DISTRIBUTION}=={PINNED_VERSION}")
    return found


def point_hermes_agent_at(root: Path) -> None:
    """Make ``root`` hermes-agent's home before any of its modules is imported.

    A module imported earlier (a ``hermes`` CLI running us as its plugin) already captured
    its home: if that is another folder, hosting would split one gateway over two homes.
    """
    imported = sys.modules.get("hermes_state")
    if imported is not None:
        captured = Path(imported.DEFAULT_DB_PATH).parent
        if captured.resolve() != root.resolve():
            raise ConfigError(f"--app hermes_agent: hermes-agent was already imported with the home {captured}, "
                              f"not {root}; set HERMES_HOME={root} (or pass --home {captured})")
    os.environ["HERMES_HOME"] = str(root)
    os.environ.setdefault(TIRITH_ENV, "0")


class HermesAgentGateway(GatewayApp):
    """hermes-agent's ``GatewayRunner`` run by our runtime."""

    def __init__(self) -> None:
        super().__init__()
        self.runner: Any = None
        self.records: Any = None
        self.version = check_version()

    async def start(self, ctx: RuntimeContext) -> dict[str, Any]:
        point_hermes_agent_at(ctx.home.dir)
        from gateway.config import GatewayConfig
        from gateway.run import GatewayRunner

        from hermes_lifecycle.runtime.hermes_agent_records import InstanceRecords

        self.records = InstanceRecords.take(ctx)
        try:
            self.runner = GatewayRunner(GatewayConfig())
            # hermes-agent's own drain defaults to 0 s (interrupt at once): give it ours.
            self.runner._restart_drain_timeout = ctx.drain_timeout
            await self.runner.start()
            if self.runner.should_exit_with_failure:
                raise GatewayError(f"hermes-agent's runner failed to start: {self.runner.exit_reason}")
        except BaseException:
            await self._stop_runner()
            self.records.release()
            raise
        return {"host": ctx.host, "port": None, "app": "hermes-agent GatewayRunner",
                "hermes_agent": self.version, "platforms": sorted(str(p.value) for p in self.runner.adapters),
                "hermes_agent_records": self.records.describe()}

    def active_sessions(self) -> set[str]:
        """hermes-agent's session keys with a turn in flight (its ``_running_agents``)."""
        running = set(self.runner._running_agents) if self.runner is not None else set()
        return running | super().active_sessions()

    def in_flight(self) -> list[dict[str, Any]]:
        if self.runner is None:
            return super().in_flight()
        since = self.runner._running_agents_ts  # epoch seconds, as hermes-agent records them
        return super().in_flight() + [
            {"session": key, "what": "hermes-agent turn",
             "age_s": round(time.time() - since[key], 3) if key in since else None}
            for key in self.runner._running_agents]

    def mark_resume_pending(self, session_ids: list[str]) -> dict[str, Any]:
        """Mark each session in hermes-agent's own store, through the runner's own instance
        (it caches the whole scope and rewrites it on every save: a second store would be
        overwritten by the runner's next save)."""
        store = self.runner.session_store
        marked = [key for key in session_ids if store.mark_resume_pending(key, "shutdown_timeout")]
        return {"hermes_agent_session_store": {"marked": marked,
                                               "not_marked": [k for k in session_ids if k not in marked]}}

    async def resume(self, session_id: str) -> None:
        """Ours again: clear hermes-agent's own mark before our ``session_resumed`` commits."""
        await asyncio.to_thread(self.runner.session_store.clear_resume_pending, session_id)

    async def stop_accepting(self) -> None:
        """hermes-agent's own gate: while ``_draining`` its handlers refuse new work."""
        if self.runner is not None:
            self.runner._draining = True

    async def wait_idle(self) -> None:
        while self.runner is not None and self.runner._active_work_count() > 0:
            await asyncio.sleep(POLL_S)

    def stop_asked_by_signal(self, signal_name: str) -> None:
        if self.records is not None:
            self.records.record_planned_stop(signal_name)

    async def close(self) -> None:
        if self.runner is not None and self.runner._active_work_count() > 0:
            self.runner._restart_drain_timeout = 0.0  # our drain already waited its budget
        await self._stop_runner()
        if self.records is not None:
            self.records.release()

    async def _stop_runner(self) -> None:
        if self.runner is not None:
            await self.runner.stop()


def create() -> HermesAgentGateway:
    """The ``--app`` factory; a missing or other hermes-agent fails here (exit 78)."""
    return HermesAgentGateway()
