"""``python -m lifecycle.controller.sidecar LOG -- ARGS``: run ``hermes ARGS`` with its
stdout and stderr appended to ``LOG``.

A Windows gateway is spawned with DEVNULL stdio (an inherited console or pipe handle
would tie it to the launcher), so it redirects its own output to the sidecar log here,
before anything is imported that could print.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m lifecycle.controller.sidecar LOG -- HERMES-ARGS", file=sys.stderr)
        return 2
    log_path, hermes_args = argv[0], argv[2:]
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    import runpy

    from hermes_lifecycle.command_line import CLI_MODULE

    sys.argv = ["hermes", *hermes_args]  # what `python -m` would see, named as the console script
    runpy.run_module(CLI_MODULE, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through a real process in tests
    sys.exit(main(sys.argv[1:]))
