"""What a terminal gets and a pipe does not: lines cut to the width, colour, progress.

Colour follows ``--color auto|always|never`` (``hermes-lifecycle --color``), else ``NO_COLOR``
(https://no-color.org: any non-empty value turns it off), else whether stdout is a terminal.
"""

from __future__ import annotations

import os
import sys

#: ``ctx.meta`` key holding the ``--color`` choice of ``hermes-lifecycle``.
COLOR_CHOICE = "hermes.color"


def width_for(stream=None) -> int | None:
    """The terminal's width in columns, or None when ``stream`` (stdout) is not a terminal:
    a pipe or a file gets whole lines."""
    stream = stream or sys.stdout
    try:
        if not stream.isatty():
            return None
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return None


def fit(line: str, width: int | None) -> str:
    """``line`` cut to ``width`` columns with an ellipsis (whole when width is None)."""
    if width is None or len(line) <= width:
        return line
    return line[: max(width - 1, 0)] + "…"


def use_colour(stream=None) -> bool:
    """Whether to paint: ``--color``, else ``NO_COLOR``, else a terminal on ``stream``."""
    import click

    ctx = click.get_current_context(silent=True)
    choice = ctx.meta.get(COLOR_CHOICE, "auto") if ctx is not None else "auto"
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def end_on_sigterm() -> None:
    """SIGTERM (a container or a supervisor stopping a follower) ends a follow like Ctrl+C."""
    import signal

    def _interrupt(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)


def quiet_stdout() -> None:
    """After the reader went away, make the interpreter's final flush a no-op, not a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
