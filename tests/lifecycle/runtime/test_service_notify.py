"""The notify protocol against a real ``$NOTIFY_SOCKET``: a datagram socket the test binds,
receiving what a real gateway process sends (READY, WATCHDOG, STOPPING, the stop timeout)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from hermes_lifecycle.platforms.notify import ServiceNotifier
from tests.gateways import DEADLINE, ROOT, events, hermes_argv, hermes_env, wait_for


class NotifySocket:
    """A bound datagram socket standing where systemd's would be; collects every message."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.setblocking(False)
        self.address = address
        self.messages: list[tuple[float, dict[str, str]]] = []

    def pump(self) -> None:
        try:
            while True:
                data = self.sock.recv(4096).decode()
                self.messages.append((time.monotonic(), dict(line.split("=", 1) for line in data.splitlines())))
        except BlockingIOError:  # nothing more queued right now
            return

    def wait(self, key: str, what: str, count: int = 1) -> list[dict[str, str]]:
        def seen():
            self.pump()
            found = [m for _, m in self.messages if key in m]
            return found if len(found) >= count else None
        return wait_for(seen, DEADLINE, what)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_socket():
    folder = tempfile.mkdtemp(prefix="hn-")  # short: a socket path holds ~100 bytes
    listener = NotifySocket(os.path.join(folder, "notify"))
    yield listener
    listener.close()
    os.unlink(listener.address)
    os.rmdir(folder)


def _gateway(home: Path, notify: str, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(hermes_argv(home, "run", "--port", "0", *args), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=hermes_env(NOTIFY_SOCKET=notify, **env))


def test_a_real_gateway_sends_ready_only_when_ready_then_watchdog_then_stopping(tmp_path, notify_socket):
    proc = _gateway(tmp_path, notify_socket.address, WATCHDOG_USEC="300000")  # a ping every 0.1 s
    try:
        [ready] = notify_socket.wait("READY", "READY=1")
        [ready_event] = events(tmp_path, "ready")
        assert ready["READY"] == "1" and str(ready_event.data["port"]) in ready["STATUS"]
        assert ready_event.run_id in ready["STATUS"]
        first_status = next(m for _, m in notify_socket.messages if "STATUS" in m)
        assert first_status["STATUS"].startswith("starting") and "READY" not in first_status
        notify_socket.wait("WATCHDOG", "three watchdog pings", count=3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(DEADLINE) == 1  # a bare SIGTERM stays an unplanned stop
    finally:
        proc.kill()
        proc.wait(DEADLINE)
    notify_socket.pump()
    [stopping] = [m for _, m in notify_socket.messages if "STOPPING" in m]
    assert stopping["STOPPING"] == "1" and "SIGTERM" in stopping["STATUS"]
    extensions = [int(m["EXTEND_TIMEOUT_USEC"]) for _, m in notify_socket.messages if "EXTEND_TIMEOUT_USEC" in m]
    # the default 30 s drain, the app's close and a margin: more than the drain, bounded by it
    assert extensions and all(30e6 < usec <= (30 + 2 + 10) * 1e6 for usec in extensions)
    assert notify_socket.messages[-1][1]["STATUS"] == "drained, exiting with 1"
    assert "WATCHDOG_USEC" not in os.environ


def test_no_ping_arrives_once_the_loop_is_wedged(tmp_path, notify_socket):
    proc = _gateway(tmp_path, notify_socket.address, "--app", "tests.apps:WedgesLoop",
                    WATCHDOG_USEC="300000", HERMES_TEST_WEDGE_AFTER_S="0.5")
    try:
        notify_socket.wait("READY", "READY=1")
        pings = lambda: [t for t, m in notify_socket.messages if "WATCHDOG" in m]  # noqa: E731
        notify_socket.wait("WATCHDOG", "pings before the wedge", count=2)
        quiet_since = None
        while quiet_since is None or time.monotonic() - quiet_since < 1.0:  # 10 ping intervals
            notify_socket.pump()
            last = pings()[-1]
            quiet_since = last if quiet_since is None or last > quiet_since else quiet_since
            assert time.monotonic() - last < DEADLINE, "pings never stopped"
            time.sleep(0.05)
        assert proc.poll() is None  # alive, and silent: what a watchdog must catch
    finally:
        proc.kill()
        proc.wait(DEADLINE)


def test_an_abstract_address_is_reached_through_its_leading_at(notify_socket):
    name = f"@hermes-test-{os.getpid()}-{time.monotonic_ns()}"
    listener = NotifySocket(name)
    try:
        notifier = ServiceNotifier.from_environment({"NOTIFY_SOCKET": name}, consume=False)
        assert notifier.ready("up") and notifier.extend_timeout(1.5)
        listener.pump()
        assert [m for _, m in listener.messages] == [{"READY": "1", "STATUS": "up"},
                                                    {"EXTEND_TIMEOUT_USEC": "1500000"}]
    finally:
        listener.close()


def test_without_a_socket_every_message_is_a_silent_no_op():
    environ = {"WATCHDOG_USEC": "3000000"}
    notifier = ServiceNotifier.from_environment(environ)
    assert not notifier.listening and notifier.watchdog_interval is None
    assert notifier.ready("up") is False and notifier.watchdog() is False and notifier.sent == []


def test_the_variables_are_consumed_and_a_watchdog_for_another_pid_is_not_ours(notify_socket):
    environ = {"NOTIFY_SOCKET": notify_socket.address, "WATCHDOG_USEC": "3000000",
               "WATCHDOG_PID": str(os.getpid() + 1)}
    notifier = ServiceNotifier.from_environment(environ)
    assert environ == {} and notifier.listening and notifier.watchdog_interval is None
    mine = ServiceNotifier.from_environment({"NOTIFY_SOCKET": notify_socket.address, "WATCHDOG_USEC": "3000000",
                                             "WATCHDOG_PID": str(os.getpid())})
    assert mine.watchdog_interval == pytest.approx(1.0)


def test_a_manager_that_went_away_is_not_an_error(tmp_path):
    notifier = ServiceNotifier.from_environment({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert notifier.listening and notifier.ready("up") is False
