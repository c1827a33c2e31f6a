"""How long `hermes-lifecycle status --history -n 20` takes on a log of 1,000,000 events.

Builds (once, cached) a store holding 100,000 runs of ten events each: planned stops,
restarts, drain timeouts, kills and crashes, with a valid projection. Then prints the
median and spread of the real command's wall time, and the same for an empty store (the
cost of starting Python and click).  That every status query walks an index is asserted
by tests/cli/test_status_history.py; bench/status.py compares 1,000 with 1,000,000 events.

    .venv/bin/python bench/status_history.py [--events 1000000] [--repeat 15] [--dir /tmp/hermes-bench-1m]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hermes_lifecycle.store import open_store  # noqa: E402
from hermes_lifecycle.store.migrate import latest_version  # noqa: E402
from hermes_lifecycle.store.schema_state import read_schema_state  # noqa: E402
from hermes_lifecycle.store.events import parse_at  # noqa: E402
from hermes_lifecycle.projection import StreamState, fold, initial_state  # noqa: E402
from hermes_lifecycle.store.events import Event  # noqa: E402

STOP = [("start", "stopped", "starting"), ("ready", "starting", "running"),
        ("stop_requested", "running", "running"), ("signal_received", "running", "running"),
        ("drain", "running", "draining"), ("resume_pending_marked", "draining", "draining"),
        ("session_resumed", "draining", "draining"), ("drain_timeout", "draining", "draining"),
        ("drained", "draining", "stopped"), ("exited", "stopped", "stopped")]
CRASH = [("start", "stopped", "starting"), ("session_resumed", "starting", "starting"),
         ("ready", "starting", "running"), ("signal_received", "running", "running"),
         ("exited", "running", "running"), ("exited", "running", "running"),
         ("exited", "running", "running"), ("exited", "running", "running"),
         ("exited", "running", "running"), ("lost", "running", "crashed")]


def is_current(db: Path) -> bool:
    """Whether a cached bench store exists and is at this code's schema.  A store built by
    older code (say before the ``lifecycle_`` prefix) would be migrated by the timed
    command itself, so the bench would time a one-off 1M-event migration (seconds, and
    the whole log again in the WAL), not the command: such a cache is built again."""
    if not db.exists():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        state = read_schema_state(conn)
    finally:
        conn.close()
    return not state.legacy and state.version == latest_version()


def build(path: Path, total: int) -> None:
    conn = open_store(path, sync="fast")
    at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rows, state, version = [], initial_state("default"), 0
    for run in range(total // 10):
        run_id = f"r-{run:07d}"
        for trigger, src, dst in (CRASH if run % 7 == 3 else STOP):
            version += 1
            at += timedelta(milliseconds=50)
            data = {"create_time": 1.0} if trigger == "start" else {}
            if trigger == "stop_requested":
                data = {"intent": "restart" if run % 2 else "stop", "deadline": at.timestamp() + 30}
            kind = "transition" if src != dst else "step"
            rows.append((version, "default", version, run_id, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), kind,
                         trigger, src, dst, 1000 + run, "bench", None, json.dumps(data)))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO lifecycle_events (seq, stream, version, run_id, at, kind, trigger, from_state, "
                     "to_state, pid, actor, reason, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    for row in rows[-20:]:
        event = Event(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
                      row[10], row[11], json.loads(row[12]))
        state = fold(state if state.version else StreamState("default", version=row[2] - 1), event)
    conn.execute("INSERT INTO lifecycle_streams (stream, state, version, last_seq, run_id, pid, create_time, since, data)"
                 " VALUES (?,?,?,?,?,?,?,?,?)", state.to_row())
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def timed(home: Path, repeat: int) -> list[float]:
    argv = [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home), "status", "--history", "-n", "20"]
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True)
        times.append(time.perf_counter() - began)
        if done.returncode not in (0, 1, 3):  # status answers running, crashed or not running
            raise RuntimeError(f"status exited {done.returncode}: {done.stderr.decode().strip()}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hermes-bench-1m"))
    args = parser.parse_args()
    home = args.dir / f"home-{args.events}"
    if not is_current(home / "state.db"):
        began = time.perf_counter()
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True, exist_ok=True)
        build(home / "state.db", args.events)
        print(f"built {args.events} events in {time.perf_counter() - began:.1f} s at {home}")
    empty = args.dir / "home-empty"
    big = timed(home, args.repeat)
    small = timed(empty, args.repeat)
    med_big, med_small = statistics.median(big), statistics.median(small)
    print(f"status --history -n 20, {args.events} events: median {med_big * 1000:.1f} ms "
          f"(min {min(big) * 1000:.1f}, max {max(big) * 1000:.1f}) over {args.repeat} runs")
    print(f"status --history -n 20, empty store:      median {med_small * 1000:.1f} ms "
          f"(min {min(small) * 1000:.1f}, max {max(small) * 1000:.1f})")
    print(f"cost of the log itself: {(med_big - med_small) * 1000:+.1f} ms; "
          f"target <= 100 ms: {'met' if med_big <= 0.100 else 'NOT met'}")


if __name__ == "__main__":
    main()
