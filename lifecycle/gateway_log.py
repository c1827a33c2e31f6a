"""The gateway's own output (``logs/gateway-stdio.log``) and its rotations, for ``logs``.

A rotation is the log's name plus ``.1``, ``.2``, ... (``.1`` the newest), plain or gzipped,
as logrotate and newsyslog leave them.  Reading never writes; following survives the log
being rotated (a new file under the name) or truncated (``copytruncate``).
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from pathlib import Path
from typing import Callable, Iterator

#: How often ``follow`` looks for new output when there was none.
POLL_SECONDS = 0.1


def log_files(current: Path) -> list[Path]:
    """The log and its rotations, oldest first (``name.3``, ``name.2``, ``name.1``, ``name``)."""
    pattern = re.compile(rf"{re.escape(current.name)}\.(\d+)(\.gz)?")
    rotations = []
    if current.parent.is_dir():
        for path in current.parent.iterdir():
            match = pattern.fullmatch(path.name)
            if match:
                rotations.append((int(match.group(1)), path))
    ordered = [path for _, path in sorted(rotations, reverse=True)]
    return ordered + ([current] if current.exists() else [])


def _lines_of(path: Path) -> list[str]:
    if path.suffix == ".gz":
        import gzip

        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.readlines()
    return path.read_bytes().decode("utf-8", errors="replace").splitlines(keepends=True)


def last_lines(current: Path, count: int | None) -> tuple[list[str], int]:
    """The last ``count`` lines of the log and its rotations, oldest first (all when ``count`` is
    None), and how many bytes of ``current`` they cover: where a follower goes on from."""
    kept: deque[str] = deque(maxlen=count)
    offset = 0
    for path in log_files(current):
        try:
            if path == current:
                data = current.read_bytes()
                offset = len(data)
                kept.extend(data.decode("utf-8", errors="replace").splitlines(keepends=True))
            else:
                kept.extend(_lines_of(path))
        except FileNotFoundError:  # rotated away while we read: its lines are in the next file
            continue
    return list(kept), offset


def follow(current: Path, offset: int = 0, *, keep_going: Callable[[], bool] = lambda: True,
           poll_seconds: float = POLL_SECONDS) -> Iterator[str]:
    """Yield what is written to ``current`` past byte ``offset`` (what :func:`last_lines` covered),
    then each new line, across rotation and truncation."""
    handle, identity = None, None
    try:
        while keep_going():
            if handle is None and current.exists():
                handle = open(current, encoding="utf-8", errors="replace")
                identity = os.fstat(handle.fileno()).st_ino
                if offset and os.fstat(handle.fileno()).st_size >= offset:
                    handle.seek(offset)  # what was already shown is not shown again
            line = handle.readline() if handle is not None else ""
            if line:
                yield line
                continue
            if handle is not None and _replaced(current, identity, handle):
                handle.close()
                handle, offset = None, 0  # a new file under the name: all of it is new
                continue
            time.sleep(poll_seconds)
    finally:
        if handle is not None:
            handle.close()


def _replaced(current: Path, identity: int | None, handle) -> bool:
    """The name now points at another file (rotated); a file that shrank under us (truncated
    in place) is read again from its start."""
    try:
        now = current.stat()
    except FileNotFoundError:
        return False  # between the rename and the new file: wait for it
    if now.st_ino != identity:
        return True
    if now.st_size < handle.tell():
        handle.seek(0)
    return False
