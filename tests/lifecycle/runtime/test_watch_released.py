"""A draining gateway lets its change watch go at once: the kernel retires an inotify watch in an
RCU grace period (7-20 ms here), paid at close or at the process's exit, which a waiting `stop`
would otherwise wait out after `drained`."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from tests.gateways import hold_a_turn_in_flight, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify and /proc are Linux's")


def _inotify_descriptors(pid: int) -> int:
    found = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:inotify"
        except OSError:  # closed meanwhile
            continue
    return found


def test_the_watch_is_released_when_the_drain_begins_not_at_exit(home_dir, gateways):
    gateway = gateways(home_dir, "--drain-timeout", "60")
    port = gateway.wait_ready()
    wait_for(lambda: _inotify_descriptors(gateway.pid) == 1, what="the watcher's inotify watch")
    client, _ = hold_a_turn_in_flight(port, work_ms=60_000)
    os.kill(gateway.pid, signal.SIGTERM)
    wait_for(lambda: gateway.run_event("drain"), what="the drain to begin")
    wait_for(lambda: _inotify_descriptors(gateway.pid) == 0, what="the watch to be let go during the drain")
    assert gateway.proc.poll() is None, "the gateway should still be draining (a turn is in flight)"
    client.close()
