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
        assert result.stderr.startswith("hermes-lifecycle: ") and result.stderr.count("\n") == 1, result.stderr


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


@pytest.fixture
def long_log(home_dir):
    """Enough events that every listing overflows a pipe's buffer (64 KiB)."""
    with Journal(Home.resolve(home_dir), sync="fast") as journal:
        for n in range(150):
            ended_run(journal, f"r-{n:03}", "stop")
    return home_dir


@pytest.mark.parametrize("args", [("events",), ("events", "--json"), ("status", "--history", "-n", "400"),
                                  ("forensics",), ("timeline", "-n", "150")], ids=" ".join)
def test_a_closed_pipe_ends_the_command_quietly_with_exit_0(long_log, args):
    """`set -o pipefail` scripts do not break on `| head -1`: no traceback, no error line, exit 0."""
    command = " ".join(f"'{a}'" for a in hermes_argv(long_log, *args))
    done = subprocess.run(["bash", "-o", "pipefail", "-c", f"{command} | head -c 10 >/dev/null"],
                          capture_output=True, text=True, timeout=60, env=hermes_env(), cwd=ROOT)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("args, code", [(("forensics", "--run", "zzz", "--json"), 1),
                                        (("events", "--json", "--after-seq", "-1"), 2),
                                        (("events", "--after-seq", "-1", "--json"), 2),
                                        (("status", "--bogus", "--json"), 2),
                                        (("status", "--json", "--since", "1h"), 2)], ids=lambda a: str(a))
def test_with_json_an_error_is_a_json_document_with_the_same_exit_code(journal, home_dir, args, code):
    ended_run(journal, "r-1", "stop")
    done = run_hermes(home_dir, *args)
    assert done.returncode == code
    document = json.loads(done.stdout)
    assert document["schema_version"] == 1 and document["error"]["exit_code"] == code
    assert document["error"]["message"] in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.parametrize("command", ["status", "events", "prune", "timeline"])
def test_help_shows_no_integer_ceiling(home_dir, command):
    done = run_hermes(home_dir, command, "--help")
    assert done.returncode == 0 and "9223372036854775807" not in done.stdout


def test_stop_all_stops_every_profile_and_strays_is_its_own_option(home_dir, reaper):
    from tests.conftest import start_detached

    first = start_detached(home_dir)
    second = start_detached(home_dir, profile="other")
    done = run_hermes(home_dir, "stop", "--all", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [(p["profile"], p["result"], p["run_id"]) for p in document["profiles"]] == [
        ("default", "stopped", first["run_id"]), ("other", "stopped", second["run_id"])]
    states = json.loads(run_hermes(home_dir, "status", "--all", "--json").stdout)
    assert [p["state"] for p in states["profiles"]] == ["stopped", "stopped"]
    human = run_hermes(home_dir, "stop", "--all")
    assert human.stdout.splitlines() == ["gateway default is not running (stopped)", "gateway other is not running (stopped)"]
    assert "--strays" in run_hermes(home_dir, "stop", "--help").stdout


@pytest.mark.parametrize("run_options", [("--bogus",), ("--port", "99999"), ("--help",)], ids=" ".join)
def test_start_checks_the_run_options_before_spawning_anything(home_dir, run_options):
    done = run_hermes(home_dir, "start", "--", *run_options)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("hermes-lifecycle: ") and "gateway run --help" in done.stderr
    assert done.stderr.count("\n") == 1
    assert not home_dir.exists()  # nothing spawned, nothing recorded


def test_a_failed_start_is_painted_as_a_failure_not_green(journal, home_dir):
    ended_run(journal, "r-1", "start_failed")
    done = run_hermes(home_dir, "--color", "always", "status", "--history")
    [run_line] = [line for line in done.stdout.splitlines() if "run r-1:" in line]
    assert "\x1b[31m" in run_line and "\x1b[32m" not in run_line
    [shutdown] = [line for line in done.stdout.splitlines() if line.startswith("\x1b[31mlast shutdown: failed")]
    assert shutdown


def test_no_color_and_color_never_keep_escapes_off_a_terminal(journal, home_dir):
    import os
    import pty

    ended_run(journal, "r-1", "crash")
    for extra, env in (((), hermes_env(NO_COLOR="1")), (("--color", "never"), hermes_env())):
        leader, follower = pty.openpty()
        try:
            done = subprocess.run(hermes_argv(home_dir, *extra, "status", "--history"), stdout=follower,
                                  stderr=subprocess.PIPE, env=env, cwd=ROOT, timeout=60)
            shown = os.read(leader, 65536).decode()
        finally:
            os.close(leader)
            os.close(follower)
        assert done.returncode == 1 and "crashed" in shown and "\x1b[" not in shown, extra
    painted = run_hermes(home_dir, "--color", "always", "status", env=hermes_env(NO_COLOR="1"))
    assert "\x1b[" in painted.stdout  # an explicit --color always wins over NO_COLOR


def test_forensics_speaks_words_not_json_or_python_lists(journal, home_dir):
    from tests.journal_runs import drain, request

    boot(journal, "r-1", resumed=["s-6f01", "s-77aa"])
    request(journal)
    drain(journal, sessions=["s-1"], abandoned=[{"session": "s-1", "what": "reply", "age_s": 31.2}])
    shown = run_hermes(home_dir, "forensics", "--run", "r-1").stdout
    assert "abandoned 1: session s-1 (reply, 31 s)" in shown
    assert "at boot: resumed s-6f01, s-77aa, parked none" in shown
    assert not any(mark in shown for mark in ("[", "{", "'"))


def test_wait_says_each_thing_once_and_shows_progress_only_on_a_terminal(journal, home_dir):
    import os
    import pty

    ended_run(journal, "r-1", "stop")
    piped = run_hermes(home_dir, "wait", "--state", "running", "--timeout", "0.6")
    assert (piped.returncode, piped.stdout) == (1, "")
    assert piped.stderr == "gateway default is stopped: still not running after 0.60 s\n"
    assert run_hermes(home_dir, "wait", "--state", "stopped").stdout == "gateway default is stopped\n"
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(hermes_argv(home_dir, "wait", "--state", "running", "--timeout", "1.5"),
                              stdout=subprocess.PIPE, stderr=follower, env=hermes_env(), cwd=ROOT, timeout=60)
        shown = os.read(leader, 65536).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 1
    assert "\rwaiting for running, now stopped: " in shown and "s left" in shown
    assert shown.rstrip().endswith("still not running after 1.50 s")


def test_the_sessions_table_keeps_its_columns_for_long_session_ids(journal, home_dir):
    from hermes_lifecycle.runtime.sessions import SessionStore

    store = SessionStore(journal)
    for sid in ("s-1", "telegram-chat-1234567890123-thread-42", "s-22"):
        store.create(sid)
    lines = run_hermes(home_dir, "sessions").stdout.splitlines()
    assert len(lines) == 4
    column = lines[0].index("state")
    assert all(line[column - 1:column + 2] == " - " for line in lines[1:]), lines  # one column for all
