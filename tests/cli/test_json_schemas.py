"""Every --json shape has a JSON Schema shipped with the package, and real outputs of every
command validate against it (errors included); the docs' JSON page links each schema."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the `test` extra")

from hermes_lifecycle.home import Home  # noqa: E402
from hermes_lifecycle.journal import Journal  # noqa: E402
from hermes_lifecycle.platforms import platform_named  # noqa: E402
from hermes_lifecycle.platforms.runner import CommandResult  # noqa: E402
from tests.cli.test_service_commands import account, hermes_with, invoke_on  # noqa: E402,F401
from tests.conftest import ROOT, run_hermes  # noqa: E402
from tests.gateways import state, wait_for  # noqa: E402
from tests.journal_runs import ended_run  # noqa: E402
from tests.lifecycle.services.fakes import FakeLaunchctl  # noqa: E402

SCHEMAS = resources.files("hermes_lifecycle.cli") / "schemas"


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))


def valid(name: str, document: dict) -> dict:
    """``document`` checked against the shipped schema ``name``; returned for further asserts."""
    jsonschema.Draft202012Validator(_schema(name), format_checker=jsonschema.FormatChecker()).validate(document)
    return document


def _json(home_dir, *args, codes=(0,)) -> dict:
    done = run_hermes(home_dir, *args)
    assert done.returncode in codes, done.stderr
    return json.loads(done.stdout)


def test_every_schema_is_a_valid_draft_2020_12_schema_and_linked_from_the_docs():
    names = sorted(p.name for p in SCHEMAS.iterdir() if p.name.endswith(".json"))
    assert len(names) >= 14
    page = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    for name in names:
        jsonschema.Draft202012Validator.check_schema(_schema(name[:-5]))
        assert re.search(rf"\]\(\.\./cli/schemas/{re.escape(name)}\)", page), f"docs/json.md does not link {name}"


def test_read_commands_match_their_schemas(home_dir):
    for profile, ending in (("default", "stop"), ("default", "crash"), ("other", "kill"),
                            ("default", "timeout"), ("default", "start_failed")):
        with Journal(Home.resolve(home_dir, profile)) as journal:
            ended_run(journal, f"r-{profile}-{ending}", ending)
    valid("status", _json(home_dir, "status", "--json", codes=(3,)))
    document = valid("status", _json(home_dir, "status", "--json", "--history", codes=(3,)))
    assert document["history"] and document["runs"]
    assert [p["profile"] for p in valid("status-all", _json(home_dir, "status", "--all", "--json", codes=(3,)))[
        "profiles"]] == ["default", "other"]
    lines = run_hermes(home_dir, "events", "--json").stdout.splitlines()
    assert len(lines) > 15 and all(valid("event", json.loads(line)) for line in lines)
    for run_id in ("r-default-stop", "r-default-crash", "r-default-timeout", "r-default-start_failed"):
        valid("forensics", _json(home_dir, "forensics", "--run", run_id, "--json"))
    valid("sessions", _json(home_dir, "sessions", "--json"))
    assert valid("prune", _json(home_dir, "prune", "--keep-runs", "1", "--dry-run", "--json"))["removed"]
    valid("wait", _json(home_dir, "wait", "--state", "stopped", "--timeout", "1", "--json"))


@pytest.mark.parametrize("args", [("forensics", "--run", "zzz", "--json"), ("status", "--json", "--since", "1h"),
                                  ("events", "--json", "--since", "yesterday"), ("start", "--json", "--", "--bogus"),
                                  ("prune", "--json")], ids=" ".join)
def test_errors_match_the_error_schema(journal, home_dir, args):
    ended_run(journal, "r-1", "stop")
    done = run_hermes(home_dir, *args)
    assert done.returncode == valid("error", json.loads(done.stdout))["error"]["exit_code"] != 0


def test_an_unreadable_store_is_a_json_error_with_exit_4(home_dir):
    home_dir.mkdir()
    (home_dir / "state.db").write_bytes(b"not a database" * 100)
    done = run_hermes(home_dir, "status", "--json")
    document = valid("error", json.loads(done.stdout))
    assert done.returncode == document["error"]["exit_code"] == 4 and document["error"]["kind"] == "status_unknown"


def test_a_gateway_s_life_matches_the_schemas(home_dir, reaper):
    started = valid("start", _json(home_dir, "start", "--json"))
    assert started["result"] == "started"
    valid("wait", _json(home_dir, "wait", "--state", "running", "--json"))
    restarted = valid("restart", _json(home_dir, "restart", "--json"))
    assert restarted["stop"]["result"] == "stopped" and restarted["start"]["result"] == "started"
    assert valid("stop", _json(home_dir, "stop", "--strays", "--json"))["result"] == "stopped"
    assert valid("stop-all", _json(home_dir, "stop", "--all", "--json"))["profiles"][0]["result"] == "not_running"
    valid("forensics", _json(home_dir, "forensics", "--json"))


def test_a_forced_stop_s_signals_and_budget_match_the_stop_schema(journal, home_dir, reaper):
    """A gateway that ignores SIGTERM, forced after the drain wait: the force steps the stop sent
    (`signals`) and how it split its time (`budget`), as the stop schema says."""
    from tests.lifecycle.controller.conftest import STUBBORN, record_as_run, spawn_plain

    stubborn = spawn_plain(STUBBORN)
    reaper.append(stubborn)
    record_as_run(journal, stubborn.pid)
    document = valid("stop", _json(home_dir, "stop", "--timeout", "2", "--json", codes=(3,)))
    assert document["result"] == "forced" and document["signals"][0]["step"] == "terminate_tree"
    assert document["budget"]["timeout_s"] == 2 and document["drain_timed_out"] is False


def test_a_crash_s_heartbeat_and_the_service_result_match_the_forensics_schema(journal, home_dir):
    """`forensics` of a run `lost` with its last heartbeat, and of one whose end systemd reported."""
    from tests.journal_runs import boot

    boot(journal, "r-lost")
    journal.fire("lost", actor="controller alice@box pid 6000", reason="process 4242 is gone",
                 data={"heartbeat": {"at": 1764000000.5, "age_s": 42.0, "rss": 52428800, "oom_kills_since": 1,
                                     "oom_counter": "/sys/fs/cgroup/user.slice/memory.events"}})
    lost = valid("forensics", _json(home_dir, "forensics", "--run", "r-lost", "--json"))
    assert lost["heartbeat"]["oom_kills_since"] == 1
    boot(journal, "r-watchdog")
    journal.fire("exited", actor="systemd", reason="ExecStopPost: watchdog",
                 data={"exit_code": None, "signal": 6, "service_result": "watchdog"})
    ended = valid("forensics", _json(home_dir, "forensics", "--run", "r-watchdog", "--json"))
    assert ended["exit"]["service_result"] == "watchdog" and ended["heartbeat"] is None


def test_install_and_uninstall_match_their_schemas(home_dir, systemd_env):
    done = hermes_with(systemd_env, home_dir, "install", "--json")
    assert done.returncode == 0, done.stderr
    assert valid("install", json.loads(done.stdout))["start"]["result"] == "started"
    wait_for(lambda: state(home_dir).state == "running", what="the gateway systemd started")
    removed = hermes_with(systemd_env, home_dir, "uninstall", "--json")
    assert removed.returncode == 0, removed.stderr
    assert valid("uninstall", json.loads(removed.stdout))["removed"]


def test_a_failed_install_with_json_prints_a_json_error(monkeypatch, home_dir, account):
    fake = FakeLaunchctl(bootstrap_result=CommandResult(("launchctl",), 5, "", "Bootstrap failed: 5: Input/output error\n"))
    result = invoke_on(monkeypatch, platform_named("macos", runner=fake.runner()), home_dir, "install", "--json")
    assert result.exit_code == 1
    document = valid("error", json.loads(result.stdout))
    assert document["error"]["kind"] == "service" and "launchd refused the agent" in document["error"]["message"]
