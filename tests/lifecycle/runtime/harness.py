"""Real gateway processes for tests: start ``hermes gateway run``, talk to it, wait for it.

Every wait polls a condition up to a generous deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from lifecycle.home import Home
from lifecycle.journal import Journal
from store import Event, StreamState
from tests.conftest import ROOT, hermes_env

DEADLINE = 30.0


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


class GatewayProcess:
    """``hermes gateway --home HOME run ARGS`` as a child process."""

    def __init__(self, home_dir: Path, *args: str, profile: str | None = None) -> None:
        self.home_dir = Path(home_dir)
        self.profile = profile or "default"
        argv = [sys.executable, "-m", "cli.main", "gateway", "--home", str(home_dir)]
        if profile:
            argv += ["--profile", profile]
        self.proc = subprocess.Popen(argv + ["run", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=hermes_env(), cwd=ROOT)
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
