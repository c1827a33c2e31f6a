"""Opening ``state.db``: owner-only files, WAL, a busy timeout, and no surprises.

Connections run in autocommit mode (``isolation_level=None``) so that every write
is an explicit ``BEGIN IMMEDIATE`` transaction (see :func:`hermes_lifecycle.store.events.write_transaction`):
in WAL a deferred transaction that reads and then writes fails with SQLITE_BUSY at
once, whatever the busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from stat import S_ISREG

from hermes_lifecycle.store.errors import CorruptStore, StoreError

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000

#: ``durable`` (the default) is synchronous=FULL: a committed event survives power loss.
#: Lifecycle events are a handful per run, so durability costs nothing users can see.
#: ``fast`` is synchronous=NORMAL: still never corrupt in WAL, may lose the last commits
#: on power loss; benchmarks and bulk tools may choose it.
SYNC_MODES = {"durable": "FULL", "fast": "NORMAL"}


def is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY/SQLITE_LOCKED: another process holds the file, nothing is wrong with it."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def is_denied(exc: sqlite3.Error) -> bool:
    """SQLITE_READONLY/SQLITE_CANTOPEN: permissions (of the file, its -wal/-shm, or the folder)."""
    text = str(exc)
    return "readonly database" in text or "unable to open database file" in text


def unusable(path: Path | str, exc: sqlite3.Error) -> StoreError:
    """The error to raise for a failure while opening: busy or denied is not corrupt."""
    if is_busy(exc):
        return StoreError(f"{path} stayed locked by another process for {BUSY_TIMEOUT_MS // 1000} s; "
                          "nothing was changed: retry, or look for a stuck hermes process")
    if is_denied(exc):
        return StoreError(f"cannot open {path} for writing ({exc}): this user needs write access to it "
                          "and to its folder (SQLite keeps -wal and -shm files beside it); nothing was changed")
    return CorruptStore(path, str(exc))


#: (device, inode) of database files whose header this process has already read.
_HEADER_CHECKED: set[tuple[int, int]] = set()


def _check_header(path: Path) -> None:
    """Refuse a file that is not SQLite, reading its header at most once per process.

    Closing *any* descriptor of a file drops *all* of this process's POSIX (fcntl)
    locks on it, including those of SQLite connections already open: another process
    then believes it closed the last connection and deletes the WAL under us, losing
    committed writes.  So a file this process has checked is never opened again here.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CorruptStore(path, f"cannot read it: {exc.strerror}") from None
    if (stat.st_dev, stat.st_ino) in _HEADER_CHECKED:
        return
    if not S_ISREG(stat.st_mode):  # a folder, or a FIFO that would block the read below for ever
        raise CorruptStore(path, "not a regular file")
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CorruptStore(path, f"cannot read it: {exc.strerror}") from None
    if head and head != SQLITE_HEADER:
        raise CorruptStore(path, "not an SQLite database")


def _create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite does (SQLite uses the umask).

    SQLite gives the -wal and -shm files the same permissions as the database file.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def connect(path: Path, *, sync: str = "durable", create: bool = True) -> sqlite3.Connection:
    """Open (creating if asked) the database at ``path`` with our per-connection pragmas.

    Nothing is written to an existing file here: see :func:`ensure_wal` and
    :func:`hermes_lifecycle.store.migrate.migrate`.
    """
    path = Path(path)
    from hermes_lifecycle.store.trust import check_database_files

    check_database_files(path)
    _check_header(path)
    if not path.exists():
        if not create:
            raise FileNotFoundError(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _create_private_file(path)
    try:
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA synchronous = {SYNC_MODES[sync]}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise unusable(path, exc) from None
    stat = path.stat()
    _HEADER_CHECKED.add((stat.st_dev, stat.st_ino))
    return conn


def ensure_wal(conn: sqlite3.Connection, path: Path) -> None:
    """Switch the file to WAL (persistent, so usually a no-op read).

    Kept out of :func:`connect` because switching rewrites the file header: it must
    only happen once the schema version is known to be ours, so that a database
    from a newer hermes is left byte-identical.  The switch needs an exclusive lock and
    SQLite answers SQLITE_BUSY at once, without the busy handler, when another process
    opening a fresh home holds the file: so it is retried up to the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.DatabaseError as exc:
            if not is_busy(exc) or time.monotonic() > deadline:
                raise unusable(path, exc) from None
            time.sleep(0.005)
