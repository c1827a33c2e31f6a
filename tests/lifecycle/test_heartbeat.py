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


def _running_as_me(home) -> "StreamState":
    from hermes_lifecycle import StreamState

    me = own_identity()
    return StreamState(home.profile, "running", run_id="r-3", pid=me.pid, create_time=me.create_time)


def test_status_warns_when_a_live_gateways_loop_stopped_ticking(home):
    """No watchdog outside systemd: a wedged loop (alive process, stale heartbeat) is at least told."""
    from hermes_lifecycle.heartbeat import INTERVAL, STALE_AFTER_BEATS, stalled_loop_warning

    current = _running_as_me(home)
    beat = Heartbeat(home, own_identity(), "r-3").beat()
    assert stalled_loop_warning(home, current, now=beat.at + INTERVAL) is None
    warning = stalled_loop_warning(home, current, now=beat.at + INTERVAL * STALE_AFTER_BEATS + 75)
    assert warning == {
        "kind": "loop_stalled",
        "message": f"the gateway's event loop last ticked 2 min ago although pid {current.pid} is alive: "
                   "it may be wedged",
        "command": "hermes-lifecycle restart"}
    assert stalled_loop_warning(home, stopped(home), now=beat.at + 1000) is None


def stopped(home):
    from hermes_lifecycle import StreamState

    return StreamState(home.profile, "stopped")


def test_status_prints_the_stalled_loop_warning_for_a_live_process_with_a_stale_beat(home):
    import json

    from hermes_lifecycle.heartbeat import heartbeat_path
    from hermes_lifecycle.journal import Journal
    from tests.conftest import run_hermes

    me = own_identity()  # this test process stands in for a gateway whose loop is wedged
    with Journal(home) as journal:
        journal.fire("start", actor="test", run_id="r-4", pid=me.pid, data={"create_time": me.create_time})
        journal.fire("ready", actor="test", run_id="r-4", pid=me.pid, data={"port": 1})
    beat = json.loads(heartbeat_path(home).read_text()) if heartbeat_path(home).exists() else None
    assert beat is None
    written = Heartbeat(home, me, "r-4").beat()
    stale = {**json.loads(heartbeat_path(home).read_text()), "at": written.at - 600}
    heartbeat_path(home).write_text(json.dumps(stale))
    done = run_hermes(home.root, "status")
    assert done.returncode == 0, done.stderr
    assert (f"warning: the gateway's event loop last ticked 10 min ago although pid {me.pid} is alive: "
            "it may be wedged; see `hermes-lifecycle restart`") in done.stdout


def test_a_profiles_beat_lives_in_its_own_home(home):
    """i9a's layout: profile NAME's home is ``<root>/profiles/NAME``, its locks (and beat) there."""
    from hermes_lifecycle import Home
    from hermes_lifecycle.heartbeat import heartbeat_path

    work = Home(home.root, "work")
    written = Heartbeat(work, own_identity(), "r-5").beat()
    assert heartbeat_path(work) == home.root / "profiles" / "work" / "locks" / "work.heartbeat.json"
    assert heartbeat_path(work).exists() and read_beat(work) == written
    assert read_beat(home) is None  # the default profile's beat is another file


def test_the_heartbeat_is_a_beat_of_the_loops_pulse_beside_the_watchdog(tmp_path):
    """One timer on the loop: the heartbeat subscribes to the same LoopPulse as the watchdog ping,
    beats at once, and leaves the pulse when stopped (the watchdog's beat stays)."""
    import asyncio

    from hermes_lifecycle.home import Home
    from hermes_lifecycle.runtime.pulse import LoopPulse

    home = Home.resolve(tmp_path / "home")
    pulse = LoopPulse()

    async def scenario() -> tuple[list[str], Beat | None, list[str]]:
        pulse.every("watchdog", 60.0, lambda: None)
        heartbeat = Heartbeat(home, own_identity(), "r-pulse").start(pulse)
        while heartbeat.last_tick is None:
            await asyncio.sleep(0.01)
        names, beat = pulse.names, read_beat(home)
        heartbeat.stop()
        after = pulse.names
        pulse.stop()
        return names, beat, after

    names, beat, after = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert names == ["heartbeat", "watchdog"]
    assert beat is not None and beat.run_id == "r-pulse"
    assert after == ["watchdog"]
