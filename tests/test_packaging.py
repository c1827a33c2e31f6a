"""The wheel is complete: built from the sources, installed into a fresh venv, it runs and migrates.

The wheel is built by ``pip wheel`` (its isolated build env fetches setuptools
once); dependencies come from a wheelhouse re-packed from the development venv's
installed distributions, so installing needs no index and takes seconds.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE_DIRS = ("lifecycle", "store", "cli", "migrations")
TIMEOUT = 300


def _requirement_names(dist: metadata.Distribution) -> list[str]:
    names = []
    for requirement in dist.requires or []:
        if "extra ==" in requirement:
            continue
        names.append(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))
    return names


def _dependency_closure(root: str) -> list[metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    pending = _requirement_names(metadata.distribution(root))
    while pending:
        name = pending.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen[key] = metadata.distribution(name)
        pending += _requirement_names(seen[key])
    return list(seen.values())


def _repack(dist: metadata.Distribution, wheelhouse: Path) -> None:
    """Write an installed distribution back out as a wheel (its files as they were installed)."""
    tags = [t.split("-") for t in re.findall(r"^Tag: (\S+)$", dist.read_text("WHEEL") or "", re.M)]
    tag = "-".join(".".join(dict.fromkeys(t[i] for t in tags)) for i in range(3)) if tags else "py3-none-any"
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    target = wheelhouse / f"{name}-{dist.version}-{tag}.whl"
    site = Path(dist.locate_file(""))
    with zipfile.ZipFile(target, "w") as wheel:
        kept = []
        for file in dist.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts or file.name in ("RECORD", "INSTALLER"):
                continue
            wheel.write(site / file, str(file))
            kept.append(str(file))
        record = next(str(f) for f in dist.files if f.name == "RECORD")
        wheel.writestr(record, "".join(f"{path},,\n" for path in kept + [record]))


def _build_wheel(into: Path) -> Path:
    """Build from a copy of the sources, so the shared work tree gets no build/ or egg-info."""
    source = into / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGE_DIRS:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                            "--wheel-dir", str(into / "wheelhouse"), str(source)],
                           timeout=TIMEOUT, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    return next((into / "wheelhouse").glob("hermes_lifecycle-*.whl"))


def _installed_name(folder: Path) -> str:
    """The import name a source folder installs as: lifecycle/ is hermes_lifecycle, the others its subpackages."""
    parts = folder.relative_to(ROOT).parts
    return ".".join(["hermes_lifecycle", *(parts[1:] if parts[0] == "lifecycle" else parts)])


def _source_modules() -> list[str]:
    modules = []
    for package in PACKAGE_DIRS:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = _installed_name(path.parent)
            modules.append(name if path.stem == "__init__" else f"{name}.{path.stem}")
    return modules


def test_every_source_package_is_listed_for_installation():
    """pyproject.toml lists the packages by hand (setuptools cannot find packages under a mapped
    name): a new folder with an __init__.py that is not listed would be missing from the wheel."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {_installed_name(init.parent)
               for package in PACKAGE_DIRS for init in (ROOT / package).rglob("__init__.py")}
    assert folders == listed


def test_the_wheel_installs_into_a_fresh_venv_and_runs_status_with_its_migrations(tmp_path: Path):
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.namelist()
    sql_files = sorted(p.name for p in (ROOT / "migrations").glob("*.sql"))
    assert {n.split("/")[0] for n in shipped if not n.split("/")[0].endswith(".dist-info")} == {"hermes_lifecycle"}
    shipped_sql = [n for n in shipped if n.startswith("hermes_lifecycle/migrations/") and n.endswith(".sql")]
    assert sorted(Path(n).name for n in shipped_sql) == sql_files
    schemas = sorted(p.name for p in (ROOT / "cli" / "schemas").glob("*.json"))
    assert schemas and sorted(Path(n).name for n in shipped if n.startswith("hermes_lifecycle/cli/schemas/")) == schemas

    for dist in _dependency_closure("hermes-lifecycle"):
        _repack(dist, tmp_path / "wheelhouse")
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                                "--disable-pip-version-check", "--no-index", "--find-links",
                                str(tmp_path / "wheelhouse"), "hermes-lifecycle"],
                               timeout=TIMEOUT, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-3000:]

    outside = tmp_path / "elsewhere"  # not the source tree: only the installed copy can be imported
    outside.mkdir()
    home = tmp_path / "home"
    status = subprocess.run([str(env_dir / "bin" / "hermes-lifecycle"), "--home", str(home), "status", "--json"],
                            capture_output=True, text=True, timeout=TIMEOUT, cwd=outside,
                            env={"PATH": str(env_dir / "bin"), "HOME": str(tmp_path)})
    assert status.returncode == 3, status.stderr  # not running
    assert json.loads(status.stdout)["state"] == "stopped"

    probe = ("import importlib, json, sqlite3, sys\nfrom hermes_lifecycle import store\n"
             f"for name in {_source_modules()!r}: importlib.import_module(name)\n"
             f"conn = sqlite3.connect({str(home / 'state.db')!r})\n"
             "print(json.dumps({'file': store.__file__, 'version': store.schema_version(conn),"
             " 'applied': [r[0] for r in conn.execute('SELECT number FROM lifecycle_schema_migrations ORDER BY number')]}))\n")
    checked = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=TIMEOUT,
                             cwd=outside, env={"PATH": str(env_dir / "bin")})
    assert checked.returncode == 0, checked.stderr
    facts = json.loads(checked.stdout)
    assert Path(facts["file"]).is_relative_to(env_dir), "the test imported the source tree, not the wheel"
    assert facts["version"] == len(sql_files) and facts["applied"] == list(range(1, len(sql_files) + 1))
