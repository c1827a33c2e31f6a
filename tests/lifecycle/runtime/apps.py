"""Apps for ``--app`` in tests: each one is a real app with one awkward trait."""

from __future__ import annotations

import asyncio
import threading

from lifecycle.runtime.app import RuntimeContext
from lifecycle.runtime.reference import ReferenceGateway

RELEASE_FILE = "release-start"


class SlowStart(ReferenceGateway):
    """Stays in ``starting`` until the test creates ``HOME/release-start``."""

    async def start(self, ctx: RuntimeContext) -> dict:
        release = ctx.home.root / RELEASE_FILE
        while not release.exists():
            await asyncio.sleep(0.02)
        return await super().start(ctx)


class StuckThread(ReferenceGateway):
    """Leaves a non-daemon thread that never ends (an adapter that will not close)."""

    async def start(self, ctx: RuntimeContext) -> dict:
        threading.Thread(target=threading.Event().wait, name="stuck-adapter", daemon=False).start()
        return await super().start(ctx)


def slow_start() -> SlowStart:
    return SlowStart()


def stuck_thread() -> StuckThread:
    return StuckThread()


def not_an_app() -> object:
    return object()
