"""Windows paths on a real process: the watcher as the only way in, console close, hygiene."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from hermes_lifecycle.identity import ProcessIdentity
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import platform_named
from hermes_lifecycle.platforms.windows import console_event_name
from hermes_lifecycle.stop_request import request_stop
from tests.conftest import ROOT, hermes_env
from hermes_lifecycle.runtime.gateway import CONSOLE_WAIT
from hermes_lifecycle.runtime.shutdown import CONSOLE_CLOSE_GRACE, CONSOLE_DRAIN_BUDGET
from tests.gateways import Client, GatewayProcess, events, wait_for
from tests.lifecycle.runtime.windows_like import CONSOLE_CLOSE_FILE


class WindowsLikeGateway(GatewayProcess):
    def __init__(self, home_dir, stdin=subprocess.DEVNULL, *app: str) -> None:  # noqa: D107 -- another command
        self.home_dir, self.profile = home_dir, "default"
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.lifecycle.runtime.windows_like", str(home_dir), *app],
                                     stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=hermes_env(), cwd=ROOT)
        self.pid = self.proc.pid


@pytest.fixture
def windows_gateway(tmp_path):
    gateway = WindowsLikeGateway(tmp_path)
    yield gateway
    gateway.kill()


def test_without_loop_signals_the_watcher_alone_drains_a_stop_request(tmp_path, windows_gateway):
    windows_gateway.wait_ready()
    start = windows_gateway.run_event("start")
    with Journal(windows_gateway.home) as journal:
        request_stop(journal, ProcessIdentity(start.pid, start.data["create_time"]), "restart",
                     time.time() + 30, "controller")
    assert windows_gateway.wait_exit() == 75
    assert windows_gateway.run_event("drain").data["cause"] == "stop_request"


def test_console_close_drains_and_exits_1_for_the_service_manager_to_revive(tmp_path, windows_gateway):
    windows_gateway.wait_ready()
    (tmp_path / CONSOLE_CLOSE_FILE).touch()
    assert windows_gateway.wait_exit() == 1
    run = windows_gateway.run_event("start").run_id
    received = events(tmp_path, "signal_received", run_id=run)[0]
    assert received.data == {"console_event": "CTRL_CLOSE_EVENT"}
    drain = events(tmp_path, "drain", run_id=run)[0]
    assert drain.data["cause"] == "console" and drain.data["console_event"] == "CTRL_CLOSE_EVENT"
    assert events(tmp_path, "drained", run_id=run)


def test_console_close_caps_the_drain_so_it_is_recorded_before_windows_ends_the_process(tmp_path,
                                                                                       windows_gateway):
    client = Client(windows_gateway.wait_ready())
    session = client.call(op="open")["session"]
    client.submit(op="send", session=session, text="long", work_ms=600_000)
    wait_for(lambda: windows_gateway.run_event("ready") and _stored(windows_gateway, session), what="turn in flight")
    (tmp_path / CONSOLE_CLOSE_FILE).touch()
    assert windows_gateway.wait_exit() == 1
    timeout = windows_gateway.run_event("drain_timeout")
    assert timeout.data["timeout_s"] == CONSOLE_DRAIN_BUDGET < 5  # below the run's --drain-timeout 5
    assert windows_gateway.run_event("resume_pending_marked").data["sessions"] == [session]
    client.close()


def test_console_close_caps_an_app_close_that_hangs_so_drained_is_still_recorded_in_time(tmp_path):
    gateway = WindowsLikeGateway(tmp_path, subprocess.DEVNULL, "tests.apps:CloseHangs")
    try:
        gateway.wait_ready()
        (tmp_path / CONSOLE_CLOSE_FILE).touch()
        assert gateway.wait_exit() == 1
        drained = gateway.run_event("drained")
        assert drained.data["app_errors"] == [f"close: still running after {CONSOLE_CLOSE_GRACE:g} s, abandoned"]
        assert CONSOLE_DRAIN_BUDGET + CONSOLE_CLOSE_GRACE < CONSOLE_WAIT
    finally:
        gateway.kill()


def _stored(gateway, session: str) -> bool:
    with Journal(gateway.home) as journal:
        return journal.conn.execute("SELECT count(*) FROM lifecycle_messages WHERE session_id = ?", (session,)).fetchone()[0] > 0


def test_detached_gateway_ignores_console_ctrl_c_where_windows_would(tmp_path, windows_gateway):
    windows_gateway.wait_ready()
    start = windows_gateway.run_event("start")
    assert start.data["console_hygiene"] == ["SIGINT"]  # and SIGBREAK, which Linux does not have
    windows_gateway.proc.send_signal(2)  # SIGINT: the spurious Ctrl+C of a detached pythonw
    with Journal(windows_gateway.home) as journal:
        request_stop(journal, ProcessIdentity(start.pid, start.data["create_time"]), "stop",
                     time.time() + 30, "controller")
    assert windows_gateway.wait_exit() == 0  # a KeyboardInterrupt would have ended it otherwise
    assert windows_gateway.run_event("signal_received") is None
    assert windows_gateway.run_event("drained") is not None


def test_interactive_console_keeps_ctrl_c_and_it_drains_through_the_one_shutdown_path(tmp_path):
    """Ctrl+C reaches no loop handler on Windows: it must still drain, mark and exit 1."""
    terminal, stdin = os.openpty()
    gateway = WindowsLikeGateway(tmp_path, stdin=stdin)
    os.close(stdin)
    try:
        client = Client(gateway.wait_ready())
        session = client.call(op="open")["session"]
        assert gateway.run_event("start").data["console_hygiene"] == []
        gateway.proc.send_signal(signal.SIGINT)
        assert gateway.wait_exit() == 1
        assert gateway.run_event("signal_received").data == {"signal": "SIGINT"}
        assert gateway.run_event("drain").data == {"cause": "signal", "signal": "SIGINT"}
        assert gateway.run_event("resume_pending_marked").data["sessions"] == [session]
        assert gateway.run_event("drained").data["exit_code"] == 1
        client.close()
    finally:
        gateway.kill()
        os.close(terminal)


def test_console_event_names_cover_close_logoff_shutdown_and_pass_ctrl_c_on():
    assert [console_event_name(c) for c in range(7)] == [
        None, None, "CTRL_CLOSE_EVENT", None, None, "CTRL_LOGOFF_EVENT", "CTRL_SHUTDOWN_EVENT"]


@pytest.mark.parametrize("name", ["linux", "macos"])
def test_posix_platforms_have_no_console_close_handler(name):
    assert platform_named(name).install_console_close_handler(lambda event: None) is False
