"""A short command ends as soon as its output is flushed: no interpreter teardown, same output and code."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, hermes_env

#: The console script's entry, with an exit hook that says whether the teardown ran.
DRIVER = """
import atexit, sys
atexit.register(lambda: print("TEARDOWN", file=sys.stderr, flush=True))
from hermes_lifecycle.cli.main import main
sys.argv = ["hermes", *sys.argv[1:]]
main()
"""


#: The ``hermes-lifecycle`` console script's entry (pyproject.toml), with the same hook.
LIFECYCLE_DRIVER = DRIVER.replace("import main", "import lifecycle_console").replace(
    '["hermes", *sys.argv[1:]]', '["hermes-lifecycle", *sys.argv[1:]]').replace("main()", "lifecycle_console()")


def _main(*args: str, driver: str = DRIVER) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", driver, *args], capture_output=True, text=True, timeout=60,
                          env=hermes_env(), cwd=ROOT)


def test_status_prints_in_full_and_skips_the_teardown(home_dir, journal):
    journal.fire("service_installed", actor="test")
    done = _main("gateway", "--home", str(home_dir), "status", "--json")
    assert done.returncode == 3, done.stderr  # stopped: LSB "not running" (i14), kept through the fast exit
    assert done.stdout.strip().startswith("{") and done.stdout.strip().endswith("}")
    assert "TEARDOWN" not in done.stderr


def test_an_error_keeps_its_exit_code_and_its_line(home_dir):
    done = _main("gateway", "--home", str(home_dir), "prune")
    assert done.returncode == 2
    assert done.stderr.startswith("hermes-lifecycle: ") and "TEARDOWN" not in done.stderr


def test_help_and_version_still_end_normally():
    assert _main("--version").returncode == 0
    assert "Usage" in _main("gateway", "--help").stdout


def test_the_hermes_lifecycle_console_script_exits_fast_too(home_dir, journal):
    journal.fire("service_installed", actor="test")
    done = _main("--home", str(home_dir), "status", "--json", driver=LIFECYCLE_DRIVER)
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip().startswith("{") and done.stdout.strip().endswith("}")
    assert "TEARDOWN" not in done.stderr
    bad = _main("--home", str(home_dir), "prune", driver=LIFECYCLE_DRIVER)
    assert bad.returncode == 2 and "TEARDOWN" not in bad.stderr
    assert "TEARDOWN" in _main("--version", driver=LIFECYCLE_DRIVER).stderr  # not a command: normal end
