"""Install the project with its test dependencies into .venv and run the whole suite."""

from __future__ import annotations

import subprocess
import sys

from _venv import ROOT, ensure_venv

if __name__ == "__main__":
    python = ensure_venv("test")
    sys.exit(subprocess.run([str(python), "-m", "pytest", *sys.argv[1:]], cwd=ROOT).returncode)
