"""Retention: remove whole old runs from the log, on the record, in bounded batches.

A run is a contiguous range of a stream's versions beginning at its ``start``, so
keeping "run R and everything after it" is deleting ``version < R.start.version``.
The fold of what remains equals the projection because a ``start`` resets every fact
the projection carries (also between batches: what is left always ends with the kept
runs).  The current (newest) run is never removed, and the schema refuses any other
deletion (migration 0003: the guard trigger).

A prune of a big log (1M events) in one transaction wrote as much WAL as the log
itself and left the file at its old size.  So: the ``pruned`` event that records the
whole range commits with the first batch (no event is ever deleted before the record
of its deletion is durable), the rest goes in batches of :data:`BATCH_EVENTS`, oldest
first (or, when little is kept, the log is rebuilt from what stays: :mod:`.prune_rebuild`), each its own transaction followed by a WAL checkpoint (the WAL stays around
10 MB), and the freed pages are given back (:mod:`.reclaim`).  An interrupted prune
leaves a log that is whole and folds to the same state; running it again finishes it.

Inside a batch's transaction the guard trigger is dropped and created again from its
own stored SQL (SQLite DDL is transactional: no other connection ever sees the log
unguarded, and a failure rolls the trigger back), which saves a per-row check of the
gate (a sixth of the delete's time at 1M events).
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from hermes_lifecycle.errors import StoreError
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.store.events import Event


class PruneConflict(StoreError):
    """The log changed under the prune in a way that makes its plan wrong; nothing was removed."""


@dataclass(frozen=True)
class PrunePlan:
    """What a prune removes: every event of the stream with ``version < cut_version``."""

    cut_version: int
    kept_from_run_id: str | None
    runs: int
    events: int
    first_run_id: str | None
    last_run_id: str | None
    from_seq: int
    to_seq: int
    from_version: int
    to_version: int
    from_at: str
    to_at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _starts(conn: sqlite3.Connection, stream: str, limit: int = -1) -> list[tuple[int, str | None, str]]:
    """(version, run_id, at) of the newest ``limit`` run starts (all with -1), newest first
    (index ``events_stream_trigger``)."""
    return conn.execute(
        "SELECT version, run_id, at FROM events WHERE stream = ? AND trigger = 'start' ORDER BY seq DESC LIMIT ?",
        (stream, limit),
    ).fetchall()


def _at_version(conn: sqlite3.Connection, stream: str, version: int) -> tuple[int, str] | None:
    return conn.execute("SELECT seq, at FROM events WHERE stream = ? AND version = ?",
                        (stream, version)).fetchone()


def _plan(conn: sqlite3.Connection, stream: str, starts: list, kept: int) -> PrunePlan | None:
    """The plan that keeps ``starts[:kept]`` (newest first) and removes everything older.
    ``starts`` needs to hold only the newest ``kept + 1``: the older ones are counted and
    the oldest looked up through the index, not read one by one (100,000 runs at 1M events)."""
    if kept >= len(starts):
        return None
    cut_version, kept_run, _ = starts[kept - 1]
    runs = conn.execute("SELECT count(*) FROM events WHERE stream = ? AND trigger = 'start'",
                        (stream,)).fetchone()[0] - kept
    oldest_run = conn.execute("SELECT run_id FROM events WHERE stream = ? AND trigger = 'start' "
                              "ORDER BY seq LIMIT 1", (stream,)).fetchone()[0]
    # A stream's versions are contiguous (appends add 1, prune removes a prefix): the range
    # below the cut holds cut - min(version) events, found without counting them.
    low_version = conn.execute("SELECT min(version) FROM events WHERE stream = ?", (stream,)).fetchone()[0]
    if low_version is None or low_version >= cut_version:
        return None
    low, high = _at_version(conn, stream, low_version), _at_version(conn, stream, cut_version - 1)
    return PrunePlan(cut_version=cut_version, kept_from_run_id=kept_run, runs=runs,
                     events=cut_version - low_version, first_run_id=oldest_run, last_run_id=starts[kept][1],
                     from_seq=low[0], to_seq=high[0], from_version=low_version, to_version=cut_version - 1,
                     from_at=low[1], to_at=high[1])


def plan_keep_runs(conn: sqlite3.Connection, stream: str, keep: int) -> PrunePlan | None:
    """Keep the newest ``keep`` runs (at least the current one); None when nothing is older."""
    keep = max(1, keep)
    return _plan(conn, stream, _starts(conn, stream, keep + 1), keep)


def plan_older_than(conn: sqlite3.Connection, stream: str, seconds: float,
                    now: datetime | None = None) -> PrunePlan | None:
    """Remove runs whose last event is older than ``seconds``; the newest run always stays."""
    cutoff = ((now or datetime.now(timezone.utc)) - timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    starts = _starts(conn, stream)
    kept = 1
    while kept < len(starts):
        last_of_older_run = _at_version(conn, stream, starts[kept - 1][0] - 1)
        if last_of_older_run is None or last_of_older_run[1] < cutoff:
            break
        kept += 1
    return _plan(conn, stream, starts, kept)


#: Events deleted per transaction: about 10 MB of WAL each at the bench's event size.
BATCH_EVENTS = 50_000
#: Keep at most this many events (and fewer than are removed) and the log is rebuilt
#: from them instead (:mod:`.prune_rebuild`): its WAL is the kept rows, as for one batch.
REBUILD_KEPT_MAX = 50_000
#: What SQLite may leave of the WAL file after a checkpoint (it truncates to this).
WAL_SIZE_LIMIT = 4 * 1024 * 1024
GUARD_TRIGGER = "events_are_deleted_only_by_prune"


def prune(journal: Journal, plan: PrunePlan, *, actor: str, rule: dict[str, Any]) -> Event:
    """Append ``pruned`` describing the plan's range with its first batch, delete the rest
    in batches, then give the freed space back; returns the ``pruned`` event."""
    from hermes_lifecycle.history.reclaim import checkpoint, reclaim

    stream, conn = journal.stream, journal.conn
    conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    kept = conn.execute("SELECT count(*) FROM events WHERE seq >= ?", (plan.to_seq + 1,)).fetchone()[0]
    rebuild = kept <= REBUILD_KEPT_MAX and kept < plan.events
    first_cut = plan.cut_version if rebuild else min(plan.from_version + BATCH_EVENTS, plan.cut_version)
    if rebuild:  # the dropped table's pages are not zeroed one by one (the whole log again in
        conn.execute("PRAGMA secure_delete = FAST")  # the WAL): the VACUUM below removes them

    def first_batch(conn: sqlite3.Connection) -> None:
        start = conn.execute("SELECT trigger, run_id FROM events WHERE stream = ? AND version = ?",
                             (stream, plan.cut_version)).fetchone()
        if start is None or start[0] != "start" or start[1] != plan.kept_from_run_id:
            raise PruneConflict("the log changed while prune was planning (another prune?); "
                                "nothing was removed: run it again")
        low = conn.execute("SELECT min(version) FROM events WHERE stream = ?", (stream,)).fetchone()[0]
        found = plan.cut_version - low  # versions are contiguous: see _plan
        if found != plan.events:
            raise PruneConflict(f"prune planned to remove {plan.events} events but found {found}; "
                                "nothing was removed: run it again")
        if rebuild:
            from hermes_lifecycle.history.prune_rebuild import rebuild_keeping

            rebuild_keeping(conn, stream, first_cut)
        else:
            _delete_below(conn, stream, first_cut)

    event = journal.fire("pruned", actor=actor, reason=f"removed {plan.runs} old run(s)",
                         data={"removed": plan.to_json(), "rule": rule}, extra=first_batch)
    cut = first_cut
    while cut < plan.cut_version:
        checkpoint(conn)
        cut = min(cut + BATCH_EVENTS, plan.cut_version)
        conn.execute("BEGIN IMMEDIATE")
        try:
            _delete_below(conn, stream, cut)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    checkpoint(conn)
    reclaim(conn, force=rebuild)
    return event


def _delete_below(conn: sqlite3.Connection, stream: str, cut_version: int) -> int:
    """Delete the stream's events below ``cut_version`` inside the caller's transaction, the
    guard trigger lifted for this transaction only (see the module's docstring)."""
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                       (GUARD_TRIGGER,)).fetchone()
    if row is None:
        raise StoreError(f"the guard trigger {GUARD_TRIGGER} is missing from the schema: "
                         "the store was altered by hand; nothing was removed")
    conn.execute(f"DROP TRIGGER {GUARD_TRIGGER}")
    removed = conn.execute("DELETE FROM events WHERE stream = ? AND version < ?",
                           (stream, cut_version)).rowcount
    conn.execute(row[0])
    return removed
