"""Files that are not what they seem: links, another user's home, files others may write.

Real homes, real links, real modes and owners, the real `hermes` command."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from tests.conftest import run_hermes, start_detached
from tests.gateways import events


def _one_line_refusal(done, *words: str, code: int = 1) -> None:
    assert done.returncode == code, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("hermes-lifecycle: "), done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def _other_home(tmp_path: Path) -> tuple[Path, int]:
    other = tmp_path / "other"
    with Journal(Home.resolve(other)) as journal:
        journal.fire("start", actor="test", run_id="r-other", pid=1, data={"create_time": 1.0})
        journal.fire("start_failed", actor="test", reason="only here to be counted")
    return other, len(events(other))


def _start_refused(home_dir: Path, *words: str) -> None:
    done = run_hermes(home_dir, "start", "--json")
    try:
        _one_line_refusal(done, *words)
    finally:
        if done.returncode == 0:  # it started before the fix: do not leave it running
            run_hermes(home_dir, "stop", "--force")


def test_a_state_db_linked_to_another_homes_is_refused_and_the_other_untouched(tmp_path: Path) -> None:
    other, count = _other_home(tmp_path)
    home_dir = tmp_path / "home"
    home_dir.mkdir(mode=0o700)
    (home_dir / "state.db").symlink_to(other / "state.db")
    _start_refused(home_dir, "state.db", "symbolic link")
    assert len(events(other)) == count


def test_a_wal_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    with Journal(Home.resolve(home_dir)) as journal:
        journal.state()
    target = tmp_path / "elsewhere-wal"
    target.write_bytes(b"")
    wal = home_dir / "state.db-wal"
    wal.unlink(missing_ok=True)
    wal.symlink_to(target)
    # status cannot tell the state (LSB 4), never 1, which would say crashed
    _one_line_refusal(run_hermes(home_dir, "status"), "state.db-wal", "symbolic link", code=4)
    assert target.read_bytes() == b""


def test_the_output_log_is_never_appended_through_a_link(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    (home_dir / "logs").mkdir(parents=True, mode=0o700)
    home_dir.chmod(0o700)
    target = tmp_path / "someone-elses.log"
    target.write_text("theirs\n")
    (home_dir / "logs" / "gateway-stdio.log").symlink_to(target)
    _start_refused(home_dir, "gateway-stdio.log", "link")
    assert target.read_text() == "theirs\n"


def test_the_instance_lock_is_never_opened_through_a_link(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    (home_dir / "locks").mkdir(parents=True, mode=0o700)
    home_dir.chmod(0o700)
    target = tmp_path / "someone-elses-file"
    target.write_text("theirs\n")
    (home_dir / "locks" / "default.lock").symlink_to(target)
    done = run_hermes(home_dir, "run")
    _one_line_refusal(done, "default.lock", "symbolic link")
    assert target.read_text() == "theirs\n"


def test_the_output_log_is_created_owner_only(home_dir: Path) -> None:
    os.umask(old := os.umask(0o022))
    start_detached(home_dir)
    try:
        log = home_dir / "logs" / "gateway-stdio.log"
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
    finally:
        assert run_hermes(home_dir, "stop").returncode == 0


@pytest.mark.parametrize("mode", [0o775, 0o757])
def test_a_home_writable_by_group_or_others_is_refused_not_chmodded(tmp_path: Path, mode: int) -> None:
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    home_dir.chmod(mode)
    _one_line_refusal(run_hermes(home_dir, "status"), "writable by group or others", "chmod go-w", code=4)
    assert stat.S_IMODE(home_dir.stat().st_mode) == mode
    assert list(home_dir.iterdir()) == []


def test_a_state_db_writable_by_others_is_refused_not_chmodded(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    with Journal(Home.resolve(home_dir)) as journal:
        journal.state()
    (home_dir / "state.db").chmod(0o666)
    _one_line_refusal(run_hermes(home_dir, "status"), "state.db", "writable by group or others", code=4)
    assert stat.S_IMODE((home_dir / "state.db").stat().st_mode) == 0o666


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a home to another user for this test")
def test_root_on_a_home_owned_by_another_user_refuses_and_creates_nothing(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    home_dir.mkdir(mode=0o700)
    os.chown(home_dir, 65534, 65534)
    tmp_path.chmod(0o755)  # so that the owner could reach it
    _start_refused(home_dir, "owned by uid 65534", "run hermes as its owner")
    assert list(home_dir.iterdir()) == []
