"""The console script's error contract: bad input and unusable homes are one line on stderr, never
a traceback, with exit 2 for usage errors and 1 for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_hermes
from tests.gateways import hermes_env

BAD_USAGE = [
    ("status", "-n", "0"),
    ("status", "--bogus"),
    ("events", "--since", "abc"),
    ("diagram", "--format", "png"),
    ("wait",),
    ("wait", "--state", "bogus"),
    ("start", "--timeout", "-1"),
    ("stop", "--timeout", "soon"),
    ("run", "--port", "99999"),
    ("prune", "--keep-runs", "0"),
    ("timeline", "-n", "0"),
    ("bogus",),
    ("status", "-n"),
    ("status", "--history", "-n", str(2**64)),  # past SQLite's INTEGER: was an OverflowError traceback
    ("events", "--after-seq", str(2**64)),
]


@pytest.mark.parametrize("args", BAD_USAGE, ids=" ".join)
def test_a_usage_error_is_one_line_exit_2_and_touches_no_home(home_dir: Path, args):
    result = run_hermes(home_dir, *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("hermes-lifecycle: ") and result.stderr.count("\n") == 1, result.stderr
    assert "--help" in result.stderr
    assert not home_dir.exists()


@pytest.mark.parametrize("args", [("status", "--history", "--since", "99999999999999999999d"),
                                  ("prune", "--older-than", "99999999999999999999d")], ids=" ".join)
def test_a_duration_past_the_calendar_is_a_usage_error_not_a_traceback(home_dir: Path, args):
    result = run_hermes(home_dir, *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "hermes-lifecycle: invalid duration '99999999999999999999d': at most 36500d (100 years)\n"


def test_a_missing_option_lists_its_choices_on_the_same_line(home_dir: Path):
    result = run_hermes(home_dir, "wait")
    assert result.stderr.startswith("hermes-lifecycle: Missing option '--state'. Choose from: stopped, starting,")
    assert "(see `python -m hermes_lifecycle.cli.main gateway wait --help`)" in result.stderr


@pytest.mark.parametrize(("blocked", "args"), [
    ("locks", ("run",)),
    ("services", ("install", "--no-start", "--no-autostart")),
], ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_a_file_where_the_home_needs_a_folder_is_one_line_not_a_traceback(tmp_path: Path, home_dir: Path,
                                                                          blocked, args):
    home_dir.mkdir()
    (home_dir / blocked).write_text("in the way\n")
    result = run_hermes(home_dir, *args, timeout=120, env=hermes_env(XDG_CONFIG_HOME=str(tmp_path / "config")))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"hermes-lifecycle: cannot use {home_dir / blocked}: ") and result.stderr.count("\n") == 1
    assert (home_dir / blocked).read_text() == "in the way\n"


def test_a_home_that_is_a_file_says_so(tmp_path: Path):
    home = tmp_path / "home"
    home.write_text("a file\n")
    result = run_hermes(home, "status")
    assert result.returncode == 4  # status: cannot tell
    assert result.stderr == f"hermes-lifecycle: cannot use {home} as the Hermes home: it is a file, not a folder; " \
                            "pass --home DIR or set HERMES_HOME to a folder you own\n"


def test_an_os_error_blames_the_home_only_when_a_file_or_the_disk_is_the_cause():
    import errno

    from hermes_lifecycle.cli.main import os_error_line

    full = os_error_line(OSError(errno.ENOSPC, "No space left on device"))
    assert full.startswith("No space left on device; the Hermes home must be")
    refused = os_error_line(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))
    assert refused == "Connection refused"
    blocked = os_error_line(FileExistsError(errno.EEXIST, "File exists", "/h/locks"))
    assert blocked.startswith("cannot use /h/locks: File exists; the Hermes home must be")


def test_an_empty_run_id_is_refused_not_read_as_the_last_run(home_dir: Path):
    result = run_hermes(home_dir, "forensics", "--run", "")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("hermes-lifecycle: --run is empty") and result.stderr.count("\n") == 1
