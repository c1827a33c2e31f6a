"""Shell completion (bash, zsh, fish) of profiles, run ids and states, through click's protocol."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from tests.conftest import ROOT, hermes_env
from tests.journal_runs import ended_run

ENTRY = [sys.executable, "-c", "from hermes_lifecycle.cli.main import main; main()"]


def _complete(*words: str) -> list[str]:
    """What bash would offer after ``words`` (the last one is being typed)."""
    line = ["hermes-lifecycle", *words]
    done = subprocess.run(ENTRY, capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env=hermes_env(_HERMES_LIFECYCLE_COMPLETE="bash_complete",
                                         COMP_WORDS=" ".join(line), COMP_CWORD=str(len(line) - 1)))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [item.split(",", 1)[1] for item in done.stdout.splitlines() if item]


def test_profiles_run_ids_and_states_complete(home_dir):
    for profile in ("default", "web"):
        with Journal(Home.resolve(home_dir, profile)) as journal:
            ended_run(journal, f"r-{profile}-1", "stop")
            ended_run(journal, f"r-{profile}-2", "crash")
    home = ("gateway", "--home", str(home_dir))
    assert _complete(*home, "--profile", "") == ["default", "web"]
    assert _complete(*home, "--profile", "w") == ["web"]
    assert _complete(*home, "--profile", "web", "forensics", "--run", "") == ["r-web-2", "r-web-1"]
    assert _complete(*home, "events", "--run", "r-default-") == ["r-default-2", "r-default-1"]
    assert _complete(*home, "wait", "--state", "") == ["stopped", "starting", "running", "draining", "killed",
                                                       "crashed"]


def test_completing_in_a_home_that_does_not_exist_offers_nothing_and_creates_nothing(tmp_path):
    missing = tmp_path / "nowhere"
    assert _complete("gateway", "--home", str(missing), "--profile", "") == []
    assert _complete("gateway", "--home", str(missing), "forensics", "--run", "") == []
    assert not missing.exists()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_bound_to_the_command_it_runs(shell, tmp_path):
    link = tmp_path / "hermes-lifecycle"
    link.symlink_to(ROOT / ".venv" / "bin" / "hermes-lifecycle") if (ROOT / ".venv" / "bin" / "hermes-lifecycle").exists() \
        else pytest.skip("no installed console script in .venv")
    done = subprocess.run([str(link)], capture_output=True, text=True, timeout=60,
                          env=hermes_env(_HERMES_LIFECYCLE_COMPLETE=f"{shell}_source"))
    assert done.returncode == 0 and "hermes-lifecycle" in done.stdout and "_HERMES_LIFECYCLE_COMPLETE" in done.stdout
