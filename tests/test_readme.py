"""The README is part of the contract: every command and option documented, the table generated."""

from __future__ import annotations

import importlib
import re

import click
import pytest

from cli.main import GATEWAY_COMMANDS, gateway
from lifecycle.diagram import markdown_table
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _load(target: str) -> click.Command:
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def _commands() -> list[tuple[str, click.Command]]:
    """(``hermes gateway ...`` path, command) for every registered command and sub-command."""
    found = [("", gateway)]
    pending = [(name, _load(target)) for name, target in GATEWAY_COMMANDS.items()]
    while pending:
        path, command = pending.pop()
        found.append((path, command))
        if isinstance(command, click.Group):
            pending += [(f"{path} {name}", sub) for name, sub in command.commands.items()]
    return found


def _options() -> list[tuple[str, str]]:
    return [(path or "gateway", opt) for path, command in _commands() for param in command.params
            if isinstance(param, click.Option) for opt in param.opts + param.secondary_opts]


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _section(path: str) -> str:
    """The README text under the heading of ``hermes gateway PATH`` (its parent's, for a sub-command).

    Options are looked up there, so `--timeout` documented for `stop` does not cover `wait`.
    """
    words = path.split()
    while words:
        heading = re.search(rf"^#+ `hermes gateway {re.escape(' '.join(words))}(?![\w-])[^\n]*$", README, re.M)
        if heading:
            rest = README[heading.end():]
            following = re.search(r"^#{1,3} ", rest, re.M)
            return heading.group(0) + (rest[:following.start()] if following else rest)
        words.pop()
    return ""


@pytest.mark.parametrize("path", [p for p, _ in _commands() if p], ids=str)
def test_every_command_has_a_readme_heading(path):
    assert _section(path), f"README.md has no heading for `hermes gateway {path}`"


@pytest.mark.parametrize(("path", "option"), _options(), ids=lambda v: str(v))
def test_every_option_of_every_command_is_in_its_readme_section(path, option):
    where = README if path == "gateway" else _section(path)
    assert _mentions(where, option), f"option {option} of `hermes gateway {path}` is not in its README section"


def test_the_machine_table_in_the_readme_is_the_generated_one():
    begin, end = "<!-- machine-table:begin -->\n", "<!-- machine-table:end -->"
    table = README[README.index(begin) + len(begin):README.index(end)]
    assert table == markdown_table(), "regenerate it: hermes gateway diagram --format markdown"


def test_set_up_is_exactly_two_commands():
    section = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", section, flags=re.S)
    commands = [line for block in blocks for line in block.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2, commands
    assert all(c.lstrip().startswith("python3 ") for c in commands), "a fresh machine only has python3"


def test_ci_runs_the_readmes_test_command():
    test_command = [c for c in re.findall(r"^python3 (\S+)", README, flags=re.M) if "test" in c]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command and f"python3 {test_command[0]}" in ci
