"""The runner seam: every external command goes through here, with hard limits.

Production uses :class:`SubprocessRunner`.  Tests use :class:`RecordingRunner`, which
records the exact argv of every call and answers from a script, so the Windows and
macOS service paths are tested on Linux by their command lines.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

DEFAULT_TIMEOUT = 30.0
DEFAULT_IDLE_TIMEOUT = 15.0


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False   # the hard timeout passed
    went_silent: bool = False  # no output for idle_timeout seconds

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.went_silent


class Runner(Protocol):
    def run(self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT,
            idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT, cwd: str | None = None) -> CommandResult: ...


class SubprocessRunner:
    """Runs argv (never through a shell), killing it at ``timeout`` or after ``idle_timeout``
    seconds with no output."""

    def run(self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT,
            idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT, cwd: str | None = None) -> CommandResult:
        argv = tuple(str(a) for a in argv)
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=cwd)
        except OSError as exc:
            return CommandResult(argv, None, "", f"{argv[0]}: {exc.strerror or exc}")
        chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        last_output = [time.monotonic()]

        def pump(name: str, stream) -> None:
            for chunk in iter(lambda: stream.read1(4096), b""):
                chunks[name].append(chunk)
                last_output[0] = time.monotonic()

        pumps = [threading.Thread(target=pump, args=(n, s), daemon=True)
                 for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
        for t in pumps:
            t.start()
        started = time.monotonic()
        timed_out = went_silent = False
        while proc.poll() is None:
            now = time.monotonic()
            if now - started > timeout:
                timed_out = True
            elif idle_timeout is not None and now - last_output[0] > idle_timeout:
                went_silent = True
            if timed_out or went_silent:
                proc.kill()
                break
            time.sleep(0.01)
        proc.wait()
        for t in pumps:
            t.join(timeout=1)
        return CommandResult(
            argv, None if (timed_out or went_silent) else proc.returncode,
            b"".join(chunks["stdout"]).decode("utf-8", "replace"),
            b"".join(chunks["stderr"]).decode("utf-8", "replace"),
            timed_out, went_silent,
        )


Responder = Callable[[tuple[str, ...]], CommandResult]


@dataclass
class RecordingRunner:
    """A runner that records argv and answers with scripted results (tests only).

    ``responses`` maps an argv prefix (tuple) to a result or a function of the argv;
    the longest matching prefix wins; anything else succeeds with no output.
    """

    responses: dict[tuple[str, ...], CommandResult | Responder] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    #: The folder each call ran in (None: the caller's), parallel to ``calls``.
    cwds: list[str | None] = field(default_factory=list)

    def run(self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT,
            idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT, cwd: str | None = None) -> CommandResult:
        argv = tuple(str(a) for a in argv)
        self.calls.append(argv)
        self.cwds.append(cwd)
        best: tuple[str, ...] | None = None
        for prefix in self.responses:
            if argv[: len(prefix)] == prefix and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is None:
            return CommandResult(argv, 0)
        answer = self.responses[best]
        return answer(argv) if callable(answer) else CommandResult(argv, *_fields(answer))


def _fields(result: CommandResult) -> tuple:
    return (result.returncode, result.stdout, result.stderr, result.timed_out, result.went_silent)
