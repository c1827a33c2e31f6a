"""`hermes-lifecycle COMMAND` (the console script's root is the gateway group) and the
hermes-agent plugin's argparse hand-over, which forwards the rest of the line to it."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_hermes
from tests.gateways import hermes_env


def _script(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("hermes-lifecycle")
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=60, env=hermes_env(), cwd=ROOT)


def test_the_console_script_runs_the_gateway_commands_without_the_word_gateway(home_dir: Path):
    direct = _script("--home", str(home_dir), "--profile", "work", "status", "--json")
    assert direct.returncode == 3, direct.stderr  # status: not running (LSB)
    by_module = run_hermes(home_dir, "status", "--json", profile="work")
    same = ("profile", "state", "version", "service")
    assert [json.loads(direct.stdout)[k] for k in same] == [json.loads(by_module.stdout)[k] for k in same]
    assert json.loads(direct.stdout)["profile"] == "work" and (home_dir / "profiles" / "work" / "state.db").is_file()
    bad = _script("--home", str(home_dir), "status", "-n", "0")
    assert bad.returncode == 2 and "`hermes-lifecycle status --help`" in bad.stderr


def _hermes_like_parser() -> argparse.ArgumentParser:
    """The parser hermes-agent builds for a plugin's command (hermes_cli/main.py)."""
    from hermes_lifecycle.cli import hermes_plugin

    parser = argparse.ArgumentParser(prog="hermes")
    commands = parser.add_subparsers(dest="command")
    ours = commands.add_parser(hermes_plugin.NAME, help=hermes_plugin.HELP, description=hermes_plugin.DESCRIPTION)
    hermes_plugin.setup(ours)
    ours.set_defaults(func=hermes_plugin.handle)
    return parser


@pytest.mark.parametrize("argv, code", [(["status", "--json"], 3), (["status", "-n", "0"], 2), (["nope"], 2)],
                         ids=["status", "bad option", "no such command"])
def test_the_plugin_forwards_the_line_and_exits_with_the_commands_code(home_dir: Path, argv, code,
                                                                       capsys: pytest.CaptureFixture):
    args = _hermes_like_parser().parse_args(["lifecycle", "--home", str(home_dir), *argv])
    with pytest.raises(SystemExit) as ended:
        args.func(args)
    assert ended.value.code == code
    if code == 3:  # status: not running (LSB)
        assert json.loads(capsys.readouterr().out)["state"] == "stopped"


def test_the_plugin_module_imports_nothing_of_the_engine():
    probe = ("import sys, hermes_lifecycle.cli.hermes_plugin\n"
             "print(sorted(m for m in sys.modules if m.startswith('hermes_lifecycle.') or m in ('click', 'sqlite3')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env=hermes_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['hermes_lifecycle.cli', 'hermes_lifecycle.cli.hermes_plugin']"
