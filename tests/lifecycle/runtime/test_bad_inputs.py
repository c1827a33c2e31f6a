"""Inputs that once ended in tracebacks: each gets one clear answer, and nothing else breaks.

Real gateways over real sockets, a real config.json, a real /dev/zero and FIFO.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_hermes, start_detached
from tests.faults import fill, small_disk  # noqa: F401 -- a fixture
from tests.gateways import Client, events, state

NESTED = '{"a":' * 10_000 + "1" + "}" * 10_000  # 60 KB, under the 64 KiB line limit


def _raw(client: Client, line: str) -> dict:
    client.file.write(line + "\n")
    client.file.flush()
    return client.read()


def _no_traceback(home_dir: Path) -> None:
    log = (home_dir / "logs" / "gateway-stdio.log").read_text("utf-8", "replace")
    assert "Traceback" not in log, log


@pytest.mark.parametrize("line", [
    '{"op": "send", "session": "SID", "text": "x", "work_ms": ' + "9" * 5000 + "}",
    '{"op": "open", "x": ' + NESTED + "}",
    '{"op": "send", "session": "SID", "text": "\\ud800"}',
    '{"op": "open", "session": "\\udfff"}',
], ids=["5000-digit work_ms", "deeply nested object", "lone surrogate text", "lone surrogate session"])
def test_a_bad_line_gets_ok_false_on_a_connection_that_stays_open(home_dir: Path, line: str) -> None:
    port = start_detached(home_dir)["port"]
    client = Client(port)
    try:
        sid = client.call(op="open")["session"]
        answer = _raw(client, line.replace("SID", sid))
        assert answer["ok"] is False and answer["error"], answer
        assert client.call(op="send", session=sid, text="still here")["reply"] == "echo: still here"
    finally:
        client.close()
        run_hermes(home_dir, "stop")
    _no_traceback(home_dir)


def test_open_while_the_disk_is_full_gets_ok_false_and_works_again_after(small_disk: Path) -> None:
    home_dir = small_disk / "home"
    port = start_detached(home_dir)["port"]
    client = Client(port)
    try:
        filler = fill(small_disk)
        answer = client.call(op="open")
        assert answer["ok"] is False and "database or disk is full" in answer["error"], answer
        filler.unlink()
        assert client.call(op="open")["ok"] is True
    finally:
        client.close()
        run_hermes(home_dir, "stop")
    _no_traceback(home_dir)


@pytest.mark.parametrize("text, key", [
    ('{"port": ' + "9" * 5000 + "}", "port"),
    ('{"port": ' + "[" * 5000 + "]" * 5000 + "}", "port"),
    ("[" * 100_000 + "]" * 100_000, None),
], ids=["5000-digit port", "deeply nested port", "deeply nested array"])
def test_a_config_that_breaks_the_parser_is_one_line_start_failed_and_exit_78(home_dir: Path, text: str,
                                                                              key: str | None) -> None:
    home_dir.mkdir()
    (home_dir / "config.json").write_text(text)
    result = run_hermes(home_dir, "run")
    assert result.returncode == 78, result.stderr
    assert result.stderr.count("\n") == 1 and "config.json" in result.stderr, result.stderr
    if key is not None:
        assert f"config.json: {key} " in result.stderr
    assert events(home_dir, "start_failed")[0].data["exit_code"] == 78 and state(home_dir).state == "stopped"


@pytest.mark.parametrize("make", ["/dev/zero", "fifo", "large file"])
def test_an_install_plan_is_a_regular_file_of_bounded_size_or_refused_in_one_line(home_dir: Path, tmp_path: Path,
                                                                                 make: str) -> None:
    path = Path(make) if make.startswith("/") else tmp_path / "plan.json"
    if make == "fifo":
        os.mkfifo(path)
    elif make == "large file":
        path.write_text(json.dumps({"pad": "x" * (1 << 20)}))
    result = run_hermes(home_dir, "install", "--plan", str(path), timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr, result.stderr
