"""The documented JSON shapes of the spine's read commands: keys scripts may rely on."""

from __future__ import annotations

import json

from tests.conftest import run_hermes

STATUS_KEYS = {"schema_version", "profile", "state", "pid", "run_id", "since", "port", "version"}
TRANSITION_KEYS = {"seq", "at", "from", "to", "trigger", "run_id", "actor", "reason"}
EVENT_KEYS = {"schema_version", "seq", "stream", "version", "run_id", "at", "kind", "trigger", "from", "to",
              "pid", "actor", "reason", "data"}


def _one_run(journal) -> None:
    journal.fire("start", actor="gateway test", run_id="r-1", pid=4242, data={"create_time": 1.0})
    journal.fire("ready", actor="gateway test", data={"port": 43127})
    journal.fire("drain", actor="gateway test", reason="signal SIGTERM")
    journal.fire("resume_pending_marked", actor="gateway test", data={"session_ids": ["s1"]})
    journal.fire("drained", actor="gateway test", reason="drained")


def _json(home_dir, *args) -> dict:
    result = run_hermes(home_dir, *args)
    assert result.returncode in (0, 3), result.stderr  # status: 3 is "not running"
    return json.loads(result.stdout)


def test_status_json_of_a_new_home_has_every_key_with_nulls(home_dir):
    doc = _json(home_dir, "status", "--json")
    assert STATUS_KEYS <= doc.keys() and "history" not in doc
    assert doc["schema_version"] == 1 and doc["profile"] == "default" and doc["state"] == "stopped"
    assert doc["pid"] is None and doc["run_id"] is None and doc["since"] is None and doc["version"] == 0


def test_status_json_history_lists_transitions_oldest_first(journal, home_dir):
    _one_run(journal)
    doc = _json(home_dir, "status", "--history", "--json")
    assert STATUS_KEYS | {"history"} <= doc.keys()
    assert (doc["state"], doc["run_id"], doc["pid"], doc["version"]) == ("stopped", "r-1", None, 5)
    assert doc["since"] == doc["history"][-1]["at"]
    assert all(TRANSITION_KEYS <= entry.keys() for entry in doc["history"])
    assert [(h["from"], h["to"], h["trigger"]) for h in doc["history"]] == [
        ("stopped", "starting", "start"), ("starting", "running", "ready"),
        ("running", "draining", "drain"), ("draining", "stopped", "drained")]
    assert [h["seq"] for h in doc["history"]] == [1, 2, 3, 5]


def test_status_history_n_keeps_the_newest(journal, home_dir):
    _one_run(journal)
    doc = _json(home_dir, "status", "--history", "-n", "2", "--json")
    assert [h["trigger"] for h in doc["history"]] == ["drain", "drained"]


def test_events_json_is_one_object_per_line_with_every_key(journal, home_dir):
    _one_run(journal)
    result = run_hermes(home_dir, "events", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5]
    assert all(EVENT_KEYS <= e.keys() and e["schema_version"] == 1 for e in lines)
    step = lines[3]
    assert (step["kind"], step["from"], step["to"], step["data"]) == (
        "step", "draining", "draining", {"session_ids": ["s1"]})
    assert lines[0]["pid"] == 4242 and lines[0]["data"] == {"create_time": 1.0}


def test_events_since_skips_up_to_that_sequence_number(journal, home_dir):
    _one_run(journal)
    result = run_hermes(home_dir, "events", "--json", "--after-seq", "3")
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [4, 5]


def test_a_bad_option_value_is_a_usage_error_and_writes_nothing(journal, home_dir):
    _one_run(journal)
    before = (home_dir / "state.db").read_bytes()
    for args in (("status", "-n", "0"), ("events", "--after-seq", "-1"), ("diagram", "--format", "png")):
        result = run_hermes(home_dir, *args)
        assert result.returncode == 2 and result.stdout == "", args
    assert (home_dir / "state.db").read_bytes() == before
