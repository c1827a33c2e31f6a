"""How fast a gateway reacts to a stop request: ``stop_requested`` committed -> ``drain`` committed.

Both instants are the ``at`` stamps of the two events in ``state.db`` (one clock), so
the figure includes the watcher's detection, the hop into the event loop and the
durable commit of ``drain``.  Two measurements:

1. real ``hermes-lifecycle run`` processes, stopped with ``request_stop`` (the product);
2. the watcher in-process, on this platform's change notification (platforms/changes.py).

Targets: median <= 15 ms, p90 <= 30 ms on real gateways.

Run: ``.venv/bin/python bench/watcher_reaction.py [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hermes_lifecycle.home import Home  # noqa: E402
from hermes_lifecycle.identity import ProcessIdentity, own_identity  # noqa: E402
from hermes_lifecycle.journal import Journal  # noqa: E402
from hermes_lifecycle.runtime.watcher import StopRequestWatcher  # noqa: E402
from hermes_lifecycle.stop_request import request_stop  # noqa: E402
from hermes_lifecycle.store import parse_at  # noqa: E402
from tests.gateways import spawn_gateway, wait_for  # noqa: E402

TARGET_MEDIAN, TARGET_P90 = 15.0, 30.0


def _gap_ms(first, second) -> float:
    return (parse_at(second.at) - parse_at(first.at)).total_seconds() * 1000


def real_gateways(runs: int) -> list[float]:
    home = Home.resolve(Path(tempfile.mkdtemp(prefix="hermes-bench-")))
    gaps = []
    for _ in range(runs):
        proc = spawn_gateway(home.root, "--drain-timeout", "5")
        with Journal(home) as journal:
            wait_for(lambda: journal.state().state == "running" and journal.state().pid == proc.pid, 60.0,
                     "the gateway to be ready")
            current = journal.state()
            time.sleep(random.uniform(0, 0.05))  # no phase lock with the watcher's interval
            request = request_stop(journal, ProcessIdentity(current.pid, current.create_time), "stop",
                                   time.time() + 30, "controller")
        proc.wait(60)
        with Journal(home) as journal:
            drain = journal.events(after_seq=request.seq, triggers=("drain",))[0]
        gaps.append(_gap_ms(request, drain))
    return gaps


def in_process(runs: int) -> list[float]:
    home = Home.resolve(Path(tempfile.mkdtemp(prefix="hermes-bench-")))
    me = own_identity()
    gaps = []
    with Journal(home) as journal, Journal(home) as drainer:
        for _ in range(runs):
            start = journal.fire("start", actor="bench", pid=me.pid, data={"create_time": me.create_time})
            drained = threading.Event()

            def dispatch(request) -> None:
                drainer.fire("drain", actor="bench", reason=f"stop request seq {request.seq}")
                drained.set()

            watcher = StopRequestWatcher(home, me, run_id=start.run_id, after_seq=start.seq, dispatch=dispatch,
                                         is_draining=drained.is_set).start()
            time.sleep(random.uniform(0.01, 0.05))
            request = request_stop(journal, me, "stop", None, "controller")
            if not drained.wait(30):
                raise SystemExit("bench: the watcher never dispatched")
            watcher.stop()
            drain = journal.events(after_seq=request.seq, triggers=("drain",))[0]
            gaps.append(_gap_ms(request, drain))
            journal.fire("drained", actor="bench")
    return gaps


def _summary(name: str, gaps: list[float]) -> tuple[float, float, str]:
    ordered = sorted(gaps)
    median = statistics.median(ordered)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return median, p90, f"{name:<46} runs {len(gaps):>3}  median {median:7.1f} ms  p90 {p90:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measurements per row (default 15)")
    parser.add_argument("--figures", type=Path, help="also write the figures as JSON here (bench/all.py)")
    options = parser.parse_args()
    runs = options.runs
    real, real_p90, line_real = _summary("real gateway processes (hermes-lifecycle run)", real_gateways(runs))
    _, _, line_watcher = _summary("watcher alone, in-process", in_process(runs))
    print("stop_requested committed -> drain committed")
    for line in (line_real, line_watcher):
        print(line)
    met = real <= TARGET_MEDIAN and real_p90 <= TARGET_P90
    print(f"target: median <= {TARGET_MEDIAN:g} ms, p90 <= {TARGET_P90:g} ms on real gateways: "
          f"{'met' if met else 'MISSED'} ({real:.1f} / {real_p90:.1f} ms)")
    if options.figures is not None:
        options.figures.write_text(json.dumps({"median_ms": real, "p90_ms": real_p90}))

if __name__ == "__main__":
    main()
