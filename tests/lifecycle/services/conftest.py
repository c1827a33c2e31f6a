"""A temporary user account for service-manager tests.

Every path a manager computes comes from HOME / XDG_CONFIG_HOME / APPDATA, all pointed
into ``tmp_path`` here (and in ``os.environ``), so no test can reach the real account.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hermes_lifecycle.home import Home


@pytest.fixture
def user_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    account = tmp_path / "account"
    env = {
        "HOME": str(account),
        "XDG_CONFIG_HOME": str(account / ".config"),
        "XDG_RUNTIME_DIR": str(tmp_path / "runtime"),
        "APPDATA": str(account / "AppData" / "Roaming"),
        "USERNAME": "alice",
        "USERDOMAIN": "DESKTOP-1",
        "USER": "alice",
    }
    account.mkdir()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def gateway_home(tmp_path: Path) -> Home:
    return Home.resolve(tmp_path / "hermes home")
