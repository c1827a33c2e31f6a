"""A reference gateway that takes a while to boot, so a stop can arrive while it is starting."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from lifecycle.runtime.reference import ReferenceGateway


class SlowStartGateway(ReferenceGateway):
    async def start(self, ctx) -> dict[str, Any]:
        await asyncio.sleep(float(os.environ.get("HERMES_TEST_SLOW_START_S", "3")))
        return await super().start(ctx)


def create() -> SlowStartGateway:
    return SlowStartGateway()
