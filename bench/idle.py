"""What an idle gateway and an idle ``events --follow`` cost: wakeups per second and CPU.

    .venv/bin/python bench/idle.py [--seconds 30] [--env DIR]

Starts a real ``hermes-lifecycle run`` (the reference app, ready, no clients) and a real
``hermes-lifecycle events --follow``, lets them settle, then counts over ``--seconds``:
wakeups = voluntary context switches of every thread (``/proc/PID/task/*/status``,
heartbeat, watchdog and the event loop included) and CPU = utime + stime
(``/proc/PID/stat``) over wall time.  Beside them, an idle supervisord 4.3 with one
idle program, installed into the bench's own venv (as bench/controller.py does).
Linux only (it reads /proc).  Targets: gateway <= 0.5 wakeups/s and <= 0.05 % CPU,
follower <= 0.5 wakeups/s.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.controller import Supervisor, install_supervisor  # noqa: E402
from hermes_lifecycle.home import Home  # noqa: E402
from hermes_lifecycle.journal import Journal  # noqa: E402
from tests.gateways import hermes_argv, hermes_env, spawn_gateway, wait_for  # noqa: E402

SETTLE = 2.0
TARGETS = {"gateway": (0.5, 0.05), "follower": (0.5, None)}


def switches(pid: int) -> int:
    """Voluntary context switches of all of ``pid``'s threads (a thread that ended is lost:
    an idle process starts none)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def measure(pids: dict[str, int], seconds: float) -> dict[str, tuple[float, float]]:
    """(wakeups/s, CPU %) of each process over the same ``seconds``."""
    before = {name: (switches(pid), cpu_seconds(pid)) for name, pid in pids.items()}
    began = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - began
    after = {name: (switches(pid), cpu_seconds(pid)) for name, pid in pids.items()}
    return {name: ((after[name][0] - before[name][0]) / wall, (after[name][1] - before[name][1]) / wall * 100)
            for name in pids}


def supervisord_pid(sup: Supervisor) -> int:
    return int((sup.dir / "supervisord.pid").read_text().strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--env", type=Path, default=Path(tempfile.gettempdir()) / "hermes-bench-controller",
                        help="where supervisor is installed (outside the project)")
    parser.add_argument("--figures", type=Path, help="also write the figures as JSON here (bench/all.py)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hermes-bench-idle-"))
    home = Home.resolve(work / "home")
    notes, sup = [], None
    gateway = spawn_gateway(home.root)
    follower = None
    try:
        with Journal(home) as journal:
            wait_for(lambda: journal.state().state == "running" and journal.state().pid == gateway.pid, 60.0,
                     "the gateway to be ready")
        follower = subprocess.Popen(hermes_argv(home.root, "events", "--follow"), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=hermes_env(), cwd=ROOT)
        pids = {"hermes-lifecycle run": gateway.pid, "hermes events --follow": follower.pid}
        try:
            install_supervisor(options.env)
            sup = Supervisor(options.env, work)
            sup.run_idle()
            pids["supervisord (one idle program)"] = supervisord_pid(sup)
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
            notes.append(f"supervisord: not measured ({exc})")
        time.sleep(SETTLE)
        figures = measure(pids, options.seconds)
    finally:
        if follower is not None:
            follower.terminate()
            follower.wait(30)
        gateway.terminate()
        gateway.wait(60)
        if sup is not None:
            sup.close()
    print(f"idle cost over {options.seconds:g} s (all threads; voluntary context switches and utime+stime)")
    for name, (wakeups, cpu) in figures.items():
        print(f"{name:<34} {wakeups:7.2f} wakeups/s   {cpu:6.3f} % CPU")
    gw_wakeups, gw_cpu = figures["hermes-lifecycle run"]
    fo_wakeups, _ = figures["hermes events --follow"]
    print(f"idle gateway: {gw_wakeups:.2f} wakeups/s (target <= 0.5: {'met' if gw_wakeups <= 0.5 else 'MISSED'}), "
          f"{gw_cpu:.3f} % CPU (target <= 0.05: {'met' if gw_cpu <= 0.05 else 'MISSED'})")
    print(f"idle follower: {fo_wakeups:.2f} wakeups/s (target <= 0.5: {'met' if fo_wakeups <= 0.5 else 'MISSED'})")
    for note in notes:
        print(f"note: {note}")
    if options.figures is not None:
        options.figures.write_text(json.dumps({"figures": figures, "notes": notes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
