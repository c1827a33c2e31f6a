"""What scripts rely on: status exit codes (systemctl/LSB), `status --all`, quiet closed pipes,
JSON on every outcome, and run options checked before anything is spawned."""

from __future__ import annotations

import json
import subprocess

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from tests.conftest import run_hermes
from tests.gateways import ROOT, hermes_argv, hermes_env
from tests.journal_runs import boot, crash, ended_run


@pytest.mark.parametrize("ending, code", [(None, 3), ("stop", 3), ("kill", 3), ("crash", 1), ("running", 0)])
def test_status_exit_code_says_the_state_as_systemctl_does(journal, home_dir, ending, code):
    if ending == "running":
        boot(journal, "r-1")  # this test process is the gateway: alive
    elif ending is not None:
        ended_run(journal, "r-1", ending)
    for args in (("status",), ("status", "--json")):
        result = run_hermes(home_dir, *args)
        assert result.returncode == code, (args, result.stdout, result.stderr)


def test_status_of_an_unreadable_store_exits_4_cannot_tell(home_dir):
    home_dir.mkdir()
    (home_dir / "state.db").write_bytes(b"this is not a database" * 50)
    for args in (("status",), ("status", "--json"), ("status", "--all")):
        result = run_hermes(home_dir, *args)
        assert result.returncode == 4, (args, result.stderr)
        assert result.stderr.startswith("hermes: ") and result.stderr.count("\n") == 1, result.stderr


def test_status_all_shows_every_profile_one_line_each(home_dir):
    for profile, ending in (("default", "stop"), ("web", "crash"), ("zz-bot", None)):
        with Journal(Home.resolve(home_dir, profile)) as journal:
            if ending:
                ended_run(journal, f"r-{profile}", ending)
            else:
                boot(journal, "r-alive")
    result = run_hermes(home_dir, "status", "--all")
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["default", "stopped"], ["web", "crashed"],
                                                    ["zz-bot", "running"]], result.stdout
    assert result.returncode == 1  # the worst: one crashed
    doc = json.loads(run_hermes(home_dir, "status", "--all", "--json").stdout)
    assert [(p["profile"], p["state"], p["exit_code"]) for p in doc["profiles"]] == [
        ("default", "stopped", 3), ("web", "crashed", 1), ("zz-bot", "running", 0)]
    assert doc["exit_code"] == 1
