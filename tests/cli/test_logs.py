"""`logs [-n N] [-f]`: the gateway's own output and its rotations, without knowing the path."""

from __future__ import annotations

import gzip
import queue
import subprocess
import threading

from hermes_lifecycle.home import Home
from tests.conftest import run_hermes, start_detached
from tests.gateways import DEADLINE, ROOT, hermes_argv, hermes_env


def _write_rotated_logs(home: Home) -> None:
    home.logs_dir.mkdir(parents=True)
    with gzip.open(home.stdio_log.with_name(home.stdio_log.name + ".3.gz"), "wt") as oldest:
        oldest.write("one\ntwo\n")
    home.stdio_log.with_name(home.stdio_log.name + ".2").write_text("three\n")
    home.stdio_log.with_name(home.stdio_log.name + ".1").write_text("four\nfive\n")
    home.stdio_log.write_text("six\nseven\n")


def test_logs_prints_the_rotations_oldest_first_then_the_current_log(home_dir):
    _write_rotated_logs(Home.resolve(home_dir))
    done = run_hermes(home_dir, "logs")
    assert (done.returncode, done.stdout.split()) == (0, ["one", "two", "three", "four", "five", "six", "seven"])
    assert run_hermes(home_dir, "logs", "-n", "3").stdout.split() == ["five", "six", "seven"]


def test_logs_of_a_home_with_no_output_says_where_it_would_be(home_dir):
    done = run_hermes(home_dir, "logs")
    assert done.returncode == 0 and done.stdout == "" and "gateway-stdio.log does not exist" in done.stderr


def test_logs_of_a_started_gateway_show_its_output(home_dir, reaper):
    start_detached(home_dir)
    assert run_hermes(home_dir, "logs").returncode == 0
    assert Home.resolve(home_dir).stdio_log.exists()


def test_logs_follow_prints_new_lines_across_a_rotation(home_dir):
    home = Home.resolve(home_dir)
    _write_rotated_logs(home)
    follower = subprocess.Popen(hermes_argv(home_dir, "logs", "-n", "1", "-f"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT, env=hermes_env())
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout], daemon=True).start()
    try:
        assert lines.get(timeout=DEADLINE) == "seven\n"
        with open(home.stdio_log, "a") as log:
            log.write("eight\n")
        assert lines.get(timeout=DEADLINE) == "eight\n"
        home.stdio_log.rename(home.stdio_log.with_name(home.stdio_log.name + ".1"))
        home.stdio_log.write_text("nine\n")
        assert lines.get(timeout=DEADLINE) == "nine\n"
    finally:
        follower.terminate()
        follower.wait(DEADLINE)
    assert follower.returncode == 0 and follower.stderr.read() == ""
