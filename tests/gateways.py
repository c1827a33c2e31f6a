"""Real gateway processes for tests and benchmarks: start ``hermes gateway run``, talk to it, wait for it.

Every wait polls a condition up to a generous deadline; nothing sleeps a fixed time.
No pytest here: ``bench/`` scripts use the same starter and waits.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any, Callable

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.projection import StreamState
from hermes_lifecycle.store import Event

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 30.0


def hermes_env(**extra: str) -> dict[str, str]:
    """This environment without any ``HERMES_*`` variable, with the project importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def hermes_argv(home: Path | str, *args: str, profile: str | None = None) -> list[str]:
    """``python -m cli.main gateway --home HOME [--profile P] ARGS``."""
    argv = [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(home)]
    if profile is not None:
        argv += ["--profile", profile]
    return argv + list(args)


def wait_for(condition: Callable[[], Any], timeout: float = DEADLINE, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def events(home_dir: Path, *triggers: str, run_id: str | None = None, profile: str = "default") -> list[Event]:
    with Journal(Home.resolve(home_dir, profile)) as journal:
        return journal.events(triggers=triggers or None, run_id=run_id)


def state(home_dir: Path, profile: str = "default") -> StreamState:
    with Journal(Home.resolve(home_dir, profile)) as journal:
        return journal.state()


def spawn_gateway(home_dir: Path | str, *run_args: str, profile: str | None = None,
                  env: dict[str, str] | None = None, output: int | IO = subprocess.DEVNULL) -> subprocess.Popen:
    """``hermes gateway --home HOME [--profile P] run ARGS`` as a child process, stdin closed."""
    return subprocess.Popen(hermes_argv(home_dir, "run", *run_args, profile=profile), stdin=subprocess.DEVNULL,
                            stdout=output, stderr=output, text=True, env=env or hermes_env(), cwd=ROOT)


class GatewayProcess:
    """``hermes gateway --home HOME run ARGS`` as a child process whose output the test reads."""

    def __init__(self, home_dir: Path, *args: str, profile: str | None = None) -> None:
        self.home_dir = Path(home_dir)
        self.profile = profile or "default"
        self.proc = spawn_gateway(home_dir, *args, profile=profile, output=subprocess.PIPE)
        self.pid = self.proc.pid

    @property
    def home(self) -> Home:
        return Home.resolve(self.home_dir, self.profile)

    def run_event(self, trigger: str) -> Event | None:
        """The ``trigger`` event written by this process (newest), if any."""
        if not self.home.state_db.exists():
            return None
        found = [e for e in events(self.home_dir, trigger, profile=self.profile) if e.pid == self.pid]
        return found[-1] if found else None

    def wait_ready(self, timeout: float = DEADLINE) -> int:
        """Wait for this process's ``ready``; return the port it bound."""
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited {self.proc.returncode} before ready: {self.proc.stderr.read()}")
            return self.run_event("ready")
        return wait_for(ready, timeout, "ready").data["port"]

    def wait_exit(self, timeout: float = DEADLINE) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"gateway pid {self.pid} still running after {timeout:g} s") from None

    def output(self) -> tuple[str, str]:
        out, err = self.proc.communicate(timeout=DEADLINE)
        return out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(DEADLINE)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


class Client:
    """A line-protocol client of the reference gateway."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.file = self.sock.makefile("rw", encoding="utf-8")

    def submit(self, **request: Any) -> None:
        self.file.write(json.dumps(request) + "\n")
        self.file.flush()

    def read(self) -> dict[str, Any]:
        line = self.file.readline()
        if not line:
            raise ConnectionError("the gateway closed the connection")
        return json.loads(line)

    def call(self, **request: Any) -> dict[str, Any]:
        self.submit(**request)
        return self.read()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def hold_a_turn_in_flight(port: int, work_ms: int, text: str = "hello") -> tuple[Client, str]:
    """Open a session and send a turn that works ``work_ms``; return once its message is stored
    (the turn is in flight: the reply comes after the work).  Read the reply from the client."""
    client = Client(port)
    session = client.call(op="open")["session"]
    client.submit(op="send", session=session, text=text, work_ms=work_ms)
    observer = Client(port)
    wait_for(lambda: observer.call(op="history", session=session)["messages"], what="the turn to begin")
    observer.close()
    return client, session
