"""Beats sent from inside the gateway's event loop, each at its own interval.

Anything that must prove the *loop* is alive (the service manager's watchdog ping, and the
heartbeat file of :mod:`hermes_lifecycle.heartbeat` that forensics, ``status`` and ``/livez``
read) subscribes here.  A
beat runs as a loop callback, never on a thread: a wedged loop (alive process, no progress)
stops every beat, which is exactly what a watchdog must see.  Intervals are long (tens of
seconds for the watchdog), so an idle gateway wakes rarely.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

log = logging.getLogger("hermes.pulse")


class LoopPulse:
    """Named beats, each called every ``interval`` seconds from the running loop."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task] = {}

    def every(self, name: str, interval: float, beat: Callable[[], object], *, now: bool = True) -> None:
        """Call ``beat()`` every ``interval`` seconds (first at once with ``now``); a beat of the
        same name is replaced.  Must be called from the loop."""
        if interval <= 0:
            raise ValueError(f"a beat interval must be positive, not {interval!r}")
        self.cancel(name)
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._run(name, interval, beat, now), name=f"hermes-pulse-{name}")

    @staticmethod
    async def _run(name: str, interval: float, beat: Callable[[], object], now: bool) -> None:
        if not now:
            await asyncio.sleep(interval)
        while True:
            try:
                beat()
            except Exception as exc:  # one failing beat must not stop the others, nor the gateway
                log.warning("beat %s failed: %s", name, exc)
            await asyncio.sleep(interval)

    def cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()

    @property
    def names(self) -> list[str]:
        return sorted(self._tasks)

    def stop(self) -> None:
        for name in list(self._tasks):
            self.cancel(name)
