"""The spawn seam: how a detached gateway process is created.

Production uses :class:`PopenSpawner`.  Tests build the Windows platform on Linux with a
:class:`RecordingSpawner` and assert on the exact argv, creation flags and stdio of the
call, because Windows process flags cannot be exercised here for real.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, Sequence

#: Windows creation flags, spelled out because ``subprocess`` defines them only on Windows.
DETACHED_PROCESS = 0x00000008
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_BREAKAWAY_FROM_JOB = 0x01000000
CREATE_NO_WINDOW = 0x08000000


class SpawnedProcess(Protocol):
    pid: int

    def poll(self) -> int | None: ...


class Spawner(Protocol):
    def spawn(self, argv: Sequence[str], *, stdin: Any, stdout: Any, stderr: Any,
              start_new_session: bool = False, creationflags: int = 0,
              env: dict[str, str] | None = None, cwd: str | None = None) -> SpawnedProcess: ...


class PopenSpawner:
    """Creates the process with :class:`subprocess.Popen` (never through a shell)."""

    def spawn(self, argv: Sequence[str], *, stdin: Any, stdout: Any, stderr: Any,
              start_new_session: bool = False, creationflags: int = 0,
              env: dict[str, str] | None = None, cwd: str | None = None) -> SpawnedProcess:
        return subprocess.Popen(
            [str(a) for a in argv], stdin=stdin, stdout=stdout, stderr=stderr,
            start_new_session=start_new_session, creationflags=creationflags,
            env=env, cwd=cwd, close_fds=True,
        )


@dataclass
class RecordedSpawn:
    """A spawn that was asked for and never happened (tests only)."""

    pid: int
    argv: tuple[str, ...]
    stdin: Any
    stdout: Any
    stderr: Any
    start_new_session: bool
    creationflags: int
    env: dict[str, str] | None
    cwd: str | None

    def poll(self) -> int | None:
        return None


@dataclass
class RecordingSpawner:
    """Records every spawn and starts nothing (tests only)."""

    calls: list[RecordedSpawn] = field(default_factory=list)
    next_pid: int = 40000

    def spawn(self, argv: Sequence[str], *, stdin: Any, stdout: Any, stderr: Any,
              start_new_session: bool = False, creationflags: int = 0,
              env: dict[str, str] | None = None, cwd: str | None = None) -> SpawnedProcess:
        record = RecordedSpawn(
            self.next_pid + len(self.calls), tuple(str(a) for a in argv), _describe(stdin),
            _describe(stdout), _describe(stderr), start_new_session, creationflags, env, cwd,
        )
        self.calls.append(record)
        return record


def _describe(stream: Any) -> Any:
    """Files are recorded by name so a test can say where stdio went."""
    if stream == subprocess.DEVNULL:
        return "DEVNULL"
    if stream == subprocess.STDOUT:
        return "STDOUT"
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else stream


def open_log(path: "str | os.PathLike[str]") -> IO[bytes]:
    """The sidecar log, opened for appending (shared by every run of the profile).

    It may hold chat text: created owner-only (0600), an older one tightened (it is ours),
    never written through a symbolic link, and a FIFO or device in its place is refused."""
    import stat

    from hermes_lifecycle.errors import UntrustedPath
    from hermes_lifecycle.store.trust import NOFOLLOW, refuse_link

    refuse_link(Path(path), "the gateway's output log")

    def opener(name: str, flags: int) -> int:
        try:
            fd = os.open(name, flags | NOFOLLOW | getattr(os, "O_NONBLOCK", 0), 0o600)
        except OSError as exc:
            raise UntrustedPath(f"cannot open the gateway's output log {name}: {exc.strerror}; "
                                "it must be a plain file (not a link, FIFO or device)") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise UntrustedPath(f"the gateway's output log {name} is not a plain file; remove it")
        if hasattr(os, "fchmod") and stat.S_IMODE(info.st_mode) & 0o077:
            try:
                os.fchmod(fd, 0o600)
            except OSError:
                pass  # not ours to change: it is still appended to, as before
        return fd

    return open(path, "ab", buffering=0, opener=opener)  # handed to the child; the caller closes its copy
