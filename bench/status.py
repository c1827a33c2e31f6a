"""Wall time of `hermes-lifecycle status --history -n 20` at 1,000 and 1,000,000 events, and the ratio.

Targets on the 2-core CI machine: median <= 100 ms at 1,000,000 events, and at most 1.2x
the median at 1,000 (history reads walk an index, they never scan the log).  Both
stores are built by bulk SQL (runs of start/ready/stop/drain/drained, steps and
crashes, see ``bench/status_history.py``), then the projection row is set from
``hermes_lifecycle.projection.rebuild`` (the fold of the whole log) so that status sees a consistent store.
The timed runs alternate between the two stores so machine noise hits both alike.

    .venv/bin/python bench/status.py [--repeat 21] [--dir /tmp/hermes-bench-status]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from status_history import build, is_current  # noqa: E402  (the shared bulk builder)

from hermes_lifecycle.projection import rebuild, verify_projection  # noqa: E402
from hermes_lifecycle.store import open_store, write_stream_row  # noqa: E402

SIZES = (1_000, 1_000_000)


def prepared(root: Path, events: int) -> Path:
    """A home holding ``events`` events whose projection equals the fold of its log (cached)."""
    home = root / f"home-{events}"
    if is_current(home / "state.db"):
        return home
    began = time.perf_counter()
    shutil.rmtree(home, ignore_errors=True)  # a store of older code: see is_current
    home.mkdir(parents=True, exist_ok=True)
    build(home / "state.db", events)
    conn = open_store(home / "state.db")
    conn.execute("BEGIN IMMEDIATE")
    write_stream_row(conn, rebuild(conn, "default").to_row())
    conn.execute("COMMIT")
    stored, folded = verify_projection(conn, "default")
    assert stored == folded and stored.version == events, (stored, events)
    conn.close()
    print(f"built {events:,} events in {time.perf_counter() - began:.1f} s at {home}", flush=True)
    return home


def command(home: Path) -> list[str]:
    hermes = Path(sys.executable).with_name("hermes-lifecycle")
    program = [str(hermes)] if hermes.exists() else [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway"]
    return program + ["--home", str(home), "status", "--history", "-n", "20"]


#: As an installed hermes runs: bytecode cached (pip compiles it at install time), so the
#: figure is not the cost of compiling every module on each run.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed_once(argv: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, cwd=ROOT, env=ENV)
    elapsed = time.perf_counter() - began
    if done.returncode not in (0, 1, 3):  # status answers running, crashed or not running
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode().strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hermes-bench-status"))
    parser.add_argument("--figures", type=Path, help="also write the figures as JSON here (bench/all.py)")
    args = parser.parse_args()
    homes = {n: prepared(args.dir, n) for n in SIZES}
    for home in homes.values():
        timed_once(command(home))  # warm the page cache and write the .pyc files
    times: dict[int, list[float]] = {n: [] for n in SIZES}
    floor: list[float] = []  # what any click + sqlite3 command costs here: the part not ours
    for _ in range(args.repeat):
        for n, home in homes.items():
            times[n].append(timed_once(command(home)))
        floor.append(timed_once([sys.executable, "-c", "import click, sqlite3"]))
    print(f"command: {' '.join(command(Path('HOME')))}  ({args.repeat} runs each, alternating)")
    medians = {n: statistics.median(t) for n, t in times.items()}
    for n, t in times.items():
        print(f"{n:>9,} events: median {medians[n] * 1000:6.1f} ms  (min {min(t) * 1000:.1f}, max {max(t) * 1000:.1f})")
    print(f"    floor: median {statistics.median(floor) * 1000:6.1f} ms  (python -c 'import click, sqlite3')")
    big, small = medians[SIZES[-1]], medians[SIZES[0]]
    ratio = big / small
    print(f"ratio 1M/1k: {ratio:.2f} (target <= 1.20: {'met' if ratio <= 1.2 else 'NOT met'}); "
          f"median at 1M {big * 1000:.1f} ms (target <= 100 ms: {'met' if big <= 0.100 else 'NOT met'})")
    if args.figures is not None:
        args.figures.write_text(json.dumps({"small_ms": small * 1000, "big_ms": big * 1000, "ratio": ratio,
                                            "floor_ms": statistics.median(floor) * 1000}))


if __name__ == "__main__":
    main()
