"""Retention: remove whole old runs from the log, in one transaction, on the record.

A run is a contiguous range of a stream's versions beginning at its ``start``, so
keeping "run R and everything after it" is deleting ``version < R.start.version``.
The fold of what remains equals the projection because a ``start`` resets every fact
the projection carries.  The current (newest) run is never removed, the deletion and
the ``pruned`` event that records it commit together, and the schema refuses any
other deletion (migration 0003: the ``prune_gate``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from hermes_lifecycle.errors import StoreError
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.store import Event
from hermes_lifecycle.store.queries import all_by_trigger, event_at_version, versions_before
from hermes_lifecycle.store.retention import delete_before


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


def _starts(conn: sqlite3.Connection, stream: str) -> list[tuple[int, str | None, str]]:
    """(version, run_id, at) of every run start, newest first (index ``lifecycle_events_stream_trigger``)."""
    return [(e.version, e.run_id, e.at) for e in all_by_trigger(conn, stream, "start")]


def _at_version(conn: sqlite3.Connection, stream: str, version: int) -> tuple[int, str] | None:
    event = event_at_version(conn, stream, version)
    return None if event is None else (event.seq, event.at)


def _plan(conn: sqlite3.Connection, stream: str, starts: list, kept: int) -> PrunePlan | None:
    """The plan that keeps ``starts[:kept]`` (newest first) and removes everything older."""
    if kept >= len(starts):
        return None
    cut_version, kept_run, _ = starts[kept - 1]
    removed = starts[kept:]
    first_version, count = versions_before(conn, stream, cut_version)
    if not count or first_version is None:
        return None
    low, high = _at_version(conn, stream, first_version), _at_version(conn, stream, cut_version - 1)
    if low is None or high is None:  # the range has gaps only if the log was tampered with
        return None
    return PrunePlan(cut_version=cut_version, kept_from_run_id=kept_run, runs=len(removed),
                     events=count, first_run_id=removed[-1][1], last_run_id=removed[0][1],
                     from_seq=low[0], to_seq=high[0], from_version=first_version, to_version=cut_version - 1,
                     from_at=low[1], to_at=high[1])


def plan_keep_runs(conn: sqlite3.Connection, stream: str, keep: int) -> PrunePlan | None:
    """Keep the newest ``keep`` runs (at least the current one); None when nothing is older."""
    return _plan(conn, stream, _starts(conn, stream), max(1, keep))


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


def prune(journal: Journal, plan: PrunePlan, *, actor: str, rule: dict[str, Any]) -> Event:
    """Delete the plan's range and append ``pruned`` describing it, in one transaction."""
    stream = journal.stream

    def delete(conn: sqlite3.Connection) -> None:
        start = event_at_version(conn, stream, plan.cut_version)
        if start is None or start.trigger != "start" or start.run_id != plan.kept_from_run_id:
            raise PruneConflict("the log changed while prune was planning (another prune?); "
                                "nothing was removed: run it again")
        removed = delete_before(conn, stream, plan.cut_version)
        if removed != plan.events:
            raise PruneConflict(f"prune planned to remove {plan.events} events but found {removed}; "
                                "nothing was removed: run it again")

    return journal.fire("pruned", actor=actor, reason=f"removed {plan.runs} old run(s)",
                        data={"removed": plan.to_json(), "rule": rule}, extra=delete)
