"""What every platform provides.  Subclasses live in ``posix.py`` and ``windows.py``."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:  # subprocess and friends load only when a command or a spawn needs them
    from typing import Mapping

    from hermes_lifecycle.platforms.changes import ChangeNotifier
    from hermes_lifecycle.platforms.notify import ServiceNotifier
    from hermes_lifecycle.platforms.runner import Runner
    from hermes_lifecycle.platforms.spawner import SpawnedProcess, Spawner


class InstanceLock:
    """An OS lock on a file, held for the life of a gateway process.

    The OS releases it when the process dies however it dies, so a SIGKILLed gateway
    never blocks the next start (a pid file would).
    """

    def __init__(self, path: Path, fd: int, release) -> None:
        self.path = path
        self._fd = fd
        self._release = release

    def release(self) -> None:
        if self._fd >= 0:
            self._release(self._fd)
            os.close(self._fd)
            self._fd = -1


class Platform(ABC):
    """One operating system's way of doing the few things that differ."""

    name: str = "abstract"
    #: Signals the asyncio loop can take handlers for (empty on Windows).
    loop_signals: tuple[str, ...] = ()
    #: Console interrupts only plain signal handlers take (Ctrl+C, Ctrl+Break on Windows).
    console_signals: tuple[str, ...] = ()

    def __init__(self, runner: "Runner | None" = None, spawner: "Spawner | None" = None) -> None:
        self._runner = runner
        self._spawner = spawner

    @property
    def runner(self) -> "Runner":
        """Runs external commands (service managers, taskkill); built on first use, because
        `status` and `stop` of a gateway with no service never run one."""
        if self._runner is None:
            from hermes_lifecycle.platforms.runner import SubprocessRunner

            self._runner = SubprocessRunner()
        return self._runner

    @property
    def spawner(self) -> "Spawner":
        if self._spawner is None:
            from hermes_lifecycle.platforms.spawner import PopenSpawner

            self._spawner = PopenSpawner()
        return self._spawner

    def default_home(self, environ: "Mapping[str, str]") -> Path:
        """The Hermes home when neither ``--home`` nor ``HERMES_HOME`` names one: hermes-agent's
        own default (``hermes_constants.get_hermes_home``), so both programs share it."""
        return Path.home() / ".hermes"

    @abstractmethod
    def try_lock(self, path: Path) -> InstanceLock | None:
        """Take the exclusive lock on ``path`` without waiting; None if another process holds it."""

    @abstractmethod
    def install_console_hygiene(self, stdin_is_tty: bool) -> list[str]:
        """Protect a detached gateway from spurious console signals; return what was done."""

    @abstractmethod
    def spawn_detached(self, hermes_args: list[str], log_path: Path, *,
                       env: dict[str, str] | None = None) -> SpawnedProcess:
        """Start ``python -m cli.main HERMES_ARGS`` so it outlives the calling shell,
        its output going to the sidecar log ``log_path``."""

    @abstractmethod
    def send_stop_signal(self, pid: int) -> str | None:
        """Deliver the platform's polite stop signal; the signal's name, or None where the
        stop request in the log is the only way in (Windows)."""

    @abstractmethod
    def terminate_tree(self, root_pid: int, processes: list, *, whole: bool = True) -> list[str]:
        """First force step on ``processes`` (psutil processes, root first); the commands or
        signals used, for the ``escalated`` event.  ``whole`` is False when part of the
        tree was spared (the caller's ancestry) and must not be reached by a tree-wide command."""

    @abstractmethod
    def kill_tree(self, root_pid: int, processes: list, *, whole: bool = True) -> list[str]:
        """Last force step: end ``processes`` without asking."""

    def own_age(self) -> float | None:
        """Seconds since this process was created, read from a monotonic clock, or None where
        the OS gives no such reading (psutil's create time rounds the boot time to a second,
        too coarse for a deadline counted from when a command was run)."""
        return None

    def process_create_time(self, pid: int) -> float | None:
        """When the live process ``pid`` was created (epoch seconds, psutil's reading), or
        None when it is gone, a zombie or not ours to read.  psutil here; Linux reads
        /proc directly so `status` and `stop` can check a run's identity without psutil."""
        import psutil

        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc.create_time()
        except (psutil.Error, ValueError):  # ValueError: a negative pid
            return None

    #: True where :meth:`sleep_until_exit` returns as soon as the process exits.
    wakes_at_exit: bool = False

    def sleep_until_exit(self, pid: int, seconds: float) -> None:
        """Pause up to ``seconds``, returning early when ``pid`` exits where the OS can tell.
        Here: a plain sleep (the caller polls in short steps)."""
        import time

        time.sleep(seconds)

    def process_command_line(self, pid: int) -> list[str] | None:
        """The argv of ``pid``; None when gone, unreadable or empty (a zombie has none)."""
        import psutil

        try:
            return psutil.Process(pid).cmdline() or None
        except (psutil.Error, ValueError):
            return None

    def process_cwd(self, pid: int) -> str | None:
        """The working directory of ``pid`` (None when gone or not ours to read): discovery
        resolves a gateway's relative ``--home`` against it, not against ours."""
        import psutil

        try:
            return psutil.Process(pid).cwd() or None
        except (psutil.Error, ValueError):
            return None

    def process_environ(self, pid: int) -> dict[str, str]:
        """The environment of ``pid`` (empty when gone or not ours to read), for discovery."""
        import psutil

        try:
            return psutil.Process(pid).environ()
        except (psutil.Error, ValueError):
            return {}

    def process_command_lines(self) -> Iterator[tuple[int, list[str]]]:
        """(pid, argv) of every process we may read, for discovery.  psutil here; Linux
        reads /proc directly so `status` can list strays without importing psutil."""
        import psutil

        for proc in psutil.process_iter(["cmdline"]):
            yield proc.pid, proc.info.get("cmdline") or []

    def install_console_close_handler(self, callback: Callable[[str], None]) -> bool:
        """Call ``callback(event_name)`` when the console closes or the user logs off.

        Only Windows delivers those as console events; elsewhere they arrive as signals
        (SIGHUP/SIGTERM), so the default does nothing and returns False.
        """
        return False

    def service_notifier(self) -> "ServiceNotifier":
        """How the gateway tells the manager that started it (readiness, stopping, watchdog):
        the notify protocol where ``$NOTIFY_SOCKET`` names a socket, a silent no-op elsewhere."""
        from hermes_lifecycle.platforms.notify import ServiceNotifier

        return ServiceNotifier.from_environment()

    #: The longest a commit may go unseen by a :class:`CommitWaiter` when the notifier
    #: stays silent (a filesystem that never notifies): slow, it is only a backstop.
    change_backstop: float = 5.0

    def change_notifier(self, db_path: Path) -> "ChangeNotifier":
        """What a waiter for commits to ``db_path`` sleeps on (see platforms/changes.py).
        Here: no notification, the waiter polls."""
        from hermes_lifecycle.platforms.changes import ChangeNotifier

        return ChangeNotifier()

    def _open_lock_file(self, path: Path) -> int:
        """The instance lock file, owner-only, never opened through a symbolic link."""
        from hermes_lifecycle.store.trust import NOFOLLOW, refuse_link

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        refuse_link(path, "the gateway's instance lock")
        return os.open(path, os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o600)
