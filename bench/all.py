"""Every benchmark in one run, and the figures table of docs/benchmarks.md written from it.

    .venv/bin/python bench/all.py [--controller-runs 15] [--skip NAME ...] [--no-write]

Runs each bench script in turn (their full output goes to the terminal), each writing
its figures as JSON (``--figures``), then replaces the table between the
``<!-- figures:begin -->`` and ``<!-- figures:end -->`` markers of docs/benchmarks.md
with those figures, the date and the load average: the table is never copied by hand.
A bench that fails or is skipped leaves its rows saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"
BENCHES = ("append", "status", "watcher_reaction", "follow_reaction", "idle", "prune", "controller")


def run_bench(name: str, figures: Path, extra: list[str]) -> dict | None:
    argv = [sys.executable, str(BENCH / f"{name}.py"), "--figures", str(figures), *extra]
    print(f"\n=== bench/{name}.py {' '.join(extra)}", flush=True)
    # Users' installs hold compiled bytecode; with PYTHONDONTWRITEBYTECODE set (some images set it)
    # every command timed here would compile the whole package first.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(argv, cwd=ROOT, env=env)
    if done.returncode != 0 or not figures.exists():
        print(f"=== bench/{name}.py failed (exit {done.returncode})", flush=True)
        return None
    return json.loads(figures.read_text())


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def rows(f: dict[str, dict | None]) -> list[tuple[str, str, str, str]]:
    """(what, command, figure, target) for each figure; '-' where a bench did not run."""
    out = []
    a = f.get("append")
    out.append(("appends, durable / fast", "`bench/append.py`",
                f"{a['durable']['per_s']:,.0f} / {a['fast']['per_s']:,.0f} per s; p50 {a['durable']['p50_ms']:.2f} / "
                f"{a['fast']['p50_ms']:.2f} ms" if a else "-", "(printed)"))
    s = f.get("status")
    out.append(("`status --history -n 20`, 1k / 1M events", "`bench/status.py`",
                f"{s['small_ms']:.1f} / {s['big_ms']:.1f} ms, ratio {s['ratio']:.2f} (floor `import click, sqlite3`: "
                f"{s['floor_ms']:.1f} ms)" if s else "-", "<= 1.2x"))
    i = f.get("idle")
    if i:
        fig = i["figures"]
        gw, fo = fig["hermes-lifecycle run"], fig["hermes events --follow"]
        sup = fig.get("supervisord (one idle program)")
        beside = f" (supervisord: {sup[0]:.2f}/s, {sup[1]:.3f} %)" if sup else ""
        out.append(("idle gateway: wakeups (all threads) / CPU, 30 s", "`bench/idle.py`",
                    f"{gw[0]:.2f}/s, {gw[1]:.3f} %{beside}: {_met(gw[0] <= 0.5 and gw[1] <= 0.05)}",
                    "<= 0.5/s, <= 0.05 %"))
        out.append(("idle `events --follow` wakeups", "`bench/idle.py`", f"{fo[0]:.2f}/s: {_met(fo[0] <= 0.5)}",
                    "<= 0.5/s"))
    else:
        out += [("idle gateway / follower", "`bench/idle.py`", "-", "<= 0.5/s, <= 0.05 %")]
    w = f.get("watcher_reaction")
    out.append(("stop request committed -> `drain` committed, median / p90", "`bench/watcher_reaction.py`",
                f"{w['median_ms']:.1f} / {w['p90_ms']:.1f} ms: {_met(w['median_ms'] <= 15 and w['p90_ms'] <= 30)}"
                if w else "-", "<= 15 / <= 30 ms"))
    r = f.get("follow_reaction")
    out.append(("`events --follow` commit -> line, median", "`bench/follow_reaction.py`",
                f"{r['median_ms']:.1f} ms (p95 {r['p95_ms']:.1f}): {_met(r['median_ms'] <= 15)}" if r else "-",
                "<= 15 ms"))
    c = f.get("controller")
    if c and "ratio_to_supervisorctl" in c:
        med, ratio = c["medians_ms"], c["ratio_to_supervisorctl"]
        for key, label, target in (("stop", "`stop` of an idle gateway vs `supervisorctl stop`", 0.65),
                                   ("status", "`status` of a running gateway vs `supervisorctl status`", 0.45)):
            out.append((label, "`bench/controller.py`",
                        f"{ratio[key]:.2f}x ({med['hermes'][key]:.0f} / {med['supervisord'][key]:.0f} ms, "
                        f"medians, interleaved): {_met(ratio[key] <= target)}", f"<= {target:.2f}x"))
    else:
        out.append(("`stop` / `status` vs supervisorctl", "`bench/controller.py`", "-", "<= 0.65x / <= 0.45x"))
    if c:
        esc_med, esc_max = c["medians_ms"]["hermes"]["escalation"] / 1000, c["max_ms"]["hermes"]["escalation"] / 1000
        out.append(("stop ignoring SIGTERM, 2 s timeout, median / max", "`bench/controller.py`",
                    f"{esc_med:.3f} / {esc_max:.3f} s: {_met(esc_med <= 2.05 and esc_max <= 2.10)}",
                    "<= 2.05 / <= 2.10 s"))
    p = f.get("prune")
    out.append(("prune of 1M events: time; file after (live data); peak extra disk", "`bench/prune.py`",
                f"{p['seconds']:.2f} s; {p['after_mb']:.1f} MB ({p['live_mb']:.1f} MB, {p['slack']:+.0%}); "
                f"{p['peak_extra_mb']:.1f} MB: {_met(p['seconds'] <= 3 and p['slack'] <= 0.10 and p['peak_extra_mb'] <= 20)}"
                if p else "-", "<= 3 s; within 10 %; <= 20 MB"))
    return out


def table(figures: dict[str, dict | None], began: str, loads: tuple[str, str]) -> str:
    lines = [BEGIN,
             f"Written by `bench/all.py` on {began} (load average {loads[0]} at the start, {loads[1]} at the end,",
             "on the shared 2-core box, whose speed drifts from run to run: compare ratios, not milliseconds).",
             "", "| what | command | figure | target |", "| --- | --- | --- | --- |"]
    lines += [f"| {what} | {command} | {figure} | {target} |" for what, command, figure, target in rows(figures)]
    return "\n".join(lines + [END])


def write_doc(text: str) -> None:
    doc = DOC.read_text("utf-8")
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOC} has no {BEGIN} ... {END} markers")
    head, rest = doc.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(head + text + tail, "utf-8")


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controller-runs", type=int, default=15)
    parser.add_argument("--skip", nargs="*", default=[], choices=BENCHES)
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/benchmarks.md alone")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hermes-bench-all",
                        help="where the big logs of status and prune are built once and kept")
    options = parser.parse_args()
    began, load_before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), _load()
    figures: dict[str, dict | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in BENCHES:
            if name in options.skip:
                figures[name] = None
                continue
            extra = {"controller": ["--runs", str(options.controller_runs)],
                     "status": ["--dir", str(options.work / "status")],
                     "prune": ["--dir", str(options.work / "prune")]}.get(name, [])
            figures[name] = run_bench(name, Path(tmp) / f"{name}.json", extra)
    text = table(figures, began, (load_before, _load()))
    print("\n" + text)
    if not options.no_write:
        write_doc(text)
        print(f"\nwrote the table into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
