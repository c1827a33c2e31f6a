"""The read commands stay light: no transitions, sqlite_utils or psutil, at rest or running; a polite stop
imports no psutil either.

Each of those costs 40-140 ms of start-up; `status` must answer in well under 100 ms.
(Creating and migrating a new home may use sqlite_utils: that happens once per home.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, hermes_env
from tests.gateways import state
from tests.lifecycle.controller.conftest import PLAIN, record_as_run, spawn_plain

HEAVY = ("transitions", "sqlite_utils", "psutil")
#: Standard modules only a warning needs (logging: ~4 ms; secrets pulls hashlib and random: ~5 ms).
ONLY_WHEN_WARNING = ("logging", "secrets")

#: Runs the real CLI in-process, then writes every module it imported to a file.
DRIVER = """
import json, sys
from hermes_lifecycle.cli.main import hermes
try:
    hermes(sys.argv[2:], prog_name="hermes")
except SystemExit as end:
    code = end.code
else:
    code = 0
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def _imported_by(home_dir: Path, report: Path, *args: str) -> dict:
    argv = [sys.executable, "-c", DRIVER, str(report), "gateway", "--home", str(home_dir), *args]
    subprocess.run(argv, capture_output=True, text=True, timeout=60, env=hermes_env(), cwd=ROOT, check=True)
    return json.loads(report.read_text())


def _record_a_finished_run(journal) -> None:
    journal.fire("start", actor="test", run_id="r-1", pid=99999, data={"create_time": 1.0})
    journal.fire("ready", actor="test", data={"port": 43127})
    journal.fire("drain", actor="test", reason="stop")
    journal.fire("drained", actor="test")


@pytest.mark.parametrize("args", [("status",), ("status", "--history"), ("status", "--history", "--json"),
                                  ("events",), ("events", "--json")], ids=" ".join)
def test_read_commands_on_a_stopped_gateway_import_no_heavy_module(journal, home_dir, tmp_path, args):
    _record_a_finished_run(journal)
    report = _imported_by(home_dir, tmp_path / "modules.json", *args)
    assert report["code"] == (3 if args[0] == "status" else 0)  # status: 3 is "not running"
    assert "hermes_lifecycle.store" in report["modules"], "the driver did not run the command"
    assert [m for m in HEAVY if m in report["modules"]] == []


@pytest.mark.parametrize("args", [("status",), ("status", "--json")], ids=" ".join)
def test_status_of_a_running_gateway_imports_no_heavy_module(journal, home_dir, tmp_path, reaper, args):
    """The run's identity (pid, create time) and the stray scan read /proc on Linux; where
    `install` never ran, the service line is answered without the managers."""
    running = spawn_plain(PLAIN)
    reaper.append(running)
    record_as_run(journal, running.pid)
    report = _imported_by(home_dir, tmp_path / "modules.json", *args)
    assert report["code"] == 0
    assert "hermes_lifecycle.reconcile" in report["modules"], "the driver did not check the process"
    assert [m for m in HEAVY if m in report["modules"]] == []
    assert "hermes_lifecycle.services.base" not in report["modules"]  # no service installed: no manager asked
    assert [m for m in ONLY_WHEN_WARNING if m in report["modules"]] == []
    assert "hermes_lifecycle.stop_request" not in report["modules"]  # only recording `lost` needs it
    assert state(home_dir).state == "running"  # it was found alive, not recorded lost


def test_a_polite_stop_imports_neither_psutil_nor_the_service_call_out(journal, home_dir, tmp_path, reaper):
    """Identity checks and the exit wait read /proc; without a saved service plan no service
    manager nor the services call-out is imported."""
    running = spawn_plain(PLAIN)  # obeys SIGTERM
    reaper.append(running)
    record_as_run(journal, running.pid)
    report = _imported_by(home_dir, tmp_path / "modules.json", "stop", "--timeout", "20")
    assert report["code"] == 0
    assert running.wait(30) is not None
    assert [m for m in HEAVY if m in report["modules"] and m != "transitions"] == []  # transitions judges the write
    assert "hermes_lifecycle.controller.through_service" not in report["modules"]
    assert "hermes_lifecycle.services.systemd" not in report["modules"]
    assert [m for m in ONLY_WHEN_WARNING if m in report["modules"]] == []  # the stop's write logs nothing


def test_the_driver_does_see_psutil_when_stop_must_force_a_process(journal, home_dir, tmp_path, reaper):
    """The checks above can fail: escalation terminates the process tree through psutil."""
    running = spawn_plain(PLAIN)
    reaper.append(running)
    record_as_run(journal, running.pid)
    report = _imported_by(home_dir, tmp_path / "modules.json", "stop", "--force")
    assert report["code"] == 3
    assert "psutil" in report["modules"]
