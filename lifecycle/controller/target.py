"""The recorded run as a process we may act on, checked before every signal.

A pid alone proves nothing: pids are reused.  A process is the gateway of the recorded
run only if its create time matches and, when the run recorded its command line, that
matches too.  Anything else is a stranger that must never be signalled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hermes_lifecycle.command_line import run_args_of
from hermes_lifecycle.identity import ProcessIdentity, same_process
from hermes_lifecycle.platforms import Platform
from hermes_lifecycle.projection import StreamState


@dataclass(frozen=True)
class Target:
    """The process of the stream's current run, as the log recorded it."""

    run_id: str | None
    pid: int
    create_time: float | None
    cmdline: tuple[str, ...] | None
    state: str

    @classmethod
    def of(cls, current: StreamState) -> "Target | None":
        if current.pid is None:
            return None
        cmdline = current.data.get("cmdline")
        return cls(current.run_id, current.pid, current.create_time,
                   tuple(cmdline) if isinstance(cmdline, list) and cmdline else None, current.state)

    @property
    def identity(self) -> ProcessIdentity:
        return ProcessIdentity(self.pid, self.create_time or 0.0)

    def running(self, platform: Platform) -> bool:
        """True while this run's process lives: same pid, create time and command line.

        Asked through the platform (Linux reads /proc), so the polite stop of a gateway
        never imports psutil; escalation takes the psutil process from :meth:`process`."""
        created = platform.process_create_time(self.pid)
        if created is None:
            return False
        cmdline = platform.process_command_line(self.pid)
        return self.matches(created, tuple(cmdline) if cmdline else None)

    def process(self) -> Any:
        """The live psutil process if it is still this run's gateway, else None."""
        import psutil

        try:
            proc = psutil.Process(self.pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            if not self.matches(proc.create_time(), _cmdline(proc)):
                return None
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return proc

    def matches(self, create_time: float, cmdline: tuple[str, ...] | None) -> bool:
        """The one identity rule (:func:`hermes_lifecycle.identity.same_process`); a run that
        recorded no create time matches nothing: it is never signalled."""
        return self.create_time is not None and same_process(self.create_time, self.cmdline, create_time, cmdline)

    @property
    def run_args(self) -> list[str]:
        return run_args_of(self.cmdline)

    @property
    def drain_timeout_option(self) -> float | None:
        """The run's own ``--drain-timeout``, if its command line gave one."""
        from hermes_lifecycle.run_facts import drain_timeout_option

        return drain_timeout_option(self.cmdline)


def _cmdline(proc: Any) -> tuple[str, ...] | None:
    import psutil

    try:
        line = proc.cmdline()
    except (psutil.AccessDenied, psutil.ZombieProcess):
        return None
    return tuple(line) if line else None
