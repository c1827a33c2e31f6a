"""Run the gateway with a SIGTERM that lands right after ``start`` is recorded, before its loop runs.

``python -m tests.lifecycle.runtime.early_signal HOME``: the real ``run_gateway``, with
``fire_start`` followed by a real SIGTERM to this process, as a service manager's stop
or a controller's stop of a run it just saw start would send it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from hermes_lifecycle.home import Home
from hermes_lifecycle.runtime import gateway
from hermes_lifecycle.runtime.gateway import RunOptions, run_gateway
from hermes_lifecycle.store import Event

_fire_start = gateway.fire_start


def fire_start_then_sigterm(*args, **kwargs) -> Event:
    event = _fire_start(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGTERM)
    return event


if __name__ == "__main__":
    gateway.fire_start = fire_start_then_sigterm
    sys.exit(run_gateway(Home.resolve(Path(sys.argv[1])), RunOptions(drain_timeout=5)))
