"""The main job: install into .venv, then show a real gateway's lifecycle on a fresh home.

A gateway is started detached, serves a session, is stopped while a message is in flight
(it drains: the message finishes and the session is marked for resume), starts again and
resumes the session with its whole history, is restarted through one audited operation,
and is stopped.  Then the record: `status --history` and the forensics of the last run.

Runs against ./demo-home (created anew each time) so it never touches a real home.
Standard library only, so it runs under a bare python3.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time

from _venv import ROOT, ensure_venv, venv_python

HOME = ROOT / "demo-home"
DRAIN_TIMEOUT = "5"


def hermes(*args: str, capture: bool = False) -> subprocess.CompletedProcess:
    command = [str(venv_python()), "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(HOME), *args]
    if not capture:
        print(f"\n$ hermes-lifecycle {' '.join(args)}", flush=True)
    result = subprocess.run(command, cwd=ROOT, text=True, capture_output=capture)
    if result.returncode != 0 and args[0] != "status":  # status's code is its answer (3: not running)
        print(f"(exit code {result.returncode})", flush=True)
    return result


class Client:
    """A line-protocol client of the reference gateway (see README: the line protocol)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.file = self.sock.makefile("rw", encoding="utf-8", newline="\n")

    def ask(self, **request: object) -> dict:
        self.file.write(json.dumps(request) + "\n")
        self.file.flush()
        return json.loads(self.file.readline())

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def port() -> int:
    return json.loads(hermes("status", "--json", capture=True).stdout)["port"]


def say(text: str) -> None:
    print(f"\n# {text}", flush=True)


def main() -> int:
    ensure_venv()
    shutil.rmtree(HOME, ignore_errors=True)
    failures = 0

    say("start a gateway detached; success is reported only once its `ready` event is in the log")
    failures += hermes("start", "--", "--drain-timeout", DRAIN_TIMEOUT).returncode != 0

    client = Client(port())
    session = client.ask(op="open")["session"]
    reply = client.ask(op="send", session=session, text="hello")["reply"]
    say(f"client opened {session} and got {reply!r}; now a 1.5 s turn is in flight while we stop")
    in_flight: dict = {}
    turn = threading.Thread(
        target=lambda: in_flight.update(client.ask(op="send", session=session, text="slow one", work_ms=1500))
    )
    turn.start()
    deadline = time.monotonic() + 30
    while not _turn_started(session) and time.monotonic() < deadline:
        time.sleep(0.05)

    failures += hermes("stop").returncode != 0
    turn.join(timeout=30)
    client.close()
    say(f"the in-flight turn finished during the drain: {in_flight.get('reply')!r}")
    failures += hermes("sessions").returncode != 0

    say("start again: the boot resumes the marked session")
    failures += hermes("start", "--", "--drain-timeout", DRAIN_TIMEOUT).returncode != 0
    client = Client(port())
    history = client.ask(op="history", session=session)["messages"]
    client.close()
    say(f"{session} kept its whole history across the stop: {[m['text'] for m in history]}")
    failures += len(history) != 4

    say("restart: one audited operation; the gateway exits 75 and the new run must reach `ready`")
    failures += hermes("restart").returncode != 0
    failures += hermes("stop").returncode != 0

    say("the record")
    failures += hermes("status", "--history").returncode != 3  # stopped: "not running", as systemctl says
    failures += hermes("forensics", "--last").returncode != 0
    print(f"\ndemo {'passed' if failures == 0 else f'had {failures} failing step(s)'}; home: {HOME}")
    return 0 if failures == 0 else 1


def _turn_started(session: str) -> bool:
    """The slow turn is in flight once its user message is stored (the reply comes later)."""
    probe = Client(port())
    try:
        messages = probe.ask(op="history", session=session)["messages"]
    finally:
        probe.close()
    return any(m["text"] == "slow one" for m in messages)


if __name__ == "__main__":
    sys.exit(main())
