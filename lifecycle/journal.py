"""The lifecycle journal of one profile: the machine judges, the store records.

Every writer (gateway, watcher, controller, service managers, reconciliation) goes
through :meth:`Journal.fire`; it is the one write path.  Side effects belong *after*
``fire`` returns, when the event is committed.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Any, Callable

from hermes_lifecycle import store
from hermes_lifecycle.home import Home
from hermes_lifecycle.projection import StreamState, fold_row, read_state
from hermes_lifecycle.store import Event
from hermes_lifecycle.store.spool import LockTimeout, Spool, spool_path

#: How long a writer waits for the home's write lock: longer than any holder's busy wait.
WRITE_LOCK_TIMEOUT = 15.0
#: The spool's own lock is held for one scan and one fsynced write.
SPOOL_LOCK_TIMEOUT = 5.0
#: How long opening a store, or a stop-path writer, waits to land the spool in the log.
REPLAY_PATIENCE = 0.05


class Journal:
    """The event stream of ``home.profile`` inside ``home.state_db``."""

    def __init__(self, home: Home, *, sync: str = "durable") -> None:
        self.home = home
        self.stream = home.profile
        self._sync = sync
        self._conn: sqlite3.Connection | None = None
        self._spool: Spool | None = None

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
            try:
                self._open_spool()
            except BaseException:
                self.close()
                raise
        return self._conn

    def _open_spool(self) -> None:
        """Open (create at full size, the first time) the home's spool and write lock, and
        land what an earlier process left in the spool if the database takes it now."""
        try:
            self._spool = Spool.open(self.home.state_db)
        except OSError as exc:  # a read-only home or an already full disk: write as before
            if exc.errno == errno.ELOOP:
                from hermes_lifecycle.errors import UntrustedPath

                raise UntrustedPath(f"{spool_path(self.home.state_db)} or its write lock is a symbolic link; "
                                    "hermes does not write through links: remove it") from None
            import logging  # only here: `logging` costs every short command ~4 ms of start-up

            logging.getLogger("hermes.journal").debug("no spool for %s (%s): a write it cannot take now fails",
                                                      self.home.state_db, exc)
            return
        if self._spool.pending()[0]:
            from hermes_lifecycle.spooled import unwritable

            try:
                with self._spool.write_lock.held(0.5, "the write lock"):
                    self.replay()
            except (sqlite3.OperationalError, LockTimeout) as exc:
                if isinstance(exc, sqlite3.OperationalError) and unwritable(exc) is None:
                    raise

    @property
    def spool(self) -> Spool | None:
        self.conn  # noqa: B018 -- the spool opens with the connection
        return self._spool

    def replay(self, wait: float | None = REPLAY_PATIENCE) -> int:
        """Land the spooled events in the log (see :mod:`hermes_lifecycle.spooled`), waiting at most
        ``wait`` seconds for SQLite's lock (None: the usual busy timeout)."""
        from hermes_lifecycle.spooled import replay

        return replay(self, wait)

    def pending(self) -> list[Event]:
        """This stream's events kept in the spool, not yet in the log (``seq`` 0), oldest first."""
        from hermes_lifecycle.spooled import to_event

        if self.spool is None:
            return []
        return [e for e in map(to_event, self.spool.pending()[0]) if e.stream == self.stream]

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
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
        spool_after: float | None = None,
        replay_extra: tuple[str, dict[str, Any]] | None = None,
    ) -> Event:
        """Append ``trigger`` if the machine allows it in the current state; return the event.

        Raises :class:`hermes_lifecycle.errors.IllegalTransition` (nothing written) when it does not.
        ``extra(conn)`` runs in the same transaction (see :func:`hermes_lifecycle.store.events.append`).
        ``expect_run``: fire only while that run is the stream's current one, checked inside
        the write transaction; another run raises :class:`hermes_lifecycle.errors.RunChanged`.

        Events waiting in the spool are appended first.  With ``spool_after=S``, a database
        still locked after ``S`` seconds, or a full disk, keeps the event in the spool
        instead (returned with ``seq`` 0; an ``extra`` then needs its ``replay_extra`` name):
        the stop path uses it so that an unwritable log cannot keep a gateway running.
        A spooled event is decided against the log plus the spool, ``expect_run`` included,
        and checked again when it is replayed.
        """
        from hermes_lifecycle.spooled import patience, spool_event, unwritable

        spool = self.spool
        if spool is None:
            return self._append(trigger, actor, run_id, pid, reason, data, idempotency_key, expect_version, extra,
                                expect_run)
        wait = WRITE_LOCK_TIMEOUT if spool_after is None else spool_after
        why = None
        try:
            with spool.write_lock.held(wait, "the write lock"):
                try:
                    if spool.pending()[0]:  # the stop path does not wait again for a log just seen unwritable
                        self.replay(REPLAY_PATIENCE if spool_after is not None else None)
                    with patience(self.conn, spool_after):
                        return self._append(trigger, actor, run_id, pid, reason, data, idempotency_key,
                                            expect_version, extra, expect_run)
                except sqlite3.OperationalError as exc:
                    why = unwritable(exc)
                    if spool_after is None or why is None or (extra is not None and replay_extra is None):
                        raise
        except LockTimeout:
            if spool_after is None:
                raise
            why = "another writer held the write lock"
        with spool.spool_lock.held(SPOOL_LOCK_TIMEOUT, "the spool"):  # decide and keep: one step
            return spool_event(self, trigger, why, actor=actor, run_id=run_id, pid=pid, reason=reason, data=data,
                               idempotency_key=idempotency_key, expect_version=expect_version,
                               expect_run=expect_run, replay_extra=replay_extra)

    def _append(self, trigger: str, actor: str, run_id: str | None, pid: int | None, reason: str | None,
                data: dict[str, Any] | None, idempotency_key: str | None, expect_version: int | None,
                extra: Callable[[sqlite3.Connection], None] | None, expect_run: str | None) -> Event:
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
        """The stream's state, with the events still in the spool folded in."""
        state = read_state(self.conn, self.stream)
        if self.spool is not None and self.spool.fingerprint()[2]:
            from hermes_lifecycle.spooled import with_pending

            state = with_pending(state, self.pending())
        return state

    def events(self, *, after_seq: int = 0, limit: int | None = None, run_id: str | None = None,
               triggers: tuple[str, ...] | None = None) -> list[Event]:
        return store.read_events(self.conn, self.stream, after_seq=after_seq, limit=limit,
                                 run_id=run_id, triggers=triggers)

    def recent_transitions(self, limit: int) -> list[Event]:
        return store.recent_transitions(self.conn, self.stream, limit)
