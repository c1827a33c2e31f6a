"""Appends per second through the one write path, durable (synchronous=FULL) vs fast (NORMAL).

Every append is ``Journal.fire``: BEGIN IMMEDIATE, read the projection, let the machine
decide, insert the event, update the projection, COMMIT.  Durable is the default: a
committed lifecycle event (a stop request, a kill) must survive a power cut, and a
gateway appends a handful per run, so the fsync per commit costs nothing users see.

    .venv/bin/python bench/append.py [--appends 2000] [--dir /tmp]
    .venv/bin/python bench/append.py --writers 4 [--appends 300]   # concurrent: 4 processes, one state.db

The concurrent mode starts ``--writers`` processes, each appending to its own stream of
one ``state.db`` (durable), all released at once, and prints p50/p99/max per append: the
tail is what a stop request waits behind four busy writers (goal: p99 <= 50 ms, max <= 250 ms).
(A profile has a ``state.db`` of its own, in its own home; the streams stand in for the
writers of one home, which the machine would not let append one cycle each at once.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hermes_lifecycle.home import Home  # noqa: E402
from hermes_lifecycle.journal import Journal  # noqa: E402

#: One planned stop: five transitions and two side steps, legal in this order forever.
CYCLE = (
    ("start", {"create_time": 1.0}), ("ready", {"port": 43127}), ("stop_requested", {"intent": "stop"}),
    ("drain", {}), ("resume_pending_marked", {"session_ids": ["s1", "s2"]}), ("drained", {}),
    ("exited", {"code": 0}),
)


def measure(root: Path, sync: str, appends: int) -> list[float]:
    latencies = []
    with Journal(Home.resolve(root), sync=sync) as journal:
        journal.state()  # create and migrate outside the timing
        for n in range(appends):
            trigger, data = CYCLE[n % len(CYCLE)]
            began = time.perf_counter()
            journal.fire(trigger, actor="bench", run_id=f"r-{n // len(CYCLE)}", pid=4242, data=data)
            latencies.append(time.perf_counter() - began)
    return latencies


def _writer(root: str, stream: str, appends: int, go, out) -> None:
    with Journal(Home.resolve(root)) as journal:
        journal.stream = stream  # each writer its own stream of the one state.db (see the docstring)
        journal.state()
        go.wait()
        latencies = []
        for n in range(appends):
            trigger, data = CYCLE[n % len(CYCLE)]
            began = time.perf_counter()
            journal.fire(trigger, actor="bench", run_id=f"r-{n // len(CYCLE)}", pid=4242, data=data)
            latencies.append(time.perf_counter() - began)
    out.put(latencies)


def concurrent(root: Path, writers: int, appends: int) -> tuple[list[float], float]:
    """All appends of ``writers`` processes to one durable state.db, and the wall time."""
    with Journal(Home.resolve(root)) as journal:
        journal.state()  # create and migrate before the writers start
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(root), f"w{i}", appends, go, out)) for i in range(writers)]
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # let every writer open the store
    began = time.perf_counter()
    go.set()
    latencies = [x for _ in procs for x in out.get()]
    wall = time.perf_counter() - began
    for proc in procs:
        proc.join()
    return latencies, wall


def report_tail(latencies: list[float], writers: int, wall: float) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return (f"{writers} writers durable: {len(latencies)} appends in {wall:.2f} s "
            f"({len(latencies) / wall:.0f} appends/s)   p50 {cuts[49] * 1000:6.2f} ms   "
            f"p99 {cuts[98] * 1000:6.2f} ms   max {max(latencies) * 1000:6.2f} ms")


def report(sync: str, latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return (f"{sync:<8} {len(latencies) / sum(latencies):8.0f} appends/s   "
            f"p50 {cuts[49] * 1000:6.2f} ms   p99 {cuts[98] * 1000:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None, help="where the throw-away stores go (default: a temp dir)")
    parser.add_argument("--writers", type=int, default=0,
                        help="concurrent mode: this many processes append to one state.db (durable)")
    parser.add_argument("--figures", type=Path, help="also write the figures as JSON here (bench/all.py)")
    args = parser.parse_args()
    if args.writers:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            print(f"{args.writers} processes x {args.appends} appends through Journal.fire, one state.db, {tmp}")
            latencies, wall = concurrent(Path(tmp), args.writers, args.appends)
        print(report_tail(latencies, args.writers, wall))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        print(f"{args.appends} appends each through Journal.fire, one process, {tmp}")
        results = {sync: measure(Path(tmp) / sync, sync, args.appends) for sync in ("durable", "fast")}
    for sync, latencies in results.items():
        print(report(sync, latencies))
    ratio = statistics.median(results["durable"]) / statistics.median(results["fast"])
    print(f"durable/fast p50 ratio {ratio:.2f}; default: durable (synchronous=FULL), "
          "because a recorded stop or kill must survive a power cut and a run appends only a handful")
    if args.figures is not None:
        args.figures.write_text(json.dumps({sync: {"per_s": len(lat) / sum(lat) if sum(lat) else 0.0,
                                                   "p50_ms": statistics.median(lat) * 1000}
                                            for sync, lat in results.items()}))


if __name__ == "__main__":
    main()
