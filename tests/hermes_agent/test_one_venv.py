"""One fresh venv holding hermes-agent and this package: `hermes` is still hermes-agent's
script, `import cli` still its cli.py, `hermes-lifecycle status` works, and once the plugin is
enabled so does `hermes lifecycle status`.

Fast: our wheel is built as tests/test_packaging.py builds it, hermes-agent is re-packed from
the development venv (both installed with --no-index), and their dependencies are the
development venv's own, reached through a folder of links that leaves both packages out.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import venv
from importlib import metadata
from pathlib import Path

from tests.hermes_agent.tier import require_hermes_agent
from tests.test_packaging import TIMEOUT, _build_wheel, _repack

require_hermes_agent()

OURS, THEIRS = "hermes-lifecycle", "hermes-agent"


def _dependencies_without_both(into: Path) -> Path:
    """The development venv's site-packages as links, minus both packages (and any editable
    finder): the fresh venv must find hermes-agent and ours only where it installed them."""
    site = Path(sysconfig.get_paths()["purelib"])
    left_out = {f.parts[0] for name in (OURS, THEIRS) for f in metadata.distribution(name).files or []}
    into.mkdir()
    for entry in site.iterdir():
        name = entry.name
        if name in left_out or name.startswith("__editable__") or name.endswith(".pth") \
                or re.match(r"hermes_(lifecycle|agent)-", name):
            continue
        (into / name).symlink_to(entry)
    return into


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), *args, "--quiet",
                           "--disable-pip-version-check"], timeout=TIMEOUT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def test_one_venv_holds_both_and_each_keeps_its_own_names(tmp_path: Path):
    wheelhouse = _build_wheel(tmp_path).parent
    _repack(metadata.distribution(THEIRS), wheelhouse)
    env_dir = tmp_path / "both"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python, bin_dir = env_dir / "bin" / "python", env_dir / "bin"
    fresh_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     capture_output=True, text=True, check=True).stdout.strip())
    (fresh_site / "dependencies.pth").write_text(f"{_dependencies_without_both(tmp_path / 'deps')}\n")
    install = ("install", "--no-index", "--no-deps", "--find-links", str(wheelhouse))
    _pip(python, *install, THEIRS)  # hermes-agent first, then ours: ours must not take its names
    _pip(python, *install, OURS)

    user = tmp_path / "user"
    user.mkdir()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(user), "HERMES_HOME": str(user / ".hermes")}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=TIMEOUT, cwd=user, env=env)

    assert "hermes_cli.main" in (bin_dir / "hermes").read_text()
    origin = run(str(python), "-c", "import importlib.util, json; from importlib import metadata\n"
                 "spec = importlib.util.find_spec('cli')\n"
                 "owner = [str(metadata.distribution('hermes-agent').locate_file(f)) "
                 "for f in metadata.distribution('hermes-agent').files if str(f) == 'cli.py']\n"
                 "print(json.dumps({'origin': spec.origin, 'owner': owner}))")
    assert origin.returncode == 0, origin.stderr
    found = json.loads(origin.stdout)
    assert found["owner"] == [found["origin"]] and Path(found["origin"]).is_relative_to(env_dir)

    status = run(str(bin_dir / "hermes-lifecycle"), "status", "--json")
    assert status.returncode == 3, status.stderr  # status: not running (LSB)
    assert json.loads(status.stdout)["state"] == "stopped"
    assert (user / ".hermes" / "state.db").is_file()  # one home: hermes-agent's

    not_yet = run(str(bin_dir / "hermes"), "lifecycle", "status")
    assert not_yet.returncode == 2 and "invalid choice: 'lifecycle'" in not_yet.stderr
    enabled = run(str(bin_dir / "hermes"), "plugins", "enable", "lifecycle")
    assert enabled.returncode == 0, enabled.stderr
    through_hermes = run(str(bin_dir / "hermes"), "lifecycle", "status")
    assert through_hermes.returncode == 3, through_hermes.stderr  # not running
    assert through_hermes.stdout.startswith("gateway default: stopped")
    (user / ".hermes" / "profiles" / "work").mkdir(parents=True)  # hermes-agent's -p needs the profile to exist
    assert run(str(bin_dir / "hermes"), "-p", "work", "plugins", "enable", "lifecycle").returncode == 0  # per profile
    profiled = run(str(bin_dir / "hermes"), "-p", "work", "lifecycle", "status", "--json")
    assert profiled.returncode == 3, profiled.stderr  # not running
    assert json.loads(profiled.stdout)["profile"] == "work"
    assert (user / ".hermes" / "profiles" / "work" / "state.db").is_file()
    refused = run(str(bin_dir / "hermes"), "lifecycle", "status", "-n", "0")
    assert refused.returncode == 2 and "hermes lifecycle status --help" in refused.stderr

    _pip(python, "uninstall", "--yes", OURS)  # uninstalling ours leaves hermes-agent's script
    assert "hermes_cli.main" in (bin_dir / "hermes").read_text()
    assert not (bin_dir / "hermes-lifecycle").exists()
