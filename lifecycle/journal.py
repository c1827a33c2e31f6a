"""The lifecycle journal of one profile: the machine judges, the store records.

Every writer (gateway, watcher, controller, service managers, reconciliation) goes
through :meth:`Journal.fire`; it is the one write path.  Side effects belong *after*
``fire`` returns, when the event is committed.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from hermes_lifecycle import store
from hermes_lifecycle.home import Home
from hermes_lifecycle.projection import StreamState, fold_row, read_state
from hermes_lifecycle.store import Event


class Journal:
    """The event stream of ``home.profile`` inside ``home.state_db``."""

    def __init__(self, home: Home, *, sync: str = "durable") -> None:
        self.home = home
        self.stream = home.profile
        self._sync = sync
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            # An existing state.db is judged first (not SQLite, or a newer lifecycle schema:
            # refused), so a refused home is left exactly as it was, mode included.
            existing = self.home.state_db.exists()
            if not existing:
                self.home.ensure_private_dir()
            conn = store.open_store(self.home.state_db, sync=self._sync)
            if existing:
                try:
                    self.home.ensure_private_dir()
                except BaseException:
                    conn.close()
                    raise
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fire(
        self,
        trigger: str,
        *,
        actor: str,
        run_id: str | None = None,
        pid: int | None = None,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        expect_version: int | None = None,
        extra: Callable[[sqlite3.Connection], None] | None = None,
        expect_run: str | None = None,
    ) -> Event:
        """Append ``trigger`` if the machine allows it in the current state; return the event.

        Raises :class:`hermes_lifecycle.errors.IllegalTransition` (nothing written) when it does not.
        ``extra(conn)`` runs in the same transaction (see :func:`hermes_lifecycle.store.events.append`).
        ``expect_run``: fire only while that run is the stream's current one, checked inside
        the write transaction; another run raises :class:`hermes_lifecycle.errors.RunChanged`.
        """
        from hermes_lifecycle.machine import INITIAL_STATE, decide

        return store.append(
            self.conn,
            self.stream,
            trigger,
            decide,
            fold_row,
            initial=INITIAL_STATE,
            actor=actor,
            run_id=run_id,
            pid=pid,
            reason=reason,
            data=data,
            idempotency_key=idempotency_key,
            expect_version=expect_version,
            extra=extra,
            expect_run=expect_run,
        )

    def state(self) -> StreamState:
        return read_state(self.conn, self.stream)

    def events(self, *, after_seq: int = 0, limit: int | None = None, run_id: str | None = None,
               triggers: tuple[str, ...] | None = None) -> list[Event]:
        return store.read_events(self.conn, self.stream, after_seq=after_seq, limit=limit,
                                 run_id=run_id, triggers=triggers)

    def recent_transitions(self, limit: int) -> list[Event]:
        return store.recent_transitions(self.conn, self.stream, limit)
