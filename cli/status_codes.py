"""``status``'s exit codes: the state a script asks about, as systemctl and LSB answer it."""

from __future__ import annotations

import contextlib
from typing import Iterator

from hermes_lifecycle import StatusExit

_BY_STATE = {"starting": StatusExit.RUNNING, "running": StatusExit.RUNNING, "draining": StatusExit.RUNNING,
             "stopped": StatusExit.NOT_RUNNING, "killed": StatusExit.NOT_RUNNING,
             "crashed": StatusExit.CRASHED}

#: Worst first: a script checking every profile hears the most urgent answer.
_SEVERITY = (StatusExit.UNKNOWN, StatusExit.CRASHED, StatusExit.NOT_RUNNING, StatusExit.RUNNING)


def status_exit(state: str) -> int:
    """The exit code of a profile in ``state`` (an unknown state name: cannot tell)."""
    return int(_BY_STATE.get(state, StatusExit.UNKNOWN))


def worst(codes: list[int]) -> int:
    """The most urgent of several profiles' codes; 3 (nothing runs) when there are none."""
    for code in _SEVERITY:
        if code in codes:
            return int(code)
    return int(StatusExit.NOT_RUNNING)


@contextlib.contextmanager
def reading_state() -> Iterator[None]:
    """Errors reading the state become "cannot tell" (exit 4), never 1, which means crashed."""
    import sqlite3

    from hermes_lifecycle import USER_ERRORS, StatusUnknown, UsageError

    try:
        yield
    except (UsageError, BrokenPipeError):  # a usage error stays 2; a closed pipe ends quietly
        raise
    except (*USER_ERRORS, sqlite3.DatabaseError) as exc:  # ours and the recorder's (a corrupt store)
        raise StatusUnknown(str(exc)) from exc
    except OSError as exc:
        from hermes_lifecycle.cli.main import os_error_line

        raise StatusUnknown(os_error_line(exc)) from exc
