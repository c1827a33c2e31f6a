"""The Windows sidecar runs the CLI module by name (lifecycle/command_line.py), with its output
in the log and the command's exit code as its own: checked here with a real process."""

from __future__ import annotations

import subprocess
import sys

from hermes_lifecycle.command_line import SIDECAR_MODULE


def _sidecar(log, *hermes_args: str) -> int:
    return subprocess.run([sys.executable, "-m", SIDECAR_MODULE, str(log), "--", *hermes_args],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=60).returncode


def test_the_sidecar_runs_the_cli_with_its_output_in_the_log_and_its_exit_code(tmp_path):
    log = tmp_path / "gateway.log"
    assert _sidecar(log, "gateway", "--home", str(tmp_path / "home"), "status") == 3  # not running (LSB)
    assert "gateway default: stopped" in log.read_text("utf-8")
    assert _sidecar(log, "gateway", "--no-such-option") == 2
    assert "No such option '--no-such-option'" in log.read_text("utf-8")
