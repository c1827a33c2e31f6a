"""How signals reach the one shutdown path, from the moment ``start`` is recorded.

The loop's handlers (``add_signal_handler``) exist only once the loop runs, but the run is
``starting`` in the log before that: a SIGTERM in between (a service manager's stop, a
controller's stop of a run it just saw start) would end the process by default, with no
drain, and the run would later read as crashed.  So :meth:`SignalRoute.hold` takes the
signals with plain handlers before ``start`` is appended and remembers what arrived;
:meth:`SignalRoute.attach` hands it to the shutdown once the loop runs.

Console interrupts the platform's loop cannot take (Ctrl+C and Ctrl+Break on an
interactive Windows console, :attr:`Platform.console_signals`) stay on plain handlers that
schedule the same shutdown on the loop; without them Ctrl+C would cancel the loop with no
drain.  Those the console hygiene ignores (a detached gateway) are left ignored.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Callable

from hermes_lifecycle.platforms import Platform


class SignalRoute:
    """The platform's shutdown signals, held from before ``start`` until the process ends."""

    def __init__(self, platform: Platform, ignored: list[str]) -> None:
        self.loop_names = tuple(platform.loop_signals)
        self.console_names = tuple(name for name in platform.console_signals
                                   if name not in ignored and hasattr(signal, name))
        self._previous: dict[str, Any] = {}
        self._pending: list[str] = []
        self._deliver: Callable[[str], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def hold(self) -> "SignalRoute":
        """From now on a signal is remembered, not fatal (main thread only)."""
        for name in self.loop_names + self.console_names:
            self._previous[name] = signal.signal(getattr(signal, name), self._on_signal)
        return self

    def _on_signal(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if self._deliver is None:
            self._pending.append(name)
        else:
            self._deliver(name)

    def attach(self, loop: asyncio.AbstractEventLoop, on_signal: Callable[[str], None]) -> None:
        """Route every signal to ``on_signal`` on ``loop`` (called in the loop), those that came
        while held first."""
        for name in self.loop_names:
            loop.add_signal_handler(getattr(signal, name), on_signal, name)
        self._loop = loop
        def deliver(name: str) -> None:  # from the thread the signal came in on
            loop.call_soon_threadsafe(on_signal, name)

        self._deliver = deliver
        pending, self._pending = self._pending, []
        for name in pending:
            on_signal(name)

    def release(self, *, ignore: bool) -> None:
        """Stop routing: ignore the signals from now on (a drained gateway's exit code must not
        become a death by signal), or give back the handlers found at :meth:`hold`."""
        self._deliver = None
        for name in self.loop_names + self.console_names:
            if name not in self._previous:
                continue
            previous = self._previous.pop(name)
            if self._loop is not None and name in self.loop_names:
                self._loop.remove_signal_handler(getattr(signal, name))
            signal.signal(getattr(signal, name), signal.SIG_IGN if ignore else previous)
        self._loop = None
