"""Nothing is signalled unless it is the recorded run: pid, create time and command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT, hermes_env, run_hermes
from tests.gateways import events, state, wait_for
from tests.lifecycle.controller.conftest import PLAIN, record_as_run, spawn_plain


def test_a_dead_pid_reused_by_an_unrelated_process_is_never_signalled(home_dir, journal, reaper):
    stranger = spawn_plain(PLAIN)  # SIGTERM would end it at once
    reaper.append(stranger)
    # The log's gateway had this pid once, but was created long before this process.
    record_as_run(journal, stranger.pid, create_time=stranger_create_time(stranger.pid) - 1000)
    done = run_hermes(home_dir, "stop", "--timeout", "2")
    assert done.returncode == 0, done.stderr
    assert "not running" in done.stdout
    assert stranger.poll() is None, "the stranger was signalled"
    assert state(home_dir).state == "crashed"
    assert [e.trigger for e in events(home_dir)][-1] == "lost"
    assert events(home_dir, "stop_requested") == []


def test_a_pid_whose_command_line_differs_from_the_run_is_not_signalled_and_the_run_is_lost(home_dir, journal,
                                                                                           reaper):
    stranger = spawn_plain(PLAIN)
    reaper.append(stranger)
    run_id = record_as_run(journal, stranger.pid,
                           cmdline=["python", "-m", "hermes_lifecycle.cli.main", "gateway", "run"])
    done = run_hermes(home_dir, "stop", "--timeout", "2")
    assert done.returncode == 0 and "not running (crashed)" in done.stdout, done.stdout + done.stderr
    [lost] = events(home_dir, "lost", run_id=run_id)
    assert lost.data["pid_reused"] is True and "another command line" in lost.reason
    assert stranger.poll() is None
    assert events(home_dir, "stop_requested") == [] and events(home_dir, "escalated") == []


def stranger_create_time(pid: int) -> float:
    import psutil

    return psutil.Process(pid).create_time()


DOUBLE_FORK = textwrap.dedent("""
    import os, subprocess, sys
    home = sys.argv[1]
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            log = os.open(os.path.join(home, "orphan.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0); os.dup2(log, 1); os.dup2(log, 2)
            os.execv(sys.executable, [sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", "--home", home, "run"])
        os._exit(0)
    os.wait()
""")


def test_a_detached_gateway_whose_launcher_exited_is_stopped_by_pid(home_dir, reaper):
    home_dir.mkdir(parents=True)
    launcher = subprocess.run([sys.executable, "-c", DOUBLE_FORK, str(home_dir)], env=hermes_env(), cwd=ROOT,
                              timeout=30)
    assert launcher.returncode == 0  # the launcher and the middle process are gone
    running = wait_for(lambda: state(home_dir).state == "running" and state(home_dir), what="the orphan ready")
    import psutil

    assert psutil.Process(running.pid).ppid() != os.getpid()
    done = run_hermes(home_dir, "stop", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "stopped"
    assert not psutil.pid_exists(running.pid) or psutil.Process(running.pid).status() == psutil.STATUS_ZOMBIE
    assert [e.trigger for e in events(home_dir, run_id=running.run_id)][-1] == "drained"


def test_naming_a_writer_imports_no_socket_and_names_the_same_host():
    """Every write names its actor (user@host); the host comes from uname where there is one."""
    import json
    import socket
    import subprocess
    import sys

    from tests.conftest import ROOT, hermes_env

    code = ("import json, sys\nfrom hermes_lifecycle.identity import who\nactor = who('controller')\n"
            "print(json.dumps([actor, 'socket' in sys.modules]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=hermes_env(), cwd=ROOT, check=True)
    actor, socket_loaded = json.loads(done.stdout)
    assert f"@{socket.gethostname()} " in actor
    assert socket_loaded is False
