"""The spool: where an event waits, durably, while ``state.db`` cannot take it.

A full disk or another process holding the database must not turn "stop" into "the
gateway keeps running", nor lose what happened meanwhile.  So each home has one spool
file beside its database, **created at full size when the home is first opened** (a full
disk accepts no new file and no new block, but a block that already exists can be
rewritten).  It is owner-only, opened without following symlinks, and every record is
written with ``pwrite`` and ``fsync`` before the writer goes on.

Layout: a header (magic, generation, how many records already reached the log), then
records, each ``length, crc32, generation`` and a JSON body.  A reader stops at the first
record whose length, checksum or generation is wrong, so a torn write or a record of an
earlier generation is never read.  Emptying the spool after its records reached the log
only bumps the generation: one small rewrite.

Beside it, ``state.db-writelock`` is the home's write lock (:mod:`.filelock`): every
writer takes it before ``BEGIN IMMEDIATE``, so writers queue in the kernel instead of
SQLite's sleeping busy handler, and "replay the spool, then append" is one step no
other writer can split.  Short operations on the spool itself hold an ``flock`` on it.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

from hermes_lifecycle.store.errors import StoreError
from hermes_lifecycle.store.filelock import BINARY, NOFOLLOW, FileLock, LockTimeout, open_nofollow

__all__ = ["LockTimeout", "Spool", "SpoolFull", "spool_path"]

MAGIC = b"HRMSPOOL"
HEADER = struct.Struct("<8sQQ")  # magic, generation, records of it already in the log
RECORD = struct.Struct("<IIQ")  # body length, crc32 of the body, generation
DATA_START = 4096
#: Room for a few hundred events: a stop under a full disk needs about ten.
SIZE = 512 * 1024
def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows has no pread; the lock serialises the seek
    return os.read(fd, size)


def _pwrite(fd: int, data: bytes, offset: int) -> None:
    if hasattr(os, "pwrite"):
        os.pwrite(fd, data, offset)
        return
    os.lseek(fd, offset, os.SEEK_SET)
    os.write(fd, data)




class SpoolFull(StoreError):
    """The spool has no room for one more record: the write fails as it would have without it."""


def spool_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + "-spool")


def _create(path: Path) -> None:
    """Write the whole file under a temporary name, fsync it, then rename it into place, so a
    spool that exists is always full-sized (never half-created by a disk that filled)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | NOFOLLOW | BINARY, 0o600)
    try:
        os.write(fd, HEADER.pack(MAGIC, 1, 0).ljust(DATA_START, b"\0"))
        zeros = b"\0" * 65536
        for _ in range((SIZE - DATA_START) // len(zeros) + 1):
            os.write(fd, zeros)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        os.link(tmp, path)  # never replaces a spool another process created meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; its rename is durable by itself
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Spool:
    """One home's spool file and write lock, open for the life of a Journal's connection."""

    def __init__(self, fd: int, path: Path, lock_fd: int, lock_path: Path) -> None:
        self.fd = fd
        self.path = path
        self.lock_fd = lock_fd
        self.spool_lock = FileLock(fd, path)
        self.write_lock = FileLock(lock_fd, lock_path)

    @classmethod
    def open(cls, db_path: Path) -> "Spool":
        """Open (creating at full size if missing) the spool of the database at ``db_path``, and
        its write lock file.  Raises OSError when they cannot be created (the disk is already
        full, a read-only home) or are not plain files of ours (a symlink: ``O_NOFOLLOW``)."""
        path = spool_path(db_path)
        try:
            fd = open_nofollow(path, os.O_RDWR)
        except FileNotFoundError:
            _create(path)
            fd = open_nofollow(path, os.O_RDWR)
        try:
            if os.fstat(fd).st_size < SIZE:
                raise OSError(f"{path} is shorter than a spool ({SIZE} bytes)")
            lock_path = db_path.with_name(db_path.name + "-writelock")
            lock_fd = open_nofollow(lock_path, os.O_RDWR | os.O_CREAT)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path, lock_fd, lock_path)

    def close(self) -> None:
        for fd in (self.fd, self.lock_fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self.lock_fd = -1

    def _header(self) -> tuple[int, int]:
        magic, generation, consumed = HEADER.unpack(_pread(self.fd, HEADER.size, 0))
        if magic != MAGIC:
            raise StoreError(f"{self.path} is not a Hermes spool; move it away (nothing in it is readable)")
        return generation, consumed

    def _scan(self) -> tuple[list[dict[str, Any]], int]:
        """The records of the current generation, and the offset after the last one."""
        generation, _ = self._header()
        records, offset = [], DATA_START
        while offset + RECORD.size <= SIZE:
            length, crc, gen = RECORD.unpack(_pread(self.fd, RECORD.size, offset))
            if length == 0 or gen != generation or offset + RECORD.size + length > SIZE:
                break
            body = _pread(self.fd, length, offset + RECORD.size)
            if zlib.crc32(body) != crc:
                break
            records.append(json.loads(body))
            offset += RECORD.size + length
        return records, offset

    def fingerprint(self) -> tuple[int, int, int, int]:
        """A cheap change detector for watchers (two small reads and an fstat, no lock); its
        third item is 0 when the spool holds no record."""
        generation, consumed = self._header()
        length, crc, gen = RECORD.unpack(_pread(self.fd, RECORD.size, DATA_START))
        return (generation, consumed, crc if gen == generation and length else 0, os.fstat(self.fd).st_mtime_ns)

    def pending(self) -> tuple[list[dict[str, Any]], int]:
        """The records not yet in the log, and how many before them already are."""
        if self.fingerprint()[2] == 0:
            return [], 0
        with self.spool_lock.held(5.0, "the spool"):
            records, _ = self._scan()
            _, consumed = self._header()
        return records[consumed:], consumed

    def add(self, record: dict[str, Any]) -> None:
        """Append one record durably (``fsync`` before returning); :class:`SpoolFull` if no room."""
        body = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        with self.spool_lock.held(5.0, "the spool"):
            generation, _ = self._header()
            _, offset = self._scan()
            end = offset + RECORD.size + len(body)
            if end > SIZE:
                raise SpoolFull(f"the spool {self.path} is full ({SIZE // 1024} KiB); nothing more can be "
                                "kept until state.db is writable again")
            if end + RECORD.size <= SIZE:  # the terminator first, then the record before it
                _pwrite(self.fd, RECORD.pack(0, 0, 0), end)
            _pwrite(self.fd, RECORD.pack(len(body), zlib.crc32(body), generation) + body, offset)
            os.fsync(self.fd)

    def consumed(self, count: int) -> None:
        """The first ``count`` records are in the log now; when that is all of them, start a new
        generation (the file is reused from its start)."""
        with self.spool_lock.held(5.0, "the spool"):
            generation, _ = self._header()
            records, _ = self._scan()
            if count >= len(records):
                _pwrite(self.fd, HEADER.pack(MAGIC, generation + 1, 0), 0)
            else:
                _pwrite(self.fd, HEADER.pack(MAGIC, generation, count), 0)
            os.fsync(self.fd)
