"""Reaction of `hermes-lifecycle events --follow --json`: from an event's commit to its line on stdout.

Starts the real command as a subprocess, appends events from this process through
the one write path (`Journal.fire`), and times each commit (when `fire` returns) to
the moment the follower's JSON line for it is read.  Target: median <= 15 ms.

    .venv/bin/python bench/follow_reaction.py [--events 60]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hermes_lifecycle.home import Home  # noqa: E402
from hermes_lifecycle.journal import Journal  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--figures", type=Path, help="also write the figures as JSON here (bench/all.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        journal = Journal(Home.resolve(home))
        journal.fire("exited", actor="bench", data={"n": -1})
        follower = subprocess.Popen(
            [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home), "events", "--follow", "--json"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True, bufsize=1)
        seen: dict[int, float] = {}
        arrived = threading.Condition()

        def read() -> None:
            for line in follower.stdout:
                moment = time.perf_counter()
                n = json.loads(line)["data"].get("n")
                with arrived:
                    seen[n] = moment
                    arrived.notify_all()

        threading.Thread(target=read, daemon=True).start()
        with arrived:
            if not arrived.wait_for(lambda: -1 in seen, timeout=30):
                sys.exit("the follower printed nothing within 30 s")
        reactions = []
        for n in range(args.events):
            time.sleep(random.uniform(0.01, 0.06))
            journal.fire("exited", actor="bench", data={"n": n})
            committed = time.perf_counter()
            with arrived:
                if not arrived.wait_for(lambda: n in seen, timeout=10):
                    sys.exit(f"event {n} never reached the follower")
            reactions.append((seen[n] - committed) * 1000)
        follower.terminate()
        follower.wait(timeout=10)
        journal.close()
    reactions.sort()
    p95 = reactions[int(len(reactions) * 0.95) - 1]
    print(f"events --follow reaction (commit -> JSON line read), {len(reactions)} events: "
          f"median {statistics.median(reactions):.1f} ms, p95 {p95:.1f} ms, max {reactions[-1]:.1f} ms; "
          f"target: median <= 15 ms: {'met' if statistics.median(reactions) <= 15 else 'NOT met'}")
    if args.figures is not None:
        args.figures.write_text(json.dumps({"median_ms": statistics.median(reactions), "p95_ms": p95}))


if __name__ == "__main__":
    main()
