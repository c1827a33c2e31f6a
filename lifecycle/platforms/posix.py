"""Linux and macOS: signals reach the asyncio loop, locks are ``flock``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from hermes_lifecycle.platforms.base import InstanceLock, Platform

if TYPE_CHECKING:  # the service-manager and spawn seams, imported lazily below

    from hermes_lifecycle.platforms.changes import ChangeNotifier
    from hermes_lifecycle.platforms.spawner import SpawnedProcess


def user_id() -> int:
    """This process's user id (launchd's ``gui/<uid>`` domain is named by it)."""
    if sys.platform == "win32":
        raise NotImplementedError("Windows has no POSIX user id")
    return os.getuid()


class PosixPlatform(Platform):
    loop_signals = ("SIGTERM", "SIGINT", "SIGHUP")  # SIGHUP: the terminal running it closed

    def try_lock(self, path: Path) -> InstanceLock | None:
        # The guards in this module tell the type checker which OS a call belongs to (mypy
        # `--platform win32` / `darwin`); at run time each class runs only where it belongs.
        if sys.platform == "win32":
            raise NotImplementedError("a POSIX instance lock exists only on POSIX systems")
        import fcntl

        fd = self._open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return InstanceLock(path, fd, lambda f: fcntl.flock(f, fcntl.LOCK_UN))

    def install_console_hygiene(self, stdin_is_tty: bool) -> list[str]:
        return []  # SIGTERM/SIGINT go to the loop's handlers; nothing to absorb

    def spawn_detached(self, hermes_args: list[str], log_path: Path, *,
                       env: dict[str, str] | None = None) -> SpawnedProcess:
        """A new session (no controlling terminal, no signals from the shell's job control),
        stdin from /dev/null, stdout and stderr appended to the sidecar log."""
        import subprocess

        from hermes_lifecycle.command_line import python_argv
        from hermes_lifecycle.platforms.spawner import open_log

        log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open_log(log_path) as log:
            return self.spawner.spawn(
                python_argv(sys.executable, hermes_args),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=env,
            )

    def send_stop_signal(self, pid: int) -> str | None:
        import signal  # ~2 ms (its enums): `status` reads /proc through this class and signals nothing

        os.kill(pid, signal.SIGTERM)
        return "SIGTERM"

    def terminate_tree(self, root_pid: int, processes: list, *, whole: bool = True) -> list[str]:
        return [f"SIGTERM to {', '.join(_signal_each(processes, 'terminate'))}"]

    def kill_tree(self, root_pid: int, processes: list, *, whole: bool = True) -> list[str]:
        return [f"SIGKILL to {', '.join(_signal_each(processes, 'kill'))}"]


def _signal_each(processes: list, how: str) -> list[str]:
    """psutil checks each process's identity (create time) before it signals."""
    import psutil

    reached = []
    for proc in processes:
        try:
            getattr(proc, how)()
            reached.append(str(proc.pid))
        except psutil.NoSuchProcess:
            continue
        except psutil.AccessDenied:
            reached.append(f"{proc.pid} (access denied)")
    return reached or ["nothing (already gone)"]


class LinuxPlatform(PosixPlatform):
    name = "linux"
    wakes_at_exit = True

    def own_age(self) -> float | None:
        if sys.platform != "linux":  # /proc and CLOCK_BOOTTIME are Linux's
            return None
        try:
            with open("/proc/self/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, ticks after boot
            return max(time.clock_gettime(time.CLOCK_BOOTTIME) - started, 0.0)
        except (OSError, ValueError, IndexError, AttributeError):
            return None

    def process_create_time(self, pid: int) -> float | None:
        """psutil's own formula: starttime (ticks after boot) / ticks per second + boot time
        (``btime`` of /proc/stat), so both readings agree to the tick."""
        if pid <= 0 or sys.platform != "linux":  # /proc is Linux's
            return None
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()  # the name may hold spaces and ')'
            if fields[0] in (b"Z", b"X"):  # zombie or dead: it no longer runs
                return None
            return int(fields[19]) / os.sysconf("SC_CLK_TCK") + _boot_time()
        except (OSError, ValueError, IndexError):
            return None

    def sleep_until_exit(self, pid: int, seconds: float) -> None:
        """A pidfd (Linux 5.3+) turns readable when the process exits, whoever its parent is:
        the stop returns the moment the gateway is gone instead of up to a poll step later."""
        if sys.platform != "linux":  # no pidfd: poll in short steps
            time.sleep(min(seconds, 0.005))
            return
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return  # already gone
        except (OSError, AttributeError):  # an older kernel or Python: poll in short steps
            time.sleep(min(seconds, 0.005))
            return
        try:
            import select

            select.select([fd], [], [], seconds)
        finally:
            os.close(fd)

    def process_command_line(self, pid: int) -> list[str] | None:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:  # gone meanwhile, or not ours to read
            return None
        return [a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0")] if raw else None

    def process_command_lines(self) -> Iterator[tuple[int, list[str]]]:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                cmdline = self.process_command_line(int(entry))
                if cmdline:
                    yield int(entry), cmdline

    def process_cwd(self, pid: int) -> str | None:
        try:
            return os.readlink(f"/proc/{pid}/cwd")
        except OSError:  # gone, or another user's
            return None

    def process_environ(self, pid: int) -> dict[str, str]:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                raw = f.read()
        except OSError:  # gone, or another user's
            return {}
        pairs = (item.decode("utf-8", "replace").partition("=") for item in raw.split(b"\0") if item)
        return {name: value for name, _, value in pairs}

    def change_notifier(self, db_path: Path) -> "ChangeNotifier":
        """inotify on the database's folder (platforms/inotify.py)."""
        from hermes_lifecycle.platforms.inotify import InotifyNotifier

        return InotifyNotifier(db_path)


def _boot_time() -> float:
    """Boot time in epoch seconds, as /proc/stat states it (a whole second, like psutil's)."""
    with open("/proc/stat", "rb") as f:
        for line in f:
            if line.startswith(b"btime"):
                return float(line.split()[1])
    raise ValueError("no btime line in /proc/stat")


class MacPlatform(PosixPlatform):
    name = "macos"

    def change_notifier(self, db_path: Path) -> "ChangeNotifier":
        """kqueue on the database and its WAL (platforms/kqueue.py)."""
        from hermes_lifecycle.platforms.kqueue import KqueueNotifier

        return KqueueNotifier(db_path)
