"""Where the home is (--home > HERMES_HOME > ~/.hermes, as hermes-agent resolves it), where a
profile's home is (HOME/profiles/NAME, as hermes-agent lays it out), and which profile names are
refused."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, hermes_env


def _hermes(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hermes_lifecycle.cli.main", "gateway", *args], capture_output=True,
                          text=True, timeout=60, env=env, cwd=ROOT)


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    return {name: tmp_path / name for name in ("flag", "env", "xdg", "user")}


def _env(places: dict[str, Path], *, with_hermes_home: bool) -> dict[str, str]:
    extra = {"XDG_DATA_HOME": str(places["xdg"]), "HOME": str(places["user"])}
    if with_hermes_home:
        extra["HERMES_HOME"] = str(places["env"])
    return hermes_env(**extra)


def _homes_with_a_store(places: dict[str, Path]) -> list[str]:
    return sorted(name for name, root in places.items() if list(root.rglob("state.db")))


def test_home_flag_wins_over_hermes_home(places):
    result = _hermes("--home", str(places["flag"]), "status", env=_env(places, with_hermes_home=True))
    assert result.returncode == 3, result.stderr  # not running
    assert _homes_with_a_store(places) == ["flag"]


def test_hermes_home_wins_over_the_default_home(places):
    result = _hermes("status", env=_env(places, with_hermes_home=True))
    assert result.returncode == 3, result.stderr  # not running
    assert _homes_with_a_store(places) == ["env"]
    assert (places["env"] / "state.db").is_file()


def test_without_flag_or_variable_the_home_is_hermes_agents_default_dot_hermes(places):
    result = _hermes("status", env=_env(places, with_hermes_home=False))
    assert result.returncode == 3, result.stderr  # not running
    assert (places["user"] / ".hermes" / "state.db").is_file()
    assert _homes_with_a_store(places) == ["user"]


def test_a_blank_hermes_home_is_unset_as_hermes_agent_reads_it(places):
    env = _env(places, with_hermes_home=False)
    env["HERMES_HOME"] = "  "
    result = _hermes("status", env=env)
    assert result.returncode == 3, result.stderr  # not running
    assert (places["user"] / ".hermes" / "state.db").is_file()


def test_a_profile_is_its_own_home_under_profiles_and_default_is_the_root(places):
    env = _env(places, with_hermes_home=True)
    for profile in ("default", "work"):
        assert _hermes("--profile", profile, "status", env=env).returncode == 3
    assert sorted(str(p.relative_to(places["env"])) for p in places["env"].rglob("state.db")) == \
        ["profiles/work/state.db", "state.db"]
    with sqlite3.connect(places["env"] / "profiles" / "work" / "state.db") as conn:
        assert conn.execute("SELECT count(*) FROM lifecycle_events").fetchone()[0] == 0


def test_a_home_under_profiles_is_that_profile_and_its_events_say_so(places):
    """hermes-agent runs a profile with HERMES_HOME=ROOT/profiles/NAME: the same home and the
    same profile for us as `--home ROOT --profile NAME`."""
    env = _env(places, with_hermes_home=False)
    root = places["env"]
    env["HERMES_HOME"] = str(root / "profiles" / "work")
    by_env = _hermes("status", "--json", env=env)
    by_flag = _hermes("--home", str(root), "--profile", "work", "status", "--json",
                      env=_env(places, with_hermes_home=False))
    assert by_env.returncode == by_flag.returncode == 3, by_env.stderr + by_flag.stderr
    assert json.loads(by_env.stdout)["profile"] == json.loads(by_flag.stdout)["profile"] == "work"
    assert [p.relative_to(root) for p in root.rglob("state.db")] == [Path("profiles/work/state.db")]


BAD_NAMES = ["", "Default", "../etc", "a/b", "-dash-first", "_under", "x" * 65, "sp ace", "é", "a.b", "nul\x01"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_an_invalid_profile_name_exits_2_before_any_path_exists(places, name):
    home = places["flag"]
    result = _hermes("--home", str(home), "--profile", name, "status", env=_env(places, with_hermes_home=True))
    assert result.returncode == 2
    assert result.stderr.startswith("hermes-lifecycle: invalid profile name") and result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert not any(p.exists() for p in places.values())


def test_an_invalid_profile_from_the_environment_is_refused_too(places):
    env = _env(places, with_hermes_home=True)
    env["HERMES_PROFILE"] = "../../x"
    result = _hermes("status", env=env)
    assert result.returncode == 2 and "invalid profile name" in result.stderr
    assert not places["env"].exists()


def test_the_longest_legal_profile_name_is_accepted(places):
    result = _hermes("--home", str(places["flag"]), "--profile", "a" + "-_0" * 21, "status",
                     env=_env(places, with_hermes_home=False))
    assert result.returncode == 3, result.stderr  # not running


def test_a_home_that_cannot_be_created_is_one_line_and_status_cannot_tell(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    result = _hermes("--home", str(blocker / "home"), "status", env=hermes_env())
    assert result.returncode == 4
    assert result.stderr.startswith("hermes-lifecycle: cannot use ") and result.stderr.count("\n") == 1
    assert blocker.read_text() == "not a folder\n"


def test_an_open_home_is_tightened_to_owner_only(tmp_path: Path):
    from hermes_lifecycle.home import Home

    root = tmp_path / "home"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    Home.resolve(root).ensure_private_dir()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


def test_a_home_its_owner_made_read_only_is_never_made_writable(tmp_path: Path):
    from hermes_lifecycle.home import Home

    root = tmp_path / "home"
    root.mkdir()
    root.chmod(0o555)
    try:
        Home.resolve(root).ensure_private_dir()
        assert stat.S_IMODE(root.stat().st_mode) == 0o500
    finally:
        root.chmod(0o700)


@pytest.mark.parametrize("empty", ["", "  "], ids=repr)
def test_an_empty_home_flag_is_refused_not_taken_as_the_default_home(places, empty):
    result = _hermes("--home", empty, "status", env=_env(places, with_hermes_home=True))
    assert result.returncode == 2
    assert result.stderr.startswith("hermes-lifecycle: --home is empty") and result.stderr.count("\n") == 1
    assert not any(p.exists() for p in places.values())


def test_a_file_in_the_way_of_a_home_folder_is_named_as_such(tmp_path: Path):
    from hermes_lifecycle.errors import HermesError
    from hermes_lifecycle.home import Home

    home = Home.resolve(tmp_path / "home")
    home.ensure_private_dir()
    home.logs_dir.write_text("in the way\n")
    with pytest.raises(HermesError, match=r"logs as a folder of the Hermes home: it is a file, not a folder"):
        home.ensure_private_dir(home.logs_dir)


def test_the_windows_default_home_is_local_app_data_hermes_as_hermes_agent_has_it():
    from hermes_lifecycle.platforms import platform_named

    windows = platform_named("windows")
    assert windows.default_home({"LOCALAPPDATA": "C:/Users/ada/AppData/Local"}) == \
        Path("C:/Users/ada/AppData/Local/hermes")
    assert windows.default_home({"LOCALAPPDATA": " "}) == Path.home() / "AppData" / "Local" / "hermes"
    assert platform_named("linux").default_home({}) == Path.home() / ".hermes"


def test_profiles_are_the_root_and_every_profile_home_holding_a_state_db(tmp_path: Path):
    """`status --all` and `stop --all` ask Home.profiles(): with hermes-agent's layout a profile is
    a home, so the listing reads folders (and peeks read-only), never one database's streams."""
    from hermes_lifecycle.home import Home
    from hermes_lifecycle.journal import Journal

    root = tmp_path / "root"
    assert [h.profile for h in Home.resolve(root).profiles()] == ["default"]  # the profile in use
    assert Home.resolve(root).profiles(with_self=False) == [] and not root.exists()  # nothing created
    for name in ("web", "default", "zz-bot"):
        with Journal(Home.resolve(root, name)) as journal:
            journal.state()  # opens (creates) the profile's state.db
    (root / "profiles" / "empty").mkdir()  # no state.db: not a profile of ours
    listed = Home.resolve(root / "profiles" / "web").profiles()
    assert [(h.profile, h.dir) for h in listed] == [("default", root), ("web", root / "profiles" / "web"),
                                                    ("zz-bot", root / "profiles" / "zz-bot")]
    # a root state.db from before profiles were homes still holds another profile's stream
    with sqlite3.connect(root / "state.db") as conn:
        conn.execute("INSERT INTO lifecycle_streams (stream, state, version, last_seq, since) "
                     "VALUES ('old', 'stopped', 0, 0, '2026-01-01T00:00:00Z')")
    assert [h.profile for h in Home.resolve(root).profiles(with_self=False)] == ["default", "old", "web", "zz-bot"]
    assert sorted(str(p.relative_to(root)) for p in root.rglob("state.db")) == \
        ["profiles/web/state.db", "profiles/zz-bot/state.db", "state.db"]
