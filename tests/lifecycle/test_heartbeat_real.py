"""The heartbeat of real gateways: a SIGKILLed gateway's ``lost`` and forensics carry its last beat."""

from __future__ import annotations

import json
import re

from hermes_lifecycle.heartbeat import heartbeat_path, read_beat
from hermes_lifecycle.home import Home
from tests.conftest import run_hermes
from tests.gateways import events, spawn_gateway, wait_for

DEADLINE = 60


def test_a_sigkilled_gateway_is_found_lost_with_its_last_heartbeat_age_and_rss(home_dir):
    home_dir.mkdir(parents=True, exist_ok=True)
    gateway = spawn_gateway(home_dir)
    try:
        wait_for(lambda: events(home_dir, "ready"), DEADLINE, "the gateway to be ready")
        home = Home.resolve(home_dir)
        beat = wait_for(lambda: (b := read_beat(home)) and b.pid == gateway.pid and b, DEADLINE, "a heartbeat")
        assert beat.rss and beat.rss > 1_000_000
        before = heartbeat_path(home).read_text()
    finally:
        gateway.kill()
    gateway.wait(timeout=DEADLINE)
    assert json.loads(before)["run_id"] == events(home_dir, "ready")[-1].run_id
    assert run_hermes(home_dir, "status").returncode == 1  # reconciles: the run is lost (crashed: LSB 1)
    lost = events(home_dir, "lost")[-1]
    heartbeat = lost.data["heartbeat"]
    assert heartbeat["rss"] == beat.rss and 0 <= heartbeat["age_s"] < DEADLINE
    assert heartbeat["at"] == beat.at
    done = run_hermes(home_dir, "forensics", "--last", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["heartbeat"]["rss"] == beat.rss
    assert re.search(r"; its last heartbeat was [\d.]+ ?\w+ before it was found gone, RSS [\d.]+ MB", doc["verdict"]), \
        doc["verdict"]
