"""``run --health``: real HTTP probes on 127.0.0.1 against a real gateway, through a real drain."""

from __future__ import annotations

import http.client
import json
import subprocess

import pytest

from tests.conftest import ROOT, run_hermes
from tests.gateways import events, hermes_argv, hermes_env, hold_a_turn_in_flight, spawn_gateway, wait_for

DEADLINE = 60


def probe(address: str, path: str, method: str = "GET") -> tuple[int, str]:
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=DEADLINE)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


@pytest.fixture(autouse=True)
def no_gateway_left_behind(home_dir):
    yield
    if (home_dir / "state.db").exists():
        run_hermes(home_dir, "stop", "--force", "--timeout", "10")


def test_readyz_goes_503_when_the_drain_begins_while_the_held_turn_finishes(home_dir):
    home_dir.mkdir(parents=True, exist_ok=True)
    (home_dir / "config.json").write_text(json.dumps({"restart_drain_timeout": 30}))
    gateway = spawn_gateway(home_dir, "--health", "127.0.0.1:0")
    ready = wait_for(lambda: events(home_dir, "ready"), DEADLINE, "ready")[-1]
    address = ready.data["health"]
    assert address.startswith("127.0.0.1:")
    assert probe(address, "/livez") == (200, "live\n")
    assert probe(address, "/readyz") == (200, "ready\n")
    assert probe(address, "/readyz", "HEAD") == (200, "")
    assert probe(address, "/nothing")[0] == 404
    client, _ = hold_a_turn_in_flight(ready.data["port"], 4000)
    stopper = subprocess.Popen(hermes_argv(home_dir, "stop"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=hermes_env(), cwd=ROOT)
    try:
        wait_for(lambda: probe(address, "/readyz")[0] == 503, DEADLINE, "/readyz to say 503")
        assert events(home_dir, "drain") and not events(home_dir, "drained")  # the turn is still in flight
        assert probe(address, "/livez")[0] == 200  # draining is alive
        assert client.read()["ok"] is True  # the held turn finished after traffic was turned away
    finally:
        client.close()
        assert stopper.wait(DEADLINE) == 0, stopper.stderr.read()
        stopper.stderr.close()
    assert gateway.wait(DEADLINE) == 0


def test_without_health_no_probe_address_is_recorded(home_dir):
    home_dir.mkdir(parents=True, exist_ok=True)
    gateway = spawn_gateway(home_dir)
    try:
        ready = wait_for(lambda: events(home_dir, "ready"), DEADLINE, "ready")[-1]
        assert "health" not in ready.data
    finally:
        assert run_hermes(home_dir, "stop").returncode == 0
        gateway.wait(DEADLINE)


@pytest.mark.parametrize("bad", ["8081", "127.0.0.1:", "127.0.0.1:http", ":8081", "127.0.0.1:70000"])
def test_a_malformed_address_is_one_line_and_exit_2_before_anything_is_written(home_dir, bad):
    done = run_hermes(home_dir, "run", "--health", bad)
    assert done.returncode == 2 and "--health" in done.stderr and "ADDR:PORT" in done.stderr
    assert not (home_dir / "state.db").exists()


def test_a_probe_port_in_use_is_a_failed_start(home_dir):
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        done = run_hermes(home_dir, "run", "--health", f"127.0.0.1:{taken.getsockname()[1]}")
    finally:
        taken.close()
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert events(home_dir, "start_failed")[0].data["exit_code"] == 1
