"""What one heartbeat costs: a small JSON file replaced atomically, vs a durable row in state.db.

The gateway beats every 15 s from its event loop (``hermes_lifecycle.heartbeat``).  This
prints the time per beat (RSS read, cgroup counter read, write, rename) and, for scale,
the time per durable append through ``Journal.fire``, which a row-per-beat design would pay
(and which would wake every reader watching ``state.db``), plus the beats per second of
an idle gateway.

    .venv/bin/python bench/heartbeat.py [--beats 2000] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hermes_lifecycle.heartbeat import INTERVAL, Heartbeat  # noqa: E402
from hermes_lifecycle.home import Home  # noqa: E402
from hermes_lifecycle.identity import own_identity  # noqa: E402
from hermes_lifecycle.journal import Journal  # noqa: E402


def per_beat_ms(home: Home, beats: int) -> list[float]:
    heartbeat = Heartbeat(home, own_identity(), "r-bench")
    times = []
    for _ in range(beats):
        began = time.perf_counter()
        heartbeat.beat()
        times.append((time.perf_counter() - began) * 1000)
    return times


def per_append_ms(home: Home, appends: int) -> list[float]:
    times = []
    with Journal(home) as journal:
        for n in range(appends):
            began = time.perf_counter()
            journal.fire("start" if n % 2 == 0 else "start_failed", actor="bench", data={"create_time": 1.0})
            times.append((time.perf_counter() - began) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beats", type=int, default=2000)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        home = Home.resolve(Path(folder) / "home")
        home.ensure_private_dir(home.locks_dir)
        beats = per_beat_ms(home, args.beats)
        rows = per_append_ms(home, min(args.beats, 500))
    print(f"heartbeat file: p50 {statistics.median(beats):.3f} ms, "
          f"p99 {statistics.quantiles(beats, n=100)[98]:.3f} ms per beat ({len(beats)} beats)")
    print(f"durable append (a row per beat would cost at least this): p50 {statistics.median(rows):.3f} ms, "
          f"p99 {statistics.quantiles(rows, n=100)[98]:.3f} ms ({len(rows)} appends)")
    print(f"idle gateway: one beat every {INTERVAL:g} s = {1 / INTERVAL:.3f} wakeups/s from the heartbeat")


if __name__ == "__main__":
    main()
