"""Install the project with its test dependencies into .venv and run the whole suite.

The ``hermes-agent`` extra brings the real hermes-agent for the integration tier; it needs
Python >= 3.11 (an environment marker), so on an older interpreter it installs nothing and the
tier is skipped with that reason."""

from __future__ import annotations

import os
import subprocess
import sys

from _venv import ROOT, ensure_venv

if __name__ == "__main__":
    python = ensure_venv("test,hermes-agent")
    # The suite starts the CLI as a new process hundreds of times: with PYTHONDONTWRITEBYTECODE set
    # (some images set it) every one of them compiles the whole package again (~60 ms each).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    sys.exit(subprocess.run([str(python), "-m", "pytest", *sys.argv[1:]], cwd=ROOT, env=env).returncode)
