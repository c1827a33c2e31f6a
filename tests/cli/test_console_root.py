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


def test_a_hidden_gateway_word_under_the_root_names_the_same_commands(home_dir: Path):
    """`hermes-lifecycle gateway run` / `hermes lifecycle gateway run` (the command line hermes-agent
    knows a gateway by): the same commands, its own --home/--profile winning, and not listed."""
    root_home = home_dir / "elsewhere"
    nested = _script("--home", str(root_home), "gateway", "--home", str(home_dir), "--profile", "work",
                     "status", "--json")
    assert nested.returncode == 3, nested.stderr  # status: not running (LSB)
    assert json.loads(nested.stdout)["profile"] == "work" and (home_dir / "profiles" / "work" / "state.db").is_file()
    profile_only = _script("--home", str(home_dir), "gateway", "--profile", "w2", "status", "--json")
    assert json.loads(profile_only.stdout)["profile"] == "w2" and (home_dir / "profiles" / "w2").is_dir()
    assert not root_home.exists()
    listed = _script("--help")
    assert listed.returncode == 0 and "  status " in listed.stdout and "  gateway " not in listed.stdout


def test_the_roots_color_choice_holds_under_the_hidden_gateway_word(home_dir: Path):
    """`--color` is the root's option; the hidden `gateway` word with its own --home keeps it."""
    painted = _script("--color", "always", "gateway", "--home", str(home_dir), "status")
    assert painted.returncode == 3, painted.stderr
    assert "\x1b[" in painted.stdout
    plain = _script("--color", "never", "gateway", "--home", str(home_dir), "status")
    assert plain.returncode == 3 and "\x1b[" not in plain.stdout and "gateway default:" in plain.stdout


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
