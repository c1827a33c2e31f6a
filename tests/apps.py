"""Gateway apps for tests: each the reference gateway with one awkward trait.

A class is its own ``--app`` factory: ``hermes gateway run --app tests.apps:SlowStart``.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import subprocess
import threading

from hermes_lifecycle.runtime.app import RuntimeContext
from hermes_lifecycle.runtime.reference import ReferenceGateway
from tests.gateways import hermes_argv

#: ``SlowStart`` stays ``starting`` this many seconds (default 3).
SLOW_START_ENV = "HERMES_TEST_SLOW_START_S"
#: ``HeldAtStart`` stays ``starting`` until the test creates this file in the home.
RELEASE_FILE = "release-start"
#: ``RestartsItself`` writes the output of its inner restart here, in the home.
INSIDE_RESTART_OUT = "inside-restart.out"


class SlowStart(ReferenceGateway):
    """Stays ``starting`` for a while, so a stop can arrive before ``ready``."""

    async def start(self, ctx: RuntimeContext) -> dict:
        await asyncio.sleep(float(os.environ.get(SLOW_START_ENV, "3")))
        return await super().start(ctx)


class HeldAtStart(ReferenceGateway):
    """Stays ``starting`` until the test creates ``HOME/release-start``."""

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


#: ``AtExitWitness`` registers an atexit handler that creates this file in the home.
ATEXIT_FILE = "atexit-ran"


class AtExitWitness(ReferenceGateway):
    """Registers an ``atexit`` handler: it runs only if the interpreter tears itself down."""

    async def start(self, ctx: RuntimeContext) -> dict:
        witness = ctx.home.root / ATEXIT_FILE
        atexit.register(witness.touch)
        return await super().start(ctx)


class DrainHookFails(ReferenceGateway):
    """Its drain hook raises (an adapter that cannot unsubscribe)."""

    async def stop_accepting(self) -> None:
        await super().stop_accepting()
        raise RuntimeError("adapter unsubscribe failed")


class CloseHangs(ReferenceGateway):
    """Its close never returns (an adapter waiting forever for its peer)."""

    async def close(self) -> None:
        await super().close()
        await asyncio.Event().wait()


#: ``PoisonOnResume`` cannot resume a session whose history holds this text.
POISON = "poison"


class PoisonOnResume(ReferenceGateway):
    """Its resume raises for a session that holds the text ``poison`` (state it cannot rebuild)."""

    async def resume(self, session_id: str) -> None:
        if any(m.text == POISON for m in self._ctx.sessions.history(session_id)):
            raise RuntimeError(f"cannot rebuild {session_id}")
        await super().resume(session_id)


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
        marker = ctx.home.root / INSIDE_RESTART_OUT
        if not marker.exists():
            marker.write_text("")
            argv = hermes_argv(ctx.home.root, "restart", "--timeout", "20", profile=ctx.home.profile)
            asyncio.get_running_loop().call_later(0.2, _run_child, argv, marker)
        return facts


def _run_child(argv: list[str], out_path) -> None:
    with open(out_path, "w") as out:
        subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def not_an_app() -> object:
    return object()


def needs_an_argument(name: str) -> ReferenceGateway:
    """A factory ``--app`` cannot call: it wants an argument."""
    return ReferenceGateway()


class FailsToStart(ReferenceGateway):
    """Its start raises something that is neither an OSError nor ours (a bad adapter token)."""

    async def start(self, ctx: RuntimeContext) -> dict:
        raise ValueError("adapter token rejected")


#: ``WedgesLoop`` blocks its event loop this many seconds after ``ready`` (default 1).
WEDGE_AFTER_ENV = "HERMES_TEST_WEDGE_AFTER_S"


class WedgesLoop(ReferenceGateway):
    """Ready, then its event loop blocks for an hour (a sync call that never returns): the
    process lives, the loop makes no progress."""

    async def start(self, ctx: RuntimeContext) -> dict:
        ready = await super().start(ctx)
        import time

        delay = float(os.environ.get(WEDGE_AFTER_ENV, "1"))
        asyncio.get_running_loop().call_later(delay, time.sleep, 3600)
        return ready
