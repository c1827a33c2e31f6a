"""hermes-agent's runner hosted by our runtime, with a turn held in flight, for tests.

``--app tests.hermes_apps:HeldTurn``: once started, it opens one hermes-agent session
(``agent:main:local:dm:chat-1``) and registers a running turn for it the way hermes-agent's
own message handler does before it calls the model (``_running_agents[key]`` set to its
pending sentinel, the start time, ``_persist_active_agents()``), so hermes-agent's own
count (``_active_work_count()``) is 1 without any network.  The turn ends, the way
hermes-agent ends one (``_release_running_agent_state``), once the test creates
``HOME/release-turn``.  Imports hermes-agent only inside ``start`` (after ``HERMES_HOME``).
"""

from __future__ import annotations

import asyncio
import time

from hermes_lifecycle.runtime.app import RuntimeContext
from hermes_lifecycle.runtime.hermes_agent import HermesAgentGateway

RELEASE_TURN = "release-turn"
CHAT_ID = "chat-1"
SESSION_KEY = f"agent:main:local:dm:{CHAT_ID}"


class HeldTurn(HermesAgentGateway):
    async def start(self, ctx: RuntimeContext) -> dict:
        facts = await super().start(ctx)
        from gateway.config import Platform
        from gateway.run import _AGENT_PENDING_SENTINEL
        from gateway.session import SessionSource

        source = SessionSource(platform=Platform.LOCAL, chat_id=CHAT_ID, user_id="u1", chat_type="dm")
        key = self.runner.session_store.get_or_create_session(source).session_key
        self.runner._running_agents[key] = _AGENT_PENDING_SENTINEL
        self.runner._running_agents_ts[key] = time.time()
        self.runner._persist_active_agents()
        self._held = asyncio.get_running_loop().create_task(self._end_turn_when_released(ctx, key))
        return {**facts, "held_turn": key}

    async def _end_turn_when_released(self, ctx: RuntimeContext, key: str) -> None:
        release = ctx.home.dir / RELEASE_TURN
        while not release.exists():
            await asyncio.sleep(0.02)
        self.runner._release_running_agent_state(key)
        self.runner._persist_active_agents()
