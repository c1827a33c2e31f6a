"""Where the home is (--home > HERMES_HOME > user data dir) and which profile names are refused."""

from __future__ import annotations

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


def test_hermes_home_wins_over_the_user_data_dir(places):
    result = _hermes("status", env=_env(places, with_hermes_home=True))
    assert result.returncode == 3, result.stderr  # not running
    assert _homes_with_a_store(places) == ["env"]
    assert (places["env"] / "state.db").is_file()


def test_without_flag_or_variable_the_platform_user_data_dir_is_used(places):
    result = _hermes("status", env=_env(places, with_hermes_home=False))
    assert result.returncode == 3, result.stderr  # not running
    assert (places["xdg"] / "hermes" / "state.db").is_file()
    assert _homes_with_a_store(places) == ["xdg"]


BAD_NAMES = ["", "Default", "../etc", "a/b", "-dash-first", "_under", "x" * 65, "sp ace", "é", "a.b", "nul\x01"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_an_invalid_profile_name_exits_2_before_any_path_exists(places, name):
    home = places["flag"]
    result = _hermes("--home", str(home), "--profile", name, "status", env=_env(places, with_hermes_home=True))
    assert result.returncode == 2
    assert result.stderr.startswith("hermes: invalid profile name") and result.stderr.count("\n") == 1
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
    assert result.stderr.startswith("hermes: cannot use ") and result.stderr.count("\n") == 1
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
    assert result.stderr.startswith("hermes: --home is empty") and result.stderr.count("\n") == 1
    assert not any(p.exists() for p in places.values())


def test_a_file_in_the_way_of_a_home_folder_is_named_as_such(tmp_path: Path):
    from hermes_lifecycle.errors import HermesError
    from hermes_lifecycle.home import Home

    home = Home.resolve(tmp_path / "home")
    home.ensure_private_dir()
    home.logs_dir.write_text("in the way\n")
    with pytest.raises(HermesError, match=r"logs as a folder of the Hermes home: it is a file, not a folder"):
        home.ensure_private_dir(home.logs_dir)
