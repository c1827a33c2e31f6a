"""Discovery: gateway processes of this profile and home, known to the log or not."""

from __future__ import annotations

import json

from hermes_lifecycle.controller.discovery import find_gateway_processes, gateway_scope
from hermes_lifecycle.home import Home
from tests.conftest import run_hermes, start_detached
from tests.gateways import events
from tests.lifecycle.controller.conftest import PLAIN, spawn_plain


def _fake_gateway(home_dir, profile: str):
    """A process whose command line is a gateway's (``python -c CODE cli.main gateway ... run``)."""
    return spawn_plain(PLAIN, "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), "--profile", profile, "run")


def test_status_lists_strays_of_this_profile_and_never_other_profiles(home_dir, reaper):
    started = start_detached(home_dir)
    stray = _fake_gateway(home_dir, "default")
    other = _fake_gateway(home_dir, "other")
    reaper.extend([stray, other])
    found = {p.pid for p in find_gateway_processes(Home.resolve(home_dir))}
    assert found == {started["pid"], stray.pid}
    document = json.loads(run_hermes(home_dir, "status", "--json").stdout)
    assert [s["pid"] for s in document["strays"]] == [stray.pid]
    assert f"stray gateway process: pid {stray.pid}" in run_hermes(home_dir, "status").stdout


def test_stop_all_takes_the_strays_and_leaves_other_profiles_alone(home_dir, reaper):
    start_detached(home_dir)
    stray = _fake_gateway(home_dir, "default")
    other = _fake_gateway(home_dir, "other")
    reaper.extend([stray, other])
    done = run_hermes(home_dir, "stop", "--strays", "--timeout", "5", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [s["pid"] for s in document["strays"]] == [stray.pid]
    assert stray.wait(30) is not None
    assert other.poll() is None, "another profile's gateway was touched"
    exited = events(home_dir, "exited")[-1]
    assert exited.data["stray"]["pid"] == stray.pid and exited.data["result"] == "stopped"


def test_plain_stop_leaves_strays_alone(home_dir, reaper):
    stray = _fake_gateway(home_dir, "default")
    reaper.append(stray)
    assert run_hermes(home_dir, "stop").returncode == 0
    assert stray.poll() is None


def test_gateway_scope_reads_home_and_profile_from_the_command_line(tmp_path):
    line = ["/usr/bin/python3", "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(tmp_path), "--profile", "p1", "run"]
    assert gateway_scope(line) == (tmp_path, "p1")
    assert gateway_scope(["/usr/bin/python3", "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(tmp_path), "stop"]) is None
    assert gateway_scope(["vim", "gateway", "run"]) is None
    env_scope = gateway_scope(["/venv/bin/hermes", "lifecycle", "gateway", "run"], {"HERMES_HOME": str(tmp_path)})
    assert env_scope == (tmp_path, "default")


def test_gateway_scope_reads_a_profile_home_as_hermes_agent_lays_it_out(tmp_path):
    """HERMES_HOME=ROOT/profiles/NAME (hermes-agent's profile) is profile NAME of ROOT, and the
    console script and the plugin spell the same run without the word gateway."""
    profile_home = {"HERMES_HOME": str(tmp_path / "profiles" / "work")}
    assert gateway_scope(["/venv/bin/hermes-lifecycle", "run"], profile_home) == (tmp_path, "work")
    assert gateway_scope(["/venv/bin/hermes", "lifecycle", "--profile", "p2", "run"], profile_home) == (tmp_path, "p2")
    assert gateway_scope(["/venv/bin/hermes-lifecycle", "--home", str(tmp_path / "profiles" / "w2"), "run"]) == \
        (tmp_path, "w2")
    assert gateway_scope(["/venv/bin/hermes-lifecycle", "status"], profile_home) is None
    assert gateway_scope(["/venv/bin/hermes", "chat", "run"], profile_home) is None


def test_a_relative_home_is_read_from_the_gateways_own_directory_not_ours(tmp_path, monkeypatch, reaper):
    """``--home data`` run in another directory is another home, even where ``data`` under
    our directory is ours: ``stop --strays`` must not take it."""
    import subprocess
    import sys

    from tests.conftest import ROOT, hermes_env

    ours, elsewhere = tmp_path / "ours", tmp_path / "elsewhere"
    (ours / "data").mkdir(parents=True)
    (elsewhere / "data").mkdir(parents=True)
    monkeypatch.chdir(ours)
    env = {**hermes_env(), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", PLAIN, "hermes_lifecycle.cli.main", "gateway", "--home", "data", "run"]
    strangers = subprocess.Popen(argv, cwd=elsewhere, env=env, stdout=subprocess.PIPE, text=True)
    mine = subprocess.Popen(argv, cwd=ours, env=env, stdout=subprocess.PIPE, text=True)
    reaper.extend([strangers, mine])
    assert strangers.stdout.readline().strip() == mine.stdout.readline().strip() == "up"
    found = {p.pid for p in find_gateway_processes(Home.resolve(ours / "data"))}
    assert found == {mine.pid}
    assert gateway_scope(["hermes", "gateway", "--home", "data", "run"]) is None  # whose directory? unknown


def test_stop_all_never_signals_a_stray_whose_command_line_changed_since_discovery(journal, reaper):
    """Create time alone is not identity here either: the pid's process must still run the
    gateway command line discovery saw."""
    import psutil

    from hermes_lifecycle.controller.discovery import GatewayProcess
    from hermes_lifecycle.controller.strays import _stop_one
    from hermes_lifecycle.platforms import platform_named

    stranger = spawn_plain(PLAIN)
    reaper.append(stranger)
    seen = GatewayProcess(stranger.pid, psutil.Process(stranger.pid).create_time(),
                          ("hermes", "gateway", "--home", str(journal.home.root), "run"))
    outcome = _stop_one(journal, platform_named("linux"), seen, 2.0)
    assert outcome.result == "stopped" and "already gone" in outcome.message
    assert stranger.poll() is None, "a process that is not the stray was signalled"


def test_stop_all_force_skips_the_strays_drain_wait_too(home_dir, reaper):
    from tests.lifecycle.controller.conftest import STUBBORN

    home_dir.mkdir(parents=True)
    stray = spawn_plain(STUBBORN, "hermes_lifecycle.cli.main", "gateway", "--home", str(home_dir), "--profile", "default", "run")
    reaper.append(stray)
    done = run_hermes(home_dir, "stop", "--strays", "--force", "--timeout", "3", "--json")
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout)["strays"][0]["result"] == "forced"
    exited = events(home_dir, "exited")[-1]
    assert exited.data["steps"][0] == f"SIGTERM to {stray.pid}"  # the tree step first: no polite ask and wait
    assert exited.data["result"] == "forced"


def test_a_profile_or_home_named_run_is_not_taken_for_the_subcommand(tmp_path):
    """`--profile run` is profile "run": read as the subcommand, that gateway passed for the
    default profile's, and `stop --strays` there would have taken it."""
    from hermes_lifecycle.command_line import run_args_of

    line = ["/usr/bin/python3", "-m", "hermes_lifecycle.cli.main", "gateway", "--home", str(tmp_path), "--profile", "run", "run",
            "--port", "1"]
    assert gateway_scope(line) == (tmp_path, "run")
    assert run_args_of(line) == ["--port", "1"]
    named_gateway = ["hermes", "lifecycle", "gateway", "--profile", "gateway", "--home", str(tmp_path), "run"]
    assert gateway_scope(named_gateway) == (tmp_path, "gateway") and run_args_of(named_gateway) == []
    assert gateway_scope(["hermes", "lifecycle", "gateway", "--profile", "run", "status"]) is None


def test_hermes_agents_own_gateway_is_never_one_of_ours(tmp_path):
    """`hermes gateway run` is hermes-agent's gateway (`hermes` is its script): not ours, whatever
    its home; ours are the CLI module's `gateway`, `hermes-lifecycle` and `hermes lifecycle [gateway]`."""
    home = {"HERMES_HOME": str(tmp_path)}
    assert gateway_scope(["/venv/bin/python3", "/venv/bin/hermes", "gateway", "run"], home) is None
    assert gateway_scope(["/venv/bin/hermes", "-p", "work", "gateway", "run"], home) is None
    assert gateway_scope(["/venv/bin/hermes", "gateway", "--home", str(tmp_path), "run"]) is None
    for ours in (["/usr/bin/python3", "-m", "hermes_lifecycle.cli.main", "gateway", "run"],
                 ["/venv/bin/python3", "/venv/bin/hermes-lifecycle", "run"],
                 ["/venv/bin/python3", "/venv/bin/hermes-lifecycle", "gateway", "run"],
                 ["/venv/bin/python3", "/venv/bin/hermes", "lifecycle", "run"],
                 ["/venv/bin/python3", "/venv/bin/hermes", "lifecycle", "gateway", "run"]):
        assert gateway_scope(ours, home) == (tmp_path, "default"), ours
    assert gateway_scope(["/venv/bin/hermes", "lifecycle", "--home", "/elsewhere", "gateway", "--home", str(tmp_path),
                          "--profile", "p1", "run"]) == (tmp_path, "p1")  # the inner group's options win, as in click


def test_stop_all_never_signals_hermes_agents_own_gateway(home_dir, reaper):
    """A real process whose command line is hermes-agent's `hermes gateway run` in this home is
    not a stray of ours: `status` does not list it and `stop --strays` leaves it running, while the
    same process spelled `hermes lifecycle gateway run` is ours and is stopped."""
    import subprocess
    import sys

    from tests.gateways import hermes_env

    def spawn(*words: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", PLAIN, "/venv/bin/hermes", *words], stdout=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, env=hermes_env(HERMES_HOME=str(home_dir)))
        assert proc.stdout.readline().strip() == "up"
        return proc

    theirs = spawn("gateway", "run")
    ours = spawn("lifecycle", "gateway", "run")
    reaper.extend([theirs, ours])
    assert {p.pid for p in find_gateway_processes(Home.resolve(home_dir))} == {ours.pid}
    done = run_hermes(home_dir, "stop", "--strays", "--timeout", "5", "--json")
    assert done.returncode == 0, done.stderr
    assert [s["pid"] for s in json.loads(done.stdout)["strays"]] == [ours.pid]
    assert ours.wait(30) is not None
    assert theirs.poll() is None, "hermes-agent's own gateway was signalled"
