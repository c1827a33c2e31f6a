"""Retention: remove whole old runs from the log, on the record, in bounded batches.

A run is a contiguous range of a stream's versions beginning at its ``start``, so
keeping "run R and everything after it" is deleting ``version < R.start.version``.
The fold of what remains equals the projection because a ``start`` resets every fact
the projection carries (also between batches: what is left always ends with the kept
runs).  The current (newest) run is never removed, and the schema refuses any other
deletion (migration 0003, renamed in 0005: the guard trigger).

A prune of a big log (1M events) in one transaction wrote as much WAL as the log
itself and left the file at its old size.  So: the ``pruned`` event that records the
whole range commits with the first batch (no event is ever deleted before the record
of its deletion is durable), the rest goes in batches of :data:`BATCH_EVENTS`, oldest
first (or, when little is kept, the log is rebuilt from what stays), each its own
transaction followed by a WAL checkpoint (the WAL stays around 10 MB), and the freed
pages are given back (:mod:`.reclaim`).  An interrupted prune leaves a log that is
whole and folds to the same state; running it again finishes it.

The SQL of both deletions (guard trigger lifted inside the transaction, rebuild) lives
in the store: :mod:`hermes_lifecycle.store.retention`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from hermes_lifecycle.errors import StoreError
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.store import Event
from hermes_lifecycle.store.queries import (
    count_by_trigger,
    count_from_seq,
    event_at_version,
    latest_by_trigger,
    lowest_version,
    oldest_by_trigger,
)
from hermes_lifecycle.store.retention import delete_before, rebuild_keeping


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
    (index ``lifecycle_events_stream_trigger``)."""
    return [(e.version, e.run_id, e.at) for e in latest_by_trigger(conn, stream, "start", limit)]


def _at_version(conn: sqlite3.Connection, stream: str, version: int) -> tuple[int, str] | None:
    event = event_at_version(conn, stream, version)
    return None if event is None else (event.seq, event.at)


def _plan(conn: sqlite3.Connection, stream: str, starts: list, kept: int) -> PrunePlan | None:
    """The plan that keeps ``starts[:kept]`` (newest first) and removes everything older.
    ``starts`` needs to hold only the newest ``kept + 1``: the older ones are counted and
    the oldest looked up through the index, not read one by one (100,000 runs at 1M events)."""
    if kept >= len(starts):
        return None
    cut_version, kept_run, _ = starts[kept - 1]
    runs = count_by_trigger(conn, stream, "start") - kept
    oldest = oldest_by_trigger(conn, stream, "start")
    # A stream's versions are contiguous (appends add 1, prune removes a prefix): the range
    # below the cut holds cut - min(version) events, found without counting them.
    low_version = lowest_version(conn, stream)
    if low_version is None or low_version >= cut_version or oldest is None:
        return None
    low, high = _at_version(conn, stream, low_version), _at_version(conn, stream, cut_version - 1)
    if low is None or high is None:  # the range has gaps only if the log was tampered with
        return None
    return PrunePlan(cut_version=cut_version, kept_from_run_id=kept_run, runs=runs,
                     events=cut_version - low_version, first_run_id=oldest.run_id, last_run_id=starts[kept][1],
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
#: from them instead (:func:`~hermes_lifecycle.store.retention.rebuild_keeping`): its WAL
#: is the kept rows, as for one batch.
REBUILD_KEPT_MAX = 50_000
#: What SQLite may leave of the WAL file after a checkpoint (it truncates to this).
WAL_SIZE_LIMIT = 4 * 1024 * 1024


def prune(journal: Journal, plan: PrunePlan, *, actor: str, rule: dict[str, Any]) -> Event:
    """Append ``pruned`` describing the plan's range with its first batch, delete the rest
    in batches, then give the freed space back; returns the ``pruned`` event."""
    from hermes_lifecycle.history.reclaim import checkpoint, reclaim

    stream, conn = journal.stream, journal.conn
    conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    kept = count_from_seq(conn, plan.to_seq + 1)
    rebuild = kept <= REBUILD_KEPT_MAX and kept < plan.events
    first_cut = plan.cut_version if rebuild else min(plan.from_version + BATCH_EVENTS, plan.cut_version)
    if rebuild:  # the dropped table's pages are not zeroed one by one (the whole log again in
        conn.execute("PRAGMA secure_delete = FAST")  # the WAL): the VACUUM below removes them

    def first_batch(conn: sqlite3.Connection) -> None:
        start = event_at_version(conn, stream, plan.cut_version)
        if start is None or start.trigger != "start" or start.run_id != plan.kept_from_run_id:
            raise PruneConflict("the log changed while prune was planning (another prune?); "
                                "nothing was removed: run it again")
        low = lowest_version(conn, stream)
        found = plan.cut_version - (plan.cut_version if low is None else low)  # contiguous: see _plan
        if found != plan.events:
            raise PruneConflict(f"prune planned to remove {plan.events} events but found {found}; "
                                "nothing was removed: run it again")
        if rebuild:
            rebuild_keeping(conn, stream, first_cut)
        else:
            delete_before(conn, stream, first_cut)

    event = journal.fire("pruned", actor=actor, reason=f"removed {plan.runs} old run(s)",
                         data={"removed": plan.to_json(), "rule": rule}, extra=first_batch)
    cut = first_cut
    while cut < plan.cut_version:
        checkpoint(conn)
        cut = min(cut + BATCH_EVENTS, plan.cut_version)
        conn.execute("BEGIN IMMEDIATE")
        try:
            delete_before(conn, stream, cut)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    checkpoint(conn)
    reclaim(conn, force=rebuild)
    return event

