"""Opening state.db: migrations once and in order, and files that are not ours left alone."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from hermes_lifecycle.errors import CorruptStore, SchemaTooNew
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.store import latest_version, open_store, schema_version
from hermes_lifecycle.store.connection import unusable
from tests.conftest import run_hermes
from tests.processes import TIMEOUT, race

RACE_ROUNDS = 4
OPENERS = 4


def _open_and_report(path: str, *, gate) -> tuple[str, object]:
    gate.wait(TIMEOUT)
    try:
        conn = open_store(path)
    except Exception as exc:  # the race loser crashing is the bug this test exists for
        return ("error", f"{type(exc).__name__}: {exc}")
    version = schema_version(conn)
    conn.close()
    return ("ok", version)


def test_processes_migrating_one_fresh_home_at_once_all_succeed_and_apply_each_migration_once(tmp_path: Path):
    for round_ in range(RACE_ROUNDS):
        db = tmp_path / f"home{round_}" / "state.db"
        outcomes = race(_open_and_report, [(str(db),)] * OPENERS)
        assert outcomes == [("ok", latest_version())] * OPENERS
        with sqlite3.connect(db) as conn:
            numbers = [r[0] for r in conn.execute("SELECT number FROM lifecycle_schema_migrations ORDER BY number")]
        assert numbers == list(range(1, latest_version() + 1))


def test_reopening_an_up_to_date_store_changes_nothing(tmp_path: Path):
    db = tmp_path / "state.db"
    open_store(db).close()
    with sqlite3.connect(db) as conn:
        first = conn.execute("SELECT * FROM lifecycle_schema_migrations").fetchall()
    for _ in range(2):
        conn = open_store(db)
        assert schema_version(conn) == latest_version()
        conn.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT * FROM lifecycle_schema_migrations").fetchall() == first


def _rollback_journal_db(path: Path, user_version: int, table: str = "future") -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table} (x)")
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.commit()
    conn.close()
    return path.read_bytes()


def test_a_database_from_a_newer_hermes_is_refused_and_left_byte_identical(home_dir: Path):
    db = home_dir / "state.db"
    before = _rollback_journal_db(db, latest_version() + 1)
    with pytest.raises(SchemaTooNew):
        open_store(db)
    result = run_hermes(home_dir, "status")
    assert result.returncode == 4  # status: cannot tell
    assert result.stderr.count("\n") == 1 and "newer than this hermes knows" in result.stderr
    assert "upgrade" in result.stderr and result.stdout == ""
    assert db.read_bytes() == before
    assert sorted(p.name for p in home_dir.iterdir()) == ["state.db"]


def _damaged_pages(db: Path) -> None:
    with Journal(Home.resolve(db.parent)) as journal:
        for n in range(300):
            journal.fire("start", actor="test", run_id=f"r{n}", pid=1, data={"create_time": 1.0, "pad": "x" * 200})
            journal.fire("start_failed", actor="test", reason="y" * 200)
    with open(db, "r+b") as f:
        f.seek(4096 * 3)
        f.write(b"\xa5" * 4096 * 6)


UNUSABLE_FILES = {
    "text": lambda db: db.write_text("hello, I am not a database\n"),
    "random bytes": lambda db: db.write_bytes(os.urandom(8192)),
    "sqlite header then garbage": lambda db: db.write_bytes(b"SQLite format 3\x00" + os.urandom(8176)),
    "damaged pages": _damaged_pages,
}


@pytest.mark.parametrize("command", [("status", "--history"), ("events",)], ids=" ".join)
@pytest.mark.parametrize("kind", UNUSABLE_FILES)
def test_an_unusable_state_db_gives_one_line_and_is_never_overwritten(home_dir: Path, kind: str, command):
    home_dir.mkdir()
    db = home_dir / "state.db"
    UNUSABLE_FILES[kind](db)
    before = db.read_bytes()
    result = run_hermes(home_dir, *command)
    assert result.returncode == (4 if command[0] == "status" else 1), result.stderr  # status: cannot tell
    assert result.stderr.startswith("hermes-lifecycle: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == before


def test_home_is_0700_and_the_database_files_0600_whatever_the_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        with Journal(Home.resolve(tmp_path / "home")) as journal:
            journal.fire("start", actor="test", run_id="r1", pid=1, data={"create_time": 1.0})
            reader = sqlite3.connect(journal.home.state_db)  # holds the -wal/-shm in place
            reader.execute("SELECT count(*) FROM lifecycle_events").fetchone()
            files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in journal.home.root.iterdir()}
            root_mode = stat.S_IMODE(journal.home.root.stat().st_mode)
            reader.close()
    finally:
        os.umask(old)
    assert root_mode == 0o700
    assert files == {"state.db": 0o600, "state.db-wal": 0o600, "state.db-shm": 0o600,
                     "state.db-spool": 0o600, "state.db-writelock": 0o600}


@pytest.mark.parametrize("message", ["attempt to write a readonly database", "unable to open database file"])
def test_a_permission_problem_is_not_called_a_corrupt_database(tmp_path: Path, message: str):
    error = unusable(tmp_path / "state.db", sqlite3.OperationalError(message))
    assert not isinstance(error, CorruptStore)
    assert "write access" in str(error) and "restore a backup" not in str(error)


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_state_db_that_is_not_a_regular_file_is_refused_without_blocking(home_dir: Path, kind: str):
    home_dir.mkdir()
    db = home_dir / "state.db"
    db.mkdir() if kind == "folder" else os.mkfifo(db)  # reading a FIFO's header would wait for a writer
    result = run_hermes(home_dir, "status", timeout=60)
    assert result.returncode == 4  # status: cannot tell
    assert result.stderr == f"hermes-lifecycle: {db} is not a usable Hermes state database (not a regular file); " \
                            "it was left untouched: move it aside or restore a backup\n"
    assert (db.is_dir() if kind == "folder" else stat.S_ISFIFO(db.stat().st_mode))
