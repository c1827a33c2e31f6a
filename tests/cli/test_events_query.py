"""`events` queried as journalctl is: -n, --run, --trigger, --since/--until as times, --after-seq;
local time with its zone for people, UTC in JSON; long lines cut to a terminal's width."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from datetime import datetime, timedelta, timezone

from tests.conftest import run_hermes
from tests.gateways import ROOT, hermes_argv, hermes_env
from tests.journal_runs import ended_run


def _seqs(home_dir, *args) -> list[int]:
    done = run_hermes(home_dir, "events", "--json", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line)["seq"] for line in done.stdout.splitlines()]


def _triggers(home_dir, *args) -> list[str]:
    done = run_hermes(home_dir, "events", "--json", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line)["trigger"] for line in done.stdout.splitlines()]


def test_filters_combine_as_journalctl_s_do(journal, home_dir):
    ended_run(journal, "r-1", "stop")
    ended_run(journal, "r-2", "crash")
    ended_run(journal, "r-3", "start_failed")
    every = _seqs(home_dir)
    assert _seqs(home_dir, "-n", "3") == every[-3:]
    assert _seqs(home_dir, "--lines", "0") == []
    assert set(_triggers(home_dir, "--run", "r-2")) == {"start", "ready", "lost"}
    assert _triggers(home_dir, "--trigger", "lost", "--trigger", "start_failed") == ["lost", "start_failed"]
    assert _triggers(home_dir, "--run", "r-3", "--trigger", "start", "--trigger", "lost") == ["start"]
    assert _seqs(home_dir, "--after-seq", str(every[-2])) == every[-1:]
    assert _seqs(home_dir, "--since", "1h") == every and _seqs(home_dir, "--until", "1h") == []
    assert _seqs(home_dir, "--since", "1h30m", "--until", "PT0S", "-n", "1") == every[-1:]


def test_a_time_without_a_zone_is_local_time(journal, home_dir):
    ended_run(journal, "r-1", "stop")
    env = hermes_env(TZ="Asia/Kolkata")  # UTC+05:30, no summer time
    an_hour_ago_local = datetime.now(timezone(timedelta(hours=5, minutes=30))) - timedelta(hours=1)
    stamp = an_hour_ago_local.strftime("%Y-%m-%dT%H:%M:%S")  # read as UTC it is 4.5 h ahead: the future
    since = subprocess.run(hermes_argv(home_dir, "events", "--json", "--since", stamp), capture_output=True,
                           text=True, env=env, cwd=ROOT, timeout=60)
    until = subprocess.run(hermes_argv(home_dir, "events", "--json", "--until", stamp), capture_output=True,
                           text=True, env=env, cwd=ROOT, timeout=60)
    assert len(since.stdout.splitlines()) == 6 and until.stdout == "", (since.stderr, until.stderr)


def test_people_read_local_time_with_its_zone_and_json_stays_utc(journal, home_dir):
    ended_run(journal, "r-1", "stop")
    env = hermes_env(TZ="Asia/Kolkata")
    human = subprocess.run(hermes_argv(home_dir, "events", "-n", "1"), capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=60).stdout
    machine = json.loads(subprocess.run(hermes_argv(home_dir, "events", "--json", "-n", "1"), capture_output=True,
                                        text=True, env=env, cwd=ROOT, timeout=60).stdout)
    assert machine["at"].endswith("Z")
    at = datetime.fromisoformat(machine["at"].replace("Z", "+00:00")).astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert f"{at:%Y-%m-%d %H:%M:%S} IST" in human


def test_long_lines_are_cut_to_the_terminal_and_whole_in_json(journal, home_dir):
    journal.fire("service_installed", actor="test", data={"note": "x" * 1500})
    leader, follower = pty.openpty()
    os.set_blocking(leader, False)
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        done = subprocess.run(hermes_argv(home_dir, "events"), stdout=follower, stderr=subprocess.PIPE,
                              env=hermes_env(), cwd=ROOT, timeout=60)
        assert done.returncode == 0, done.stderr
        shown = os.read(leader, 65536).decode()
    finally:
        os.close(leader)
        os.close(follower)
    [line] = [line for line in shown.splitlines() if "service_installed" in line]
    assert len(line) == 100 and line.endswith("…")
    whole = json.loads(run_hermes(home_dir, "events", "--json").stdout)
    assert whole["data"]["note"] == "x" * 1500


def test_human_lines_show_data_as_words_not_json_or_reprs(journal, home_dir):
    ended_run(journal, "r-1", "timeout")  # a stop request (nested requested_by) and an abandoned list
    shown = run_hermes(home_dir, "events").stdout
    assert "requested_by.user=alice" in shown and "abandoned=session:x" in shown
    assert not any(mark in shown for mark in ("{", "[{", '["', "None", "'"))  # [state] marks a side step
