"""Our home is hermes-agent's: resolved from the same HERMES_HOME (or its absence) by
hermes-agent's own get_hermes_home, in a process of its own for each environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gateways import hermes_env
from tests.hermes_agent.tier import require_hermes_agent

require_hermes_agent()

PROBE = ("import json\nfrom hermes_constants import get_hermes_home\nfrom hermes_lifecycle.home import Home\n"
         "home = Home.resolve()\n"
         "print(json.dumps({'theirs': str(get_hermes_home()), 'ours': str(home.state_db.parent), "
         "'profile': home.profile}))")


@pytest.mark.parametrize("hermes_home", [None, "h", "  h  ", "h/profiles/work"], ids=repr)
def test_the_home_is_hermes_agents_get_hermes_home(tmp_path: Path, hermes_home: str | None):
    env = hermes_env(HOME=str(tmp_path))
    if hermes_home is not None:
        env["HERMES_HOME"] = hermes_home.replace("h", str(tmp_path / "h"), 1)
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(found["ours"]) == Path(found["theirs"]).absolute()
    assert found["profile"] == ("work" if hermes_home and "profiles" in hermes_home else "default")
