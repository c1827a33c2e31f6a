"""``hermes gateway run`` and ``hermes gateway sessions`` as a user sees them."""

from __future__ import annotations

import json
import time

import pytest

from hermes_lifecycle.identity import ProcessIdentity
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.stop_request import request_stop
from tests.conftest import run_hermes
from tests.gateways import Client


@pytest.mark.parametrize("args", [("--drain-timeout", "0"), ("--port", "70000"), ("--bogus",)])
def test_bad_run_options_are_usage_errors_and_write_nothing(tmp_path, args):
    result = run_hermes(tmp_path, "run", *args)
    assert result.returncode == 2
    assert not (tmp_path / "state.db").exists()


def test_run_help_names_every_option_and_the_exit_codes(tmp_path):
    text = run_hermes(tmp_path, "run", "--help").stdout
    for option in ("--port", "--host", "--drain-timeout", "--app", "--replace"):
        assert option in text
    assert "75" in text and "78" in text


def test_sessions_on_a_fresh_home_says_there_are_none(tmp_path):
    assert run_hermes(tmp_path, "sessions").stdout.strip() == "gateway default: no sessions"
    document = json.loads(run_hermes(tmp_path, "sessions", "--json").stdout)
    assert document == {"schema_version": 1, "profile": "default", "sessions": []}


def test_sessions_shows_resume_pending_after_a_drain(tmp_path, gateways):  # noqa: F811
    gateway = gateways(tmp_path, "--drain-timeout", "5")
    client = Client(gateway.wait_ready())
    session = client.call(op="open")["session"]
    client.call(op="send", session=session, text="hello")
    start = gateway.run_event("start")
    with Journal(gateway.home) as journal:
        request_stop(journal, ProcessIdentity(start.pid, start.data["create_time"]), "stop",
                     time.time() + 30, "controller")
    assert gateway.wait_exit() == 0

    listed = json.loads(run_hermes(tmp_path, "sessions", "--json").stdout)["sessions"]
    assert len(listed) == 1
    entry = listed[0]
    assert (entry["id"], entry["messages"], entry["resume_pending"], entry["parked"]) == (session, 2, True, False)
    # Marked (its client held it open) but not interrupted: its turn had completed before the drain.
    assert entry["interruptions"] == 0 and entry["interrupted_runs"] == []
    text = run_hermes(tmp_path, "sessions").stdout
    assert session in text and "resume_pending" in text
