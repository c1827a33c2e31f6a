"""Progress of a long wait: a one-line countdown on a terminal, silence in scripts."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Countdown:
    """Rewrites one line on ``stream`` at most every ``every`` seconds, only if it is a TTY."""

    def __init__(self, stream: TextIO | None = None, *, every: float = 0.25) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every
        self._last = 0.0
        self._shown = False

    def show(self, what: str, remaining: float) -> None:
        self._write(f"\r{what}: {max(remaining, 0):4.1f}s left ")

    def waited(self, what: str, waited: float) -> None:
        """Like :meth:`show` for a wait with no end: how long it has waited so far."""
        self._write(f"\r{what}: {waited:.1f}s so far \033[K")

    def _write(self, line: str) -> None:
        """One refresh of the line, at most every ``every`` seconds, and only on a terminal."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        self.stream.write(line)
        self.stream.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False


class Silent(Countdown):
    """No output at all (library callers, benchmarks)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.enabled = False
