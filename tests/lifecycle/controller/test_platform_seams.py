"""Detached spawning and tree termination per platform, through the recorded seams.

Windows process flags and taskkill cannot run here: the spawn seam and the runner seam
record the exact calls.  Everything else in these tests is real.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import psutil

from hermes_lifecycle.controller.countdown import Silent
from hermes_lifecycle.controller.spawn import spawn_gateway
from hermes_lifecycle.controller.stop import stop_gateway
from hermes_lifecycle.identity import CREATE_TIME_TOLERANCE, is_alive
from hermes_lifecycle.platforms import CommandResult, RecordingRunner, platform_named
from hermes_lifecycle.platforms.spawner import RecordingSpawner
from tests.conftest import ROOT, hermes_env
from tests.lifecycle.controller.conftest import PLAIN, record_as_run, spawn_plain

DETACHED_PROCESS, CREATE_NEW_PROCESS_GROUP = 0x00000008, 0x00000200
CREATE_NO_WINDOW, CREATE_BREAKAWAY_FROM_JOB = 0x08000000, 0x01000000


def test_windows_spawns_pythonw_detached_with_devnull_stdio_and_the_sidecar_log(home):
    spawner = RecordingSpawner()
    platform = platform_named("windows", runner=RecordingRunner(), spawner=spawner)
    spawn_gateway(home, platform, ["--port", "0"])
    (call,) = spawner.calls
    assert call.argv[0].endswith("pythonw.exe")
    assert call.argv[1:5] == ("-m", "hermes_lifecycle.controller.sidecar", str(home.stdio_log), "--")
    assert call.argv[5:] == ("gateway", "--home", str(home.root), "--profile", "default", "run", "--port", "0")
    assert call.creationflags == (DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW
                                  | CREATE_BREAKAWAY_FROM_JOB)
    assert (call.stdin, call.stdout, call.stderr) == ("DEVNULL", "DEVNULL", "DEVNULL")
    assert not call.start_new_session


def test_posix_spawns_a_new_session_with_output_to_the_sidecar_log(home):
    spawner = RecordingSpawner()
    spawn_gateway(home, platform_named("linux", spawner=spawner))
    (call,) = spawner.calls
    assert call.argv[0] == sys.executable and call.argv[1:3] == ("-m", "hermes_lifecycle.cli.main")
    assert call.start_new_session and call.creationflags == 0
    assert (call.stdin, call.stdout, call.stderr) == ("DEVNULL", str(home.stdio_log), "STDOUT")


def test_the_sidecar_sends_the_commands_output_to_the_log(home_dir, tmp_path):
    log = tmp_path / "sidecar.log"
    done = subprocess.run([sys.executable, "-m", "hermes_lifecycle.controller.sidecar", str(log), "--",
                           "gateway", "--home", str(home_dir), "status"],
                          capture_output=True, text=True, cwd=ROOT, env=hermes_env(), timeout=60)
    assert done.returncode == 3 and done.stdout == "" and done.stderr == ""  # status: not running
    assert "gateway default: stopped" in log.read_text()


def test_windows_stop_sends_no_signal_and_escalates_with_taskkill_tree_then_force(journal, reaper):
    plain = spawn_plain(PLAIN)  # SIGTERM would end it at once: it survives only if none is sent
    reaper.append(plain)
    run_id = record_as_run(journal, plain.pid)

    def taskkill(argv):
        if "/F" in argv:
            plain.send_signal(signal.SIGKILL)  # what taskkill /F does to the tree
        return CommandResult(argv, 0 if "/F" in argv else 128)  # without /F it is only asked

    runner = RecordingRunner({("taskkill",): taskkill})
    outcome = stop_gateway(journal, platform_named("windows", runner=runner), timeout=1.0, countdown=Silent())
    assert outcome.result == "forced" and outcome.exit_code == 3 and outcome.state == "killed"
    assert runner.calls == [("taskkill", "/PID", str(plain.pid), "/T"),
                            ("taskkill", "/PID", str(plain.pid), "/T", "/F")]
    steps = [e.data for e in journal.events(run_id=run_id, triggers=("escalated",))]
    assert [s["done"] for s in steps] == [[f"taskkill /PID {plain.pid} /T (exit 128)"],
                                          [f"taskkill /PID {plain.pid} /T /F"]]


def test_windows_names_each_pid_without_tree_flag_when_the_callers_ancestry_is_spared():
    runner = RecordingRunner()
    platform = platform_named("windows", runner=runner)
    members = [SimpleNamespace(pid=100), SimpleNamespace(pid=102)]
    platform.terminate_tree(100, members, whole=False)
    platform.kill_tree(100, members, whole=False)
    assert runner.calls == [("taskkill", "/PID", "102"), ("taskkill", "/PID", "100"),
                            ("taskkill", "/PID", "102", "/F"), ("taskkill", "/PID", "100", "/F")]


def test_linux_lists_command_lines_without_psutil_and_agrees_with_it():
    child = spawn_plain(PLAIN, "marker-arg")
    try:
        listed = dict(platform_named("linux").process_command_lines())
        assert listed[child.pid] == psutil.Process(child.pid).cmdline()
        assert listed[child.pid][-1] == "marker-arg"
    finally:
        child.kill()
        child.wait(30)


AGE_PROBE = ("import time; from lifecycle.platforms import platform_named; p = platform_named('linux'); "
             "a = p.own_age(); time.sleep(0.3); print(a, p.own_age())")


def test_linux_reads_its_own_age_from_a_monotonic_clock():
    done = subprocess.run([sys.executable, "-c", AGE_PROBE], capture_output=True, text=True, cwd=ROOT,
                          env=hermes_env(), timeout=60, check=True)
    first, second = map(float, done.stdout.split())
    assert 0 < first < second
    assert second - first >= 0.3 - 0.011  # the clock tick of the start time is 10 ms
    assert platform_named("windows").own_age() is None


def test_linux_reads_create_times_without_psutil_and_agrees_with_it():
    linux, generic = platform_named("linux"), platform_named("windows")  # the base class asks psutil
    child = spawn_plain(PLAIN)
    try:
        for pid in (child.pid, psutil.Process().pid, 1):
            own = linux.process_create_time(pid)
            assert own is not None
            assert abs(own - psutil.Process(pid).create_time()) <= CREATE_TIME_TOLERANCE
            assert abs(own - generic.process_create_time(pid)) <= CREATE_TIME_TOLERANCE
        assert is_alive(child.pid, psutil.Process(child.pid).create_time(), linux)
        assert not is_alive(child.pid, psutil.Process(child.pid).create_time() - 1000, linux)  # a reused pid
    finally:
        child.kill()
    assert _wait_for_zombie(child.pid), "the killed child never became a zombie"
    assert linux.process_create_time(child.pid) is None  # a zombie no longer runs
    assert generic.process_create_time(child.pid) is None
    child.wait(30)
    assert linux.process_create_time(child.pid) is None and not is_alive(child.pid, None, linux)
    assert linux.process_create_time(-1) is None


def test_linux_reads_a_process_environment_as_psutil_does():
    child = spawn_plain(PLAIN)
    try:
        own = platform_named("linux").process_environ(child.pid)
        assert own == psutil.Process(child.pid).environ()
        assert own["PYTHONPATH"] == str(ROOT)
    finally:
        child.kill()
        child.wait(30)
    assert platform_named("linux").process_environ(child.pid) == {}


def _wait_for_zombie(pid: int, patience: float = 30.0) -> bool:
    until = time.monotonic() + patience
    while time.monotonic() < until:
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.01)
    return False


def test_linux_reads_one_command_line_as_psutil_does():
    child = spawn_plain(PLAIN, "marker-arg")
    linux = platform_named("linux")
    try:
        assert linux.process_command_line(child.pid) == psutil.Process(child.pid).cmdline()
        assert platform_named("windows").process_command_line(child.pid) == psutil.Process(child.pid).cmdline()
    finally:
        child.kill()
        child.wait(30)
    assert linux.process_command_line(child.pid) is None


def test_linux_wakes_a_waiting_stop_when_the_process_exits_not_at_its_timeout():
    child = spawn_plain(PLAIN)
    linux = platform_named("linux")
    killer = threading.Timer(0.2, child.kill)
    killer.start()
    try:
        began = time.monotonic()
        linux.sleep_until_exit(child.pid, 120)
        assert time.monotonic() - began < 60, "slept to the timeout: the exit did not wake it"
        assert child.wait(30) is not None
    finally:
        killer.cancel()
        child.kill()
        child.wait(30)
    linux.sleep_until_exit(child.pid, 120)  # reaped, gone: returns at once (or the test would hang)


ROOT_WITH_STUBBORN_CHILD = (
    "import subprocess, sys, time; "
    "child = subprocess.Popen([sys.executable, '-c', " + repr(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); "
        "time.sleep(120)") + "], stdout=subprocess.PIPE, text=True); "
    "child.stdout.readline(); print('up', child.pid, flush=True); time.sleep(120)"
)


def test_windows_kill_step_never_names_a_root_that_left_during_the_grace(journal, reaper):
    """`taskkill /PID root /T /F` on a root that is gone would reach whatever now has its pid
    (and that process's tree): the surviving members are named one by one instead."""
    root = subprocess.Popen([sys.executable, "-c", ROOT_WITH_STUBBORN_CHILD], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=hermes_env())
    reaper.append(root)
    child_pid = int(root.stdout.readline().split()[1])
    reaper.append(psutil.Process(child_pid))
    record_as_run(journal, root.pid)

    def taskkill(argv):
        if "/F" in argv:
            try:
                psutil.Process(int(argv[2])).kill()
            except psutil.NoSuchProcess:
                return CommandResult(argv, 128)  # taskkill: no process with this pid
        else:
            root.kill()  # the root obeys the polite step, its child does not
            root.wait(30)
        return CommandResult(argv, 0)

    runner = RecordingRunner({("taskkill",): taskkill})
    outcome = stop_gateway(journal, platform_named("windows", runner=runner), timeout=1.0, force=True,
                           countdown=Silent())
    assert runner.calls == [("taskkill", "/PID", str(root.pid), "/T"), ("taskkill", "/PID", str(child_pid), "/F")]
    assert outcome.result == "forced" and outcome.state == "killed"


def test_linux_reads_a_process_working_directory_as_psutil_does(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", PLAIN], stdout=subprocess.PIPE, text=True, cwd=tmp_path,
                             env=hermes_env())
    try:
        assert child.stdout.readline().strip() == "up"
        assert platform_named("linux").process_cwd(child.pid) == psutil.Process(child.pid).cwd() == str(tmp_path)
        assert platform_named("windows").process_cwd(child.pid) == str(tmp_path)  # the base class: psutil
    finally:
        child.kill()
        child.wait(30)
    assert platform_named("linux").process_cwd(child.pid) is None
