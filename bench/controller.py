"""The controller beside supervisord 4.3 and pm2 7, interleaved, in one run on this machine.

    .venv/bin/python bench/controller.py [--runs N] [--env DIR] [--install wheel|editable] [--figures FILE]

Prints, side by side: the wall time of the stop command for an idle process, of the
status command, and the total time to stop a process that ignores the polite stop with
a 2 s stop timeout; min / median / max of each, then the ratios of the medians to
supervisorctl's and our figures against the targets (stop <= 0.65x supervisorctl's,
status <= 0.45x, the stubborn stop median <= 2.05 s and max <= 2.10 s).

The tools take turns within every round (ours, supervisorctl, pm2, the order rotating
from round to round), at least 15 rounds, so a burst of load on this shared box hits
all of them alike instead of skewing one tool's whole block.

Ours is the real thing: `hermes-lifecycle start` runs the reference gateway detached; its
stop includes the stop request, SIGTERM, the gateway's drain and every event.  The
"ignores SIGTERM" gateway holds a turn in flight for 60 s with a 60 s drain timeout, so
only escalation can end it within 2 s (`stop --timeout 2`).  The peers run a Python
process that sleeps (idle) or ignores SIGTERM and SIGINT (stubborn: pm2 stops with
SIGINT), with stopwaitsecs=2 / --kill-timeout 2000.

The peers are installed into the benchmark's own environment (default
``$TMPDIR/hermes-bench-controller``: a venv with supervisor from PyPI, pm2 from npm),
never into the project.  If that fails, the output says so and still prints ours.

Ours runs as users get it (``--install wheel``, the default): a wheel built from this
tree and installed with its dependencies from PyPI into a venv of the benchmark's own
(rebuilt each run), the ``hermes`` script of that venv run from outside the tree.
``--install editable`` runs the development venv instead, whose editable-install
finder costs every command ~10-15 ms at start-up (``-X importtime``: ``site``).  The
output says which was measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
HERMES = [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway"]
STOP_TIMEOUT = 2.0
#: Ratios of medians, ours / supervisorctl's.
RATIO_TARGETS = {"stop": 0.65, "status": 0.45}
#: The stubborn stop: median and max, seconds.
ESCALATION_TARGETS = (STOP_TIMEOUT + 0.05, STOP_TIMEOUT + 0.10)
MIN_ROUNDS = 15
IDLE = "import time\nwhile True:\n    time.sleep(3600)\n"
STUBBORN = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "while True:\n    time.sleep(3600)\n")


def timed(argv: list[str], env: dict[str, str] | None = None, check: bool = True, cwd: Path = ROOT) -> float:
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    elapsed = time.perf_counter() - began
    if check and done.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    return elapsed


def quiet(argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


# --- ours -----------------------------------------------------------------------------

class Ours:
    name = "hermes"

    def __init__(self, work: Path, hermes: list[str] | None = None) -> None:
        self.home = work / "hermes-home"
        if hermes is None:  # the development venv, sources on the path
            self.hermes, self.env, self.cwd = HERMES, {**os.environ, "PYTHONPATH": str(ROOT)}, ROOT
        else:  # an installed copy, run from outside the tree so only it can be imported
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("HERMES_")}
            self.hermes, self.env, self.cwd = hermes, env, work

    def cmd(self, *args: str) -> list[str]:
        return [*self.hermes, "--home", str(self.home), *args]

    def start(self, *run_args: str) -> dict:
        done = quiet(self.cmd("start", "--json", *(["--", *run_args] if run_args else [])), self.env, cwd=self.cwd)
        if done.returncode != 0:
            raise RuntimeError(f"hermes-lifecycle start failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def run_idle(self) -> None:
        self.start()

    def end_idle(self) -> None:
        quiet(self.cmd("stop"), self.env, cwd=self.cwd)

    def stop_idle(self) -> float:
        self.start()
        return timed(self.cmd("stop"), self.env, cwd=self.cwd)

    def status(self) -> float:
        return timed(self.cmd("status"), self.env, cwd=self.cwd)

    def stop_stubborn(self) -> float:
        started = self.start("--drain-timeout", "60")
        client = socket.create_connection(("127.0.0.1", started["port"]), timeout=30)
        stream = client.makefile("rw", encoding="utf-8")
        stream.write(json.dumps({"op": "open"}) + "\n")
        stream.flush()
        session = json.loads(stream.readline())["session"]
        stream.write(json.dumps({"op": "send", "session": session, "text": "hold", "work_ms": 60_000}) + "\n")
        stream.flush()
        time.sleep(0.2)  # let the turn reach the gateway (not part of the measurement)
        try:
            return timed(self.cmd("stop", "--timeout", f"{STOP_TIMEOUT:g}"), self.env, cwd=self.cwd)
        finally:
            stream.close()
            client.close()

    def close(self) -> None:
        quiet(self.cmd("stop", "--force", "--strays"), self.env, cwd=self.cwd)


# --- supervisord ----------------------------------------------------------------------

class Supervisor:
    name = "supervisord"

    def __init__(self, env_dir: Path, work: Path) -> None:
        self.bin = env_dir / "venv" / "bin"
        self.dir = work / "supervisor"
        self.dir.mkdir(parents=True)
        (self.dir / "idle.py").write_text(IDLE)
        (self.dir / "stubborn.py").write_text(STUBBORN)
        self.conf = self.dir / "supervisord.conf"
        sock = self.dir / "supervisor.sock"
        programs = "".join(
            f"[program:{name}]\ncommand={sys.executable} {self.dir / (name + '.py')}\nautostart=false\n"
            f"autorestart=false\nstopwaitsecs={STOP_TIMEOUT:g}\nstartsecs=0\n\n" for name in ("idle", "stubborn"))
        self.conf.write_text(
            f"[unix_http_server]\nfile={sock}\n\n[supervisord]\nlogfile={self.dir / 'supervisord.log'}\n"
            f"pidfile={self.dir / 'supervisord.pid'}\nnodaemon=false\n\n"
            "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
            f"[supervisorctl]\nserverurl=unix://{sock}\n\n{programs}")
        done = quiet([str(self.bin / "supervisord"), "-c", str(self.conf)])
        if done.returncode != 0:
            raise RuntimeError(f"supervisord did not start: {done.stderr.strip()}")
        deadline = time.monotonic() + 20
        while quiet(self.ctl("status")).returncode not in (0, 3):
            if time.monotonic() > deadline:
                raise RuntimeError("supervisord did not answer")
            time.sleep(0.1)

    def ctl(self, *args: str) -> list[str]:
        return [str(self.bin / "supervisorctl"), "-c", str(self.conf), *args]

    def run_idle(self) -> None:
        quiet(self.ctl("start", "idle"))

    def end_idle(self) -> None:
        quiet(self.ctl("stop", "idle"))

    def stop_idle(self) -> float:
        self.run_idle()
        return timed(self.ctl("stop", "idle"))

    def status(self) -> float:
        return timed(self.ctl("status", "idle"), check=False)  # exit 3 when a program is not running

    def stop_stubborn(self) -> float:
        quiet(self.ctl("start", "stubborn"))
        return timed(self.ctl("stop", "stubborn"))

    def close(self) -> None:
        quiet(self.ctl("shutdown"))


# --- pm2 ------------------------------------------------------------------------------

class Pm2:
    name = "pm2"

    def __init__(self, env_dir: Path, work: Path) -> None:
        self.bin = env_dir / "pm2" / "node_modules" / ".bin" / "pm2"
        self.dir = work / "pm2"
        self.dir.mkdir(parents=True)
        (self.dir / "idle.py").write_text(IDLE)
        (self.dir / "stubborn.py").write_text(STUBBORN)
        self.env = {**os.environ, "PM2_HOME": str(self.dir / "home")}
        quiet([str(self.bin), "ping"], self.env)  # starts pm2's daemon (not measured)
        for name, extra in (("idle", []), ("stubborn", ["--kill-timeout", str(int(STOP_TIMEOUT * 1000))])):
            done = quiet([str(self.bin), "start", str(self.dir / f"{name}.py"), "--name", name,
                          "--interpreter", sys.executable, "--no-autorestart", *extra], self.env)
            if done.returncode != 0:
                raise RuntimeError(f"pm2 start {name} failed: {done.stderr.strip()}")
        quiet([str(self.bin), "stop", "stubborn"], self.env)

    def run_idle(self) -> None:
        quiet([str(self.bin), "restart", "idle"], self.env)

    def end_idle(self) -> None:
        quiet([str(self.bin), "stop", "idle"], self.env)

    def stop_idle(self) -> float:
        self.run_idle()
        return timed([str(self.bin), "stop", "idle"], self.env)

    def status(self) -> float:
        return timed([str(self.bin), "jlist"], self.env)

    def stop_stubborn(self) -> float:
        quiet([str(self.bin), "restart", "stubborn"], self.env)
        time.sleep(0.3)  # let the Python interpreter install its SIG_IGN (not measured)
        return timed([str(self.bin), "stop", "stubborn"], self.env)

    def close(self) -> None:
        quiet([str(self.bin), "kill"], self.env)


# --- installing the peers -------------------------------------------------------------

def install_supervisor(env_dir: Path) -> None:
    venv = env_dir / "venv"
    if (venv / "bin" / "supervisorctl").exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "supervisor>=4.3,<4.4"],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"pip install supervisor failed: {done.stderr.strip()[-300:]}")


def install_pm2(env_dir: Path) -> None:
    target = env_dir / "pm2"
    if (target / "node_modules" / ".bin" / "pm2").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(target), "pm2@7"],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"npm install pm2@7 failed: {done.stderr.strip()[-300:]}")


def install_ours(env_dir: Path) -> list[str]:
    """A wheel of this tree, installed with its dependencies into a fresh venv: the
    ``hermes`` command as users get it (no editable-install finder at start-up)."""
    work = env_dir / "hermes-wheel"
    shutil.rmtree(work, ignore_errors=True)
    source = work / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in ("lifecycle", "store", "cli", "migrations"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(work / "dist"), str(source)],
                           capture_output=True, text=True, timeout=600)
    if built.returncode != 0:
        raise RuntimeError(f"building the wheel failed: {(built.stderr or built.stdout).strip()[-300:]}")
    wheel = next((work / "dist").glob("hermes_lifecycle-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"pip install of the wheel failed: {done.stderr.strip()[-300:]}")
    return [str(venv / "bin" / "hermes-lifecycle")]  # its root is the gateway group


# --- the run --------------------------------------------------------------------------

def _rotated(tools: list, round_: int) -> list:
    shift = round_ % len(tools)
    return tools[shift:] + tools[:shift]


def measure(tools: list, runs: int) -> dict[str, dict[str, list[float]]]:
    """Every command, each round every tool in turn (the order rotating)."""
    figures: dict[str, dict[str, list[float]]] = {t.name: {"stop": [], "status": [], "escalation": []} for t in tools}
    for tool in tools:
        tool.run_idle()  # status of a running process
    for round_ in range(runs):
        for tool in _rotated(tools, round_):
            figures[tool.name]["status"].append(tool.status())
    for tool in tools:
        tool.end_idle()
    for round_ in range(runs):
        for tool in _rotated(tools, round_):
            figures[tool.name]["stop"].append(tool.stop_idle())
    for round_ in range(escalation_rounds(runs)):
        for tool in _rotated(tools, round_):
            figures[tool.name]["escalation"].append(tool.stop_stubborn())
    return figures


def escalation_rounds(runs: int) -> int:
    return max(5, runs // 3)


ROWS = (("stop", "stop an idle process"), ("status", "status of a running process"),
        ("escalation", f"stop ignoring SIGTERM, {STOP_TIMEOUT:g} s timeout"))


def summary(figures: dict[str, dict[str, list[float]]]) -> dict:
    """The figures all.py writes into docs/benchmarks.md: ms, and ratios of medians."""
    med = {n: {k: statistics.median(v) * 1000 for k, v in f.items() if v} for n, f in figures.items()}
    out: dict = {"medians_ms": med,
                 "min_ms": {n: {k: min(v) * 1000 for k, v in f.items() if v} for n, f in figures.items()},
                 "max_ms": {n: {k: max(v) * 1000 for k, v in f.items() if v} for n, f in figures.items()}}
    if "supervisord" in med:
        out["ratio_to_supervisorctl"] = {k: med["hermes"][k] / med["supervisord"][k] for k in ("stop", "status")}
    return out


def report(figures: dict[str, dict[str, list[float]]], notes: list[str], runs: int) -> dict:
    names = list(figures)
    print(f"controller benchmark, interleaved: {runs} rounds (escalation: {escalation_rounds(runs)}), "
          "wall time of the command, min / median / max in ms")
    print(f"{'':34}" + "".join(f"{n:>22}" for n in names))
    for key, label in ROWS:
        cells = []
        for name in names:
            values = figures[name][key]
            cells.append(f"{min(values) * 1000:6.0f}/{statistics.median(values) * 1000:5.0f}/"
                         f"{max(values) * 1000:5.0f}".rjust(22) if values else f"{'-':>22}")
        print(f"{label:34}" + "".join(cells))
    print()
    result = summary(figures)
    ours = figures["hermes"]
    for key, label in ROWS[:2]:
        ratios = ", ".join(f"{statistics.median(ours[key]) / statistics.median(figures[n][key]):.2f}x {n}"
                           for n in names if n != "hermes" and figures[n][key])
        if "supervisord" in figures:
            ratio = result["ratio_to_supervisorctl"][key]
            verdict = f"target <= {RATIO_TARGETS[key]:.2f}x supervisorctl: {'met' if ratio <= RATIO_TARGETS[key] else 'MISSED'}"
        else:
            verdict = "target: not judged (supervisord not measured)"
        print(f"hermes {label}: median {statistics.median(ours[key]) * 1000:.0f} ms = {ratios} (ratio of medians); {verdict}")
    esc = ours["escalation"]
    med_target, max_target = ESCALATION_TARGETS
    met = statistics.median(esc) <= med_target and max(esc) <= max_target
    print(f"hermes {ROWS[2][1]}: median {statistics.median(esc):.3f} s, max {max(esc):.3f} s; target <= "
          f"{med_target:.2f} / <= {max_target:.2f} s: {'met' if met else 'MISSED'}")
    for note in notes:
        print(f"note: {note}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=MIN_ROUNDS, help=f"rounds (at least {MIN_ROUNDS})")
    parser.add_argument("--figures", type=Path, help="also write the figures as JSON here (bench/all.py)")
    parser.add_argument("--env", type=Path, default=Path(tempfile.gettempdir()) / "hermes-bench-controller",
                        help="where supervisor, pm2 and our wheel are installed (outside the project)")
    parser.add_argument("--install", choices=("wheel", "editable"), default="wheel",
                        help="ours as users get it (a wheel in a venv of its own) or the development venv")
    options = parser.parse_args()
    options.runs = max(options.runs, MIN_ROUNDS)
    notes: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="hermes-bench-controller-"))
    hermes = None
    if options.install == "wheel":
        try:
            hermes = install_ours(options.env)
            notes.append(f"hermes: a wheel of this tree installed into {options.env / 'hermes-wheel' / 'venv'}, "
                         "run as its `hermes-lifecycle` script")
        except (RuntimeError, OSError, subprocess.SubprocessError, StopIteration) as exc:
            notes.append(f"hermes: the wheel could not be installed ({exc}); measured the development venv")
    if hermes is None:
        notes.append(f"hermes: the development venv ({sys.executable} -m cli.main, editable install)")
    tools: list = [Ours(work, hermes)]
    for label, install, cls in (("supervisord 4.3", install_supervisor, Supervisor), ("pm2 7", install_pm2, Pm2)):
        try:
            install(options.env)
            tools.append(cls(options.env, work))
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            notes.append(f"{label}: not measured, skipped ({exc})")
    try:
        figures = measure(tools, options.runs)
    finally:
        for tool in tools:
            tool.close()
        shutil.rmtree(work, ignore_errors=True)
    result = report(figures, notes, options.runs)
    if options.figures is not None:
        options.figures.write_text(json.dumps({**result, "notes": notes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
