"""Windows: no SIGTERM for asyncio, ``msvcrt`` locks, and spurious console Ctrl+C events.

Windows-only modules are imported inside methods so this class can be built and its
command lines recorded on any OS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from hermes_lifecycle.platforms.base import InstanceLock, Platform
from hermes_lifecycle.platforms.spawner import (
    CREATE_BREAKAWAY_FROM_JOB,
    CREATE_NEW_PROCESS_GROUP,
    CREATE_NO_WINDOW,
    DETACHED_PROCESS,
    SpawnedProcess,
)

if TYPE_CHECKING:
    from typing import Mapping

    from hermes_lifecycle.platforms.changes import ChangeNotifier

#: DETACHED_PROCESS: no console; NEW_PROCESS_GROUP: the shell's Ctrl+C does not reach it;
#: NO_WINDOW: nothing flashes; BREAKAWAY_FROM_JOB: closing the launching terminal's job
#: does not take the gateway with it.
DETACHED_FLAGS = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW | CREATE_BREAKAWAY_FROM_JOB
TASKKILL_TIMEOUT = 15.0


#: Console control events that end the process (the system kills it ~5 s after the handler
#: is called).  Ctrl+C (0) and Ctrl+Break (1) are left to console hygiene.
CONSOLE_CLOSE_EVENTS: dict[int, str] = {2: "CTRL_CLOSE_EVENT", 5: "CTRL_LOGOFF_EVENT", 6: "CTRL_SHUTDOWN_EVENT"}


def console_event_name(code: int) -> str | None:
    """The name of a console control event the gateway drains on, or None to pass it on."""
    return CONSOLE_CLOSE_EVENTS.get(code)


class WindowsPlatform(Platform):
    name = "windows"
    loop_signals = ()  # asyncio's add_signal_handler raises NotImplementedError here
    console_signals = ("SIGINT", "SIGBREAK")
    #: The log is the only stop channel here and NTFS may announce an open file's writes
    #: late, so the backstop stays at the watcher's old 20 ms poll: never slower than before.
    change_backstop = 0.02

    def change_notifier(self, db_path: Path) -> "ChangeNotifier":
        """A change notification on the database's folder (platforms/win_changes.py)."""
        from hermes_lifecycle.platforms.win_changes import WindowsChangeNotifier

        return WindowsChangeNotifier(db_path)

    def default_home(self, environ: "Mapping[str, str]") -> Path:
        """``%LOCALAPPDATA%\\hermes`` (else ``~/AppData/Local/hermes``), as hermes-agent resolves it."""
        local = environ.get("LOCALAPPDATA", "").strip()
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "hermes"

    def try_lock(self, path: Path) -> InstanceLock | None:
        # The class is built on any OS (tests drive it through the runner seam); the guards in
        # this module also tell the type checker which OS a call belongs to (`--platform win32`).
        if sys.platform != "win32":
            raise NotImplementedError("the Windows instance lock exists only on Windows")
        import msvcrt

        fd = self._open_lock_file(path)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(fd)
            return None
        return InstanceLock(path, fd, lambda f: msvcrt.locking(f, msvcrt.LK_UNLCK, 1))

    def install_console_hygiene(self, stdin_is_tty: bool) -> list[str]:
        """A detached gateway (no TTY) ignores SIGINT and SIGBREAK: something on the boot
        path synthesizes Ctrl+C for detached pythonw processes and killed them with no
        shutdown.  An interactive console keeps Ctrl+C."""
        if stdin_is_tty:
            return []
        ignored = []
        for name in self.console_signals:
            number = getattr(signal, name, None)
            if number is not None:
                signal.signal(number, signal.SIG_IGN)
                ignored.append(name)
        return ignored

    def spawn_detached(self, hermes_args: list[str], log_path: Path, *,
                       env: dict[str, str] | None = None) -> SpawnedProcess:
        """``pythonw`` (no console to close or to send Ctrl+C), detached flags, DEVNULL
        stdio so no handle ties it to the launcher; the sidecar module points the gateway's
        own stdout and stderr at the log."""
        from hermes_lifecycle.command_line import sidecar_argv

        log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pythonw = str(Path(sys.executable).with_name("pythonw.exe"))
        argv = sidecar_argv(pythonw, str(log_path), hermes_args)
        return self.spawner.spawn(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            creationflags=DETACHED_FLAGS, env=env,
        )

    def send_stop_signal(self, pid: int) -> str | None:
        return None  # asyncio takes no SIGTERM here: the stop request in the log is the way in

    def terminate_tree(self, root_pid: int, processes: list, *, whole: bool = True) -> list[str]:
        return self._taskkill(root_pid, processes, whole=whole, force=False)

    def kill_tree(self, root_pid: int, processes: list, *, whole: bool = True) -> list[str]:
        return self._taskkill(root_pid, processes, whole=whole, force=True)

    def _taskkill(self, root_pid: int, processes: list, *, whole: bool, force: bool) -> list[str]:
        """``taskkill /PID n /T`` takes the whole tree; when some of the tree must be spared
        (the caller's own ancestry), each remaining pid is named without ``/T``."""
        force_flag = ["/F"] if force else []
        if whole:
            commands = [["taskkill", "/PID", str(root_pid), "/T", *force_flag]]
        else:
            commands = [["taskkill", "/PID", str(p.pid), *force_flag] for p in reversed(processes)]
        done = []
        for argv in commands:
            result = self.runner.run(argv, timeout=TASKKILL_TIMEOUT)
            done.append(" ".join(argv) + ("" if result.ok else f" (exit {result.returncode})"))
        return done

    def install_console_close_handler(self, callback: Callable[[str], None]) -> bool:
        """Drain on console close, logoff and shutdown via ``SetConsoleCtrlHandler``.

        Windows calls the handler on its own thread and ends the process when it returns,
        so ``callback`` should block until the drain is recorded (bounded by ~5 s).  Only a
        process with a console gets these; logoff and shutdown reach services only, so a
        pythonw gateway (no console) is ended at logoff without a call here.
        """
        if sys.platform != "win32":
            return False
        import ctypes
        from ctypes import wintypes

        handler_type = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)

        def handler(code: int) -> bool:
            name = console_event_name(code)
            if name is None:
                return False
            callback(name)
            return True

        self._console_handler = handler_type(handler)  # keep a reference: ctypes does not
        return bool(ctypes.windll.kernel32.SetConsoleCtrlHandler(self._console_handler, True))
