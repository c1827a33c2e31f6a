"""When ``state.db`` cannot take a write: keep the event in the spool, and bring it back later.

A caller on the stop path (the controller's stop request, the gateway's drain) passes
``spool_after=S`` to :meth:`Journal.fire`: if the database stays locked for ``S`` seconds,
or the disk is full, the event is decided against the log *plus* what is already spooled
and kept in the spool (:mod:`hermes_lifecycle.store.spool`), and the caller goes on.
Every later write of any process replays the spool first, in order, with each event's
original time, and an event is never written twice (each spooled event carries an
idempotency key).  Until then :meth:`Journal.state` folds the spooled events in, so a
controller sees the drain its gateway could not commit and does not call the run lost.

Extras (rows committed with an event, e.g. sessions marked for resume) cannot be kept as
a Python closure: a caller that wants its event spooled names a registered extra instead.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from hermes_lifecycle import store
from hermes_lifecycle.errors import IllegalTransition, RunChanged, StoreError, VersionConflict
from hermes_lifecycle.projection import StreamState, fold, fold_row, read_state
from hermes_lifecycle.store import Event
from hermes_lifecycle.store.connection import BUSY_TIMEOUT_MS

if TYPE_CHECKING:
    from hermes_lifecycle.journal import Journal


def _log() -> Any:
    """The spool's logger, imported when a warning is due: ``logging`` costs every stop ~4 ms of start-up."""
    import logging

    return logging.getLogger("hermes.spool")


#: Extras a spooled event may carry by name: ``name -> function(conn, args)``.
REPLAY_EXTRAS: dict[str, Callable[[sqlite3.Connection, dict[str, Any]], None]] = {}


def register_extra(name: str, apply: Callable[[sqlite3.Connection, dict[str, Any]], None]) -> None:
    """Make ``apply(conn, args)`` available to events spooled with ``replay_extra=(name, args)``."""
    REPLAY_EXTRAS[name] = apply


def unwritable(exc: BaseException) -> str | None:
    """Why the database could not take a write, when that is a passing condition of the
    machine (locked, full, an I/O error) rather than a fault of the write itself."""
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    text = str(exc)
    for needle in ("database is locked", "database is busy", "database or disk is full", "disk I/O error"):
        if needle in text:
            return needle
    return None


@contextmanager
def patience(conn: sqlite3.Connection, seconds: float | None) -> Iterator[None]:
    """Wait at most ``seconds`` for SQLite's lock in this block (None: the usual 10 s)."""
    if seconds is None:
        yield
        return
    conn.execute(f"PRAGMA busy_timeout = {max(int(seconds * 1000), 0)}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def to_event(record: dict[str, Any]) -> Event:
    """A spooled record as an :class:`Event` not in the log yet (``seq`` 0)."""
    return Event(seq=0, stream=record["stream"], version=record["version"], run_id=record["run_id"],
                 at=record["at"], kind=record["kind"], trigger=record["trigger"], from_state=record["from"],
                 to_state=record["to"], pid=record["pid"], actor=record["actor"], reason=record["reason"],
                 data=record["data"], idempotency_key=record["key"])


def with_pending(state: StreamState, pending: list[Event]) -> StreamState:
    """The stream's state once its spooled events land."""
    for event in pending:
        if event.stream == state.stream:
            state = fold(state, event)
    return state


def spool_event(journal: "Journal", trigger: str, why: str, *, actor: str, run_id: str | None, pid: int | None,
                reason: str | None, data: dict[str, Any] | None, idempotency_key: str | None,
                expect_version: int | None, replay_extra: tuple[str, dict[str, Any]] | None,
                expect_run: str | None = None) -> Event:
    """Decide ``trigger`` against the log plus the spool and keep the event in the spool
    (``expect_version`` and ``expect_run`` judged there too, as :func:`store.append` judges them)."""
    from hermes_lifecycle.machine import decide

    spool = journal.spool
    assert spool is not None
    records, _ = spool.pending()
    pending = [to_event(r) for r in records]
    if idempotency_key is not None:
        for event in pending:
            if event.stream == journal.stream and event.idempotency_key == idempotency_key:
                if event.trigger != trigger:
                    raise StoreError(f"idempotency key {idempotency_key!r} was already used by "
                                     f"{event.trigger!r}, not {trigger!r}; nothing was written")
                return event
    before = with_pending(read_state(journal.conn, journal.stream), pending)
    if expect_version is not None and before.version != expect_version:
        raise VersionConflict(f"stream {journal.stream!r} moved to version {before.version} ({before.state}) "
                              f"while version {expect_version} was expected")
    if expect_run is not None and before.run_id != expect_run:
        raise RunChanged(journal.stream, expect_run, before.run_id, before.state)
    after = decide(before.state, trigger)
    payload = json.loads(json.dumps(data or {}, sort_keys=True, default=str))
    record = {
        "stream": journal.stream, "version": before.version + 1,
        "run_id": run_id if run_id is not None else before.run_id, "at": store.utc_now(),
        "kind": "transition" if after != before.state else "step", "trigger": trigger,
        "from": before.state, "to": after, "pid": pid, "actor": actor, "reason": reason, "data": payload,
        "key": idempotency_key or f"spool:{os.urandom(8).hex()}", "why": why,
        "extra": list(replay_extra) if replay_extra else None, "expect_run": expect_run,
    }
    spool.add(record)
    _log().warning("state.db cannot take %r now (%s): kept in %s until it can", trigger, why, spool.path)
    return to_event(record)


def replay(journal: "Journal", wait: float | None) -> int:
    """Append the spooled events to the log in order (call with the write lock held); return
    how many landed.  Raises the database's error when it still cannot take them."""
    import hermes_lifecycle.runtime.sessions  # noqa: F401 -- registers the extras its events carry
    from hermes_lifecycle.machine import INITIAL_STATE, decide

    spool = journal.spool
    if spool is None:
        return 0
    records, consumed = spool.pending()
    landed = 0
    with patience(journal.conn, wait):
        for offset, record in enumerate(records, start=1):
            extra = _extra_of(record)
            try:
                store.append(journal.conn, record["stream"], record["trigger"], decide, fold_row,
                             initial=INITIAL_STATE, actor=record["actor"],
                             run_id=record["run_id"], pid=record["pid"], reason=record["reason"],
                             data=record["data"], idempotency_key=record["key"], extra=extra, at=record["at"],
                             expect_run=record.get("expect_run"))
            except (IllegalTransition, RunChanged) as exc:  # the log moved on meanwhile: kept aside, never forced in
                path = _set_aside(journal, record, str(exc))
                _log().warning("spooled %r of %s (at %s) no longer applies (%s); kept in %s",
                            record["trigger"], record["stream"], record["at"], exc, path)
            spool.consumed(consumed + offset)
            landed += 1
    return landed


def _extra_of(record: dict[str, Any]) -> Callable[[sqlite3.Connection], None] | None:
    """The rows a spooled event carries (by a registered name), as ``append``'s ``extra``."""
    if not record.get("extra"):
        return None
    name, args = record["extra"]
    apply = REPLAY_EXTRAS.get(name)
    if apply is None:
        return None

    def extra(conn: sqlite3.Connection) -> None:
        apply(conn, args)

    return extra


def _set_aside(journal: "Journal", record: dict[str, Any], why: str) -> Path:
    """Append a record the machine refused at replay to ``logs/spool-rejected.jsonl``
    (owner-only, never through a link), fsynced: refused is not lost."""
    from hermes_lifecycle.store.filelock import NOFOLLOW

    folder = journal.home.ensure_private_dir(journal.home.logs_dir)
    path = folder / "spool-rejected.jsonl"
    line = json.dumps({**record, "rejected": why}, sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def behind(journal: "Journal") -> dict[str, Any] | None:
    """What `status` says while events wait in the spool: how many, since when, and why."""
    spool = journal.spool
    if spool is None:
        return None
    records, _ = spool.pending()
    if not records:
        return None
    return {"events": len(records), "since": records[0]["at"], "why": records[-1]["why"],
            "spool": str(spool.path)}
