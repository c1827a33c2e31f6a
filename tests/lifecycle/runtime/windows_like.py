"""Run the gateway as Windows would: no loop signals, console events, console hygiene.

``python -m tests.lifecycle.runtime.windows_like HOME [APP]`` runs ``run_gateway`` with a
Linux platform that behaves like Windows where this machine can: the loop takes no
signals (the watcher is the only way in; Ctrl+C reaches a plain handler only when
stdin is a terminal), console hygiene is the Windows one, and a
console close event is delivered when the file ``HOME/console-close`` appears (the
one thing Linux cannot produce: ``SetConsoleCtrlHandler`` calling us).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Callable

from hermes_lifecycle.home import Home
from hermes_lifecycle.platforms.posix import LinuxPlatform
from hermes_lifecycle.platforms.windows import CONSOLE_CLOSE_EVENTS, WindowsPlatform
from hermes_lifecycle.runtime.gateway import RunOptions, run_gateway

CONSOLE_CLOSE_FILE = "console-close"


class WindowsLike(LinuxPlatform):
    name = "windows-like"
    loop_signals = ()
    console_signals = WindowsPlatform.console_signals  # SIGBREAK does not exist here

    def __init__(self, home: Home) -> None:
        super().__init__()
        self.home = home

    def install_console_hygiene(self, stdin_is_tty: bool) -> list[str]:
        return WindowsPlatform.install_console_hygiene(self, stdin_is_tty)

    def install_console_close_handler(self, callback: Callable[[str], None]) -> bool:
        trigger = self.home.root / CONSOLE_CLOSE_FILE

        def deliver() -> None:
            while not trigger.exists():
                time.sleep(0.02)
            callback(CONSOLE_CLOSE_EVENTS[2])

        threading.Thread(target=deliver, daemon=True).start()
        return True


if __name__ == "__main__":
    home = Home.resolve(Path(sys.argv[1]))
    app = sys.argv[2] if len(sys.argv) > 2 else RunOptions.app
    sys.exit(run_gateway(home, RunOptions(drain_timeout=5, app=app), platform=WindowsLike(home)))
