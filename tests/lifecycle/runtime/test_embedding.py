"""The runtime embedded in a process that lives on: run_gateway(force_exit=False) in a thread."""

from __future__ import annotations

import threading
import time

from hermes_lifecycle.errors import GatewayError
from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import own_identity
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms.posix import LinuxPlatform
from hermes_lifecycle.runtime.gateway import RunOptions, run_gateway
from hermes_lifecycle.stop_request import request_stop
from tests.gateways import Client, wait_for


class ThreadPlatform(LinuxPlatform):
    """Signal handlers belong to the main thread; an embedded loop relies on the watcher."""

    loop_signals = ()


def test_embedded_gateway_returns_its_exit_code_and_releases_the_lock(tmp_path):
    home = Home.resolve(tmp_path)
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(run_gateway(
        home, RunOptions(drain_timeout=5), platform=ThreadPlatform(), force_exit=False)), daemon=True)
    runner.start()
    with Journal(home) as journal:
        ready = wait_for(lambda: journal.events(triggers=("ready",)), what="ready")[0]
        client = Client(ready.data["port"])  # holds the session open through the stop
        session = client.call(op="open")["session"]
        request_stop(journal, own_identity(), "restart", time.time() + 30, "controller")
        runner.join(30)
        assert result == [75]
        marked = journal.events(triggers=("resume_pending_marked",))[0]
        assert marked.data["sessions"] == [session]
        assert journal.events(triggers=("exit_forced",)) == []
        client.close()
    lock = ThreadPlatform().try_lock(home.instance_lock)
    assert lock is not None, "the embedded gateway kept the profile's lock"
    lock.release()


def test_embedded_gateway_whose_start_fails_raises_and_gives_the_lock_back(tmp_path):
    home = Home.resolve(tmp_path)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            run_gateway(home, RunOptions(app="tests.apps:FailsToStart"), platform=ThreadPlatform(), force_exit=False)
        except GatewayError as exc:
            raised.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(30)
    assert [type(e) for e in raised] == [GatewayError] and "adapter token rejected" in str(raised[0])
    lock = ThreadPlatform().try_lock(home.instance_lock)
    assert lock is not None, "a failed embedded start kept the profile's lock"
    lock.release()
