"""The main job: install into .venv, then show a gateway's lifecycle on a fresh home.

Runs against ./demo-home (created anew each time) so it never touches a real home.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from _venv import ROOT, ensure_venv, venv_python

HOME = ROOT / "demo-home"


def hermes(*args: str) -> int:
    command = [str(venv_python()), "-m", "cli.main", "gateway", "--home", str(HOME), *args]
    print(f"\n$ hermes gateway {' '.join(args)}", flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    ensure_venv()
    shutil.rmtree(HOME, ignore_errors=True)
    codes = [hermes("status", "--history"), hermes("diagram")]
    sys.exit(max(codes))
