"""Following the log as it grows, without re-reading it.

``PRAGMA data_version`` changes only when another connection commits, and reading it
costs no I/O beyond the shared WAL index.  The follower sleeps on the OS's change
notification for the database's folder (a :class:`CommitWaiter`, with a slow backstop
poll) and asks it only when something there was written, then reads only the events
after the last one it has seen (a rowid range, never a scan): an idle follower costs
nothing.  ``bench/follow_reaction.py`` measures commit -> line, ``bench/idle.py`` the
idle wakeups.
"""

from __future__ import annotations

import sqlite3
from typing import Callable, Iterator

from hermes_lifecycle.platforms.changes import CommitWaiter
from hermes_lifecycle.store.events import Event, read_events


def follow(conn: sqlite3.Connection, stream: str, after_seq: int = 0, *,
           keep_going: Callable[[], bool] = lambda: True, waiter: CommitWaiter | None = None,
           ) -> Iterator[Event]:
    """Yield the stream's events after ``after_seq``, then each new one as it is committed.
    ``keep_going`` is asked after each commit and at each backstop (or ``waiter.wake()``)."""
    last = after_seq
    waiter = waiter or CommitWaiter(conn)
    try:
        for event in read_events(conn, stream, after_seq=last):
            last = event.seq
            yield event
        while waiter.wait(keep_going):
            for event in read_events(conn, stream, after_seq=last):
                last = event.seq
                yield event
    finally:
        waiter.close()
