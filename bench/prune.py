"""Prune of a 1,000,000-event log: wall time, file size before and after, peak extra disk.

    .venv/bin/python bench/prune.py [--runs 3] [--keep-runs 1000] [--dir /tmp/hermes-bench-prune]

The log is built once by bulk SQL (100,000 runs of 10 events, as bench/status.py builds
it) and copied afresh for each run; each run is the real command,
``hermes-lifecycle --home HOME prune --keep-runs N``, timed from outside.  A thread
samples the disk the database's files take (``st_blocks``: state.db, its -wal, -shm and
-journal; not the home's fixed-size spool, printed apart) every 2 ms, so the peak includes
the WAL and whatever the prune writes.
"Live data" is the size of a ``VACUUM INTO`` copy of the pruned log: a file within
10 % of it holds almost no free pages.  Targets: <= 3 s, within 10 % of the live data,
peak extra disk <= 20 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from status import ENV, prepared  # noqa: E402  (the 1M builder shared with bench/status.py)

EVENTS = 1_000_000
MB = 1024 * 1024
TARGET_S, TARGET_SLACK, TARGET_EXTRA_MB = 3.0, 0.10, 20.0


#: The database's own files.  Not the home's ``state.db-spool``: a fixed 512 KB
#: reservation every opened home has (store/spool.py), whatever prune does; counted in,
#: it read as +26 % of free space that was not there.  It is printed on its own line.
DB_FILES = ("state.db", "state.db-wal", "state.db-shm", "state.db-journal")


def disk_used(folder: Path, names: tuple[str, ...] = DB_FILES) -> int:
    """Bytes the database's files take on disk (allocated blocks, not apparent size)."""
    total = 0
    for entry in os.scandir(folder):
        if entry.name in names:
            try:
                total += entry.stat().st_blocks * 512
            except OSError:  # deleted between the listing and the stat (the WAL at close)
                continue
    return total


class PeakSampler(threading.Thread):
    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.peak, self.done = folder, disk_used(folder), threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, disk_used(self.folder))
            self.done.wait(0.002)


def live_size(db: Path) -> int:
    """The size of the pruned log with no free page: a VACUUM INTO copy."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "live.db"
        conn = sqlite3.connect(db)
        conn.execute("VACUUM INTO ?", (str(copy),))
        conn.close()
        return copy.stat().st_size


def one_run(source: Path, work: Path, keep_runs: int) -> dict[str, float]:
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy2(source / "state.db", home / "state.db")
    before = disk_used(home)
    hermes = Path(sys.executable).with_name("hermes-lifecycle")
    # The console script's root is the gateway group (i9a), as in bench/status.py.
    program = [str(hermes)] if hermes.exists() else [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway"]
    argv = program + ["--home", str(home), "prune", "--keep-runs", str(keep_runs)]
    sampler = PeakSampler(home)
    sampler.start()
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=600)
    elapsed = time.perf_counter() - began
    sampler.done.set()
    sampler.join()
    if done.returncode != 0:
        raise SystemExit(f"prune failed ({done.returncode}): {done.stderr.strip()}")
    return {"seconds": elapsed, "before": before, "after": disk_used(home),
            "peak_extra": sampler.peak - before, "live": live_size(home / "state.db"),
            "spool": disk_used(home, ("state.db-spool",))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep-runs", type=int, default=1000, help="runs kept (of 100,000; default 1,000)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "hermes-bench-prune")
    parser.add_argument("--figures", type=Path, help="also write the figures as JSON here (bench/all.py)")
    args = parser.parse_args()
    source = prepared(args.dir, EVENTS)
    results = [one_run(source, args.dir / "work", args.keep_runs) for _ in range(args.runs)]
    shutil.rmtree(args.dir / "work", ignore_errors=True)
    seconds = statistics.median(r["seconds"] for r in results)
    last = results[-1]
    extra = max(r["peak_extra"] for r in results) / MB
    slack = last["after"] / last["live"] - 1
    print(f"prune --keep-runs {args.keep_runs} of {EVENTS:,} events ({EVENTS // 10:,} runs), {args.runs} runs")
    print(f"time: median {seconds:.2f} s (min {min(r['seconds'] for r in results):.2f}, "
          f"max {max(r['seconds'] for r in results):.2f})")
    print(f"size: before {last['before'] / MB:.1f} MB, after {last['after'] / MB:.2f} MB, "
          f"live data {last['live'] / MB:.2f} MB ({slack:+.0%})")
    print(f"peak extra disk during the prune: {extra:.1f} MB")
    print(f"not counted above: the home's spool, {last['spool'] / MB:.2f} MB (a fixed reservation)")
    print(f"targets: time <= {TARGET_S:g} s: {'met' if seconds <= TARGET_S else 'MISSED'}; "
          f"size within {TARGET_SLACK:.0%} of live: {'met' if slack <= TARGET_SLACK else 'MISSED'}; "
          f"peak extra <= {TARGET_EXTRA_MB:g} MB: {'met' if extra <= TARGET_EXTRA_MB else 'MISSED'}")
    if args.figures is not None:
        args.figures.write_text(json.dumps({"seconds": seconds, "before_mb": last["before"] / MB,
                                            "after_mb": last["after"] / MB, "live_mb": last["live"] / MB,
                                            "slack": slack, "peak_extra_mb": extra}))


if __name__ == "__main__":
    main()
