"""Heartbeat facts after a silent death: age, RSS, and the kernel's OOM kills in the cgroup."""

from __future__ import annotations

from pathlib import Path

import pytest

from hermes_lifecycle.heartbeat import Beat, Heartbeat, read_beat
from hermes_lifecycle.history.verdict import _heartbeat_phrase
from hermes_lifecycle.identity import own_identity
from hermes_lifecycle.platforms.cgroup import _cgroup_lines, oom_counter_file, read_oom_kills


def test_an_oom_kill_after_the_last_beat_is_told(tmp_path):
    counter = tmp_path / "memory.events"
    counter.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    beat = Beat("r-1", 42, 1.0, 1000.0, 2_040_109_465, str(counter), 1)
    counter.write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n")
    facts = beat.describe_after_death(now=1012.0)
    assert facts == {"at": 1000.0, "age_s": 12.0, "rss": 2_040_109_465, "oom_kills_since": 1,
                     "oom_counter": str(counter)}
    assert _heartbeat_phrase(facts) == ("; its last heartbeat was 12 s before it was found gone, RSS 1.9 GB; "
                                        "the kernel's OOM killer ended a process in its cgroup")


def test_no_oom_claim_when_the_counter_did_not_rise_or_is_gone(tmp_path):
    counter = tmp_path / "memory.oom_control"
    counter.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n")
    assert read_oom_kills(counter) == 4
    beat = Beat("r-1", 42, 1.0, 1000.0, 50 * 1024 * 1024, str(counter), 4)
    assert beat.describe_after_death(now=1003.0)["oom_kills_since"] == 0
    assert _heartbeat_phrase(beat.describe_after_death(now=1003.0)).endswith("RSS 50.0 MB")
    counter.unlink()
    assert "oom_kills_since" not in beat.describe_after_death(now=1003.0)


def test_the_counter_file_is_found_under_the_cgroup_of_the_process(tmp_path):
    lines = _cgroup_lines("self")
    if not lines:
        pytest.skip("no /proc/self/cgroup on this machine")
    for controllers, path in lines:
        name = "memory.oom_control" if "memory" in controllers.split(",") else "memory.events"
        folder = tmp_path / ("memory" if name == "memory.oom_control" else "") / path.lstrip("/")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("oom_kill 7\n")
    found = oom_counter_file("self", root=tmp_path)
    assert found is not None and read_oom_kills(found) == 7
    assert oom_counter_file("self", root=tmp_path / "nowhere") is None


def test_a_beat_is_written_atomically_and_read_back(home):
    me = own_identity()
    written = Heartbeat(home, me, "r-2").beat()
    assert read_beat(home) == written and written.belongs_to(me.pid, me.create_time)
    assert not written.belongs_to(me.pid + 1, me.create_time)
    assert [p.name for p in Path(home.locks_dir).iterdir()] == ["default.heartbeat.json"]
