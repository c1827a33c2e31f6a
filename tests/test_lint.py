"""The linter and the type checker, run by the test command: a finding fails the suite.

ruff and mypy are configured in pyproject.toml.  The four folders install under one import
name (``hermes_lifecycle``) through an editable finder that mypy cannot follow, so the
package is linked as that name under ``build/typecheck`` first.  mypy also runs as if on
Windows and on macOS: those paths never execute here, so only the type checker reads them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Where pyproject.toml's ``mypy_path`` points.
TREE = ROOT / "build" / "typecheck"
#: Subpackages that live in their own top-level folder (see [tool.setuptools] package-dir).
OWN_FOLDERS = ("store", "cli", "migrations")


def link_package(tree: Path = TREE) -> Path:
    """``tree/hermes_lifecycle``: lifecycle/'s entries plus store/, cli/ and migrations/, linked."""
    package = tree / "hermes_lifecycle"
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    for entry in (ROOT / "lifecycle").iterdir():
        if entry.name != "__pycache__":
            os.symlink(entry, package / entry.name, target_is_directory=entry.is_dir())
    for folder in OWN_FOLDERS:
        os.symlink(ROOT / folder, package / folder, target_is_directory=True)
    return package


@pytest.fixture(scope="module")
def linked() -> Path:
    return link_package()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = _run("ruff", "check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("platform", ["linux", "win32", "darwin"])
def test_mypy_finds_nothing(linked, platform):
    done = _run("mypy", "--platform", platform)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_type_check_sees_a_type_error(tmp_path):
    """The checks above can fail: the same configuration reports an unchecked Optional."""
    tree = tmp_path / "typecheck"
    package = link_package(tree)
    (package / "zz_probe.py").write_text("def f(x: int | None) -> int:\n    return x + 1\n", "utf-8")
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
                           "--config-file", str(ROOT / "pyproject.toml"), "--python-version", "3.10",
                           "-m", "hermes_lifecycle.zz_probe"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MYPYPATH": str(tree)})
    assert done.returncode == 1 and "zz_probe.py:2" in done.stdout, done.stdout + done.stderr


def test_the_linter_sees_a_finding(tmp_path):
    """The lint check can fail: the same rule set reports an unused import."""
    probe = tmp_path / "probe.py"
    probe.write_text("import os\n", "utf-8")
    done = _run("ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(probe))
    assert done.returncode == 1 and "F401" in done.stdout, done.stdout + done.stderr
