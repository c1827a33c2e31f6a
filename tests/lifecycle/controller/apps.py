"""Gateway apps for controller tests, run with ``hermes gateway start -- --app MODULE:FACTORY``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from lifecycle.runtime.app import RuntimeContext
from lifecycle.runtime.reference import ReferenceGateway


class SlowStart(ReferenceGateway):
    """Stays ``starting`` for a while, so a stop can arrive before ``ready``."""

    async def start(self, ctx: RuntimeContext) -> dict:
        await asyncio.sleep(3)
        return await super().start(ctx)


class CrashAfterReady(ReferenceGateway):
    """Dies on its own with an error shortly after it is ready, with no shutdown."""

    async def start(self, ctx: RuntimeContext) -> dict:
        facts = await super().start(ctx)
        asyncio.get_running_loop().call_later(0.3, os._exit, 3)
        return facts


class RestartsItself(ReferenceGateway):
    """Once per home, runs ``hermes gateway restart`` as its own child, the way an agent's
    tool call would, and writes the command's output to ``HOME/inside-restart.out``."""

    async def start(self, ctx: RuntimeContext) -> dict:
        facts = await super().start(ctx)
        marker = ctx.home.root / "inside-restart.out"
        if not marker.exists():
            marker.write_text("")
            argv = [sys.executable, "-m", "cli.main", "gateway", "--home", str(ctx.home.root),
                    "--profile", ctx.home.profile, "restart", "--timeout", "20"]
            asyncio.get_running_loop().call_later(0.2, _run_child, argv, marker)
        return facts


def _run_child(argv: list[str], out_path) -> None:
    with open(out_path, "w") as out:
        subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def slow_start() -> SlowStart:
    return SlowStart()


def crash_after_ready() -> CrashAfterReady:
    return CrashAfterReady()


def restarts_itself() -> RestartsItself:
    return RestartsItself()
