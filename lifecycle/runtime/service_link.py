"""What the running gateway tells the service manager that started it, and when.

- ``STATUS=starting`` as the loop begins, then ``READY=1`` with the state line only once the
  gateway accepts work (so ``systemctl start`` returns when it is really up);
- ``WATCHDOG=1`` from a :class:`LoopPulse` beat, every third of ``WatchdogSec=``, so a wedged
  loop stops the pings and the manager restarts the process;
- ``STOPPING=1`` as the drain begins, and ``EXTEND_TIMEOUT_USEC=`` every few seconds while the
  drain runs, each time to the drain's own deadline plus a margin: the manager's stop timeout
  never cuts a drain short, and never waits past a drain that has stopped moving (a wedged
  loop sends nothing, and the drain itself is bounded by its timeout).

Where no manager listens, every call is a no-op (see :mod:`hermes_lifecycle.platforms.notify`).
"""

from __future__ import annotations

import time
from typing import Any

from hermes_lifecycle.platforms.notify import ServiceNotifier
from hermes_lifecycle.runtime.pulse import LoopPulse

#: Seconds between two extensions of the manager's stop timeout during a drain.
EXTEND_EVERY = 5.0
#: Beyond the drain's deadline: the app's close, ``drained``, the exit.
EXTEND_MARGIN = 10.0


class ServiceLink:
    """The gateway's side of the notify protocol, for one run."""

    def __init__(self, notifier: ServiceNotifier, pulse: LoopPulse) -> None:
        self.notifier = notifier
        self.pulse = pulse

    def begin(self, run_id: str) -> None:
        """The loop runs: start the watchdog beat (if the manager set one)."""
        interval = self.notifier.watchdog_interval
        if interval is not None:
            self.pulse.every("watchdog", interval, self.notifier.watchdog)
        self.notifier.status(f"starting (run {run_id})")

    def ready(self, ready: dict[str, Any], run_id: str) -> None:
        self.notifier.ready(f"running on {ready.get('host')}:{ready.get('port')} (run {run_id})")

    def drain_began(self, reason: str, budget: float) -> None:
        """``STOPPING=1`` now; the stop timeout follows the drain until ``budget`` has passed."""
        deadline = time.monotonic() + budget
        self.notifier.stopping(f"draining: {reason}")

        def extend() -> None:
            left = deadline - time.monotonic()
            if left <= 0:
                self.pulse.cancel("drain-extend")  # the drain ends by its own timeout now
                return
            self.notifier.extend_timeout(left + EXTEND_MARGIN)
            self.notifier.status(f"draining: {reason}; at most {left:.0f} s left")

        self.pulse.every("drain-extend", EXTEND_EVERY, extend)

    def drained(self, code: int) -> None:
        self.pulse.cancel("drain-extend")
        self.notifier.status(f"drained, exiting with {code}")

    def close(self) -> None:
        self.pulse.stop()
        self.notifier.close()
