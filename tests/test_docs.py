"""The README and docs/ are part of the contract: every command and option documented, every generated
block current, every link resolving."""

from __future__ import annotations

import importlib
import re

import click
import pytest

from hermes_lifecycle.cli.main import GATEWAY_COMMANDS, gateway
from hermes_lifecycle.history.diagram import markdown_table
from hermes_lifecycle.history.exit_table import markdown_tables
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {path: path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md"))}
COMMANDS_PAGE = DOCS[ROOT / "docs" / "commands.md"]


def _load(target: str) -> click.Command:
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def _commands() -> list[tuple[str, click.Command]]:
    """(``hermes-lifecycle ...`` path, command) for every registered command and sub-command."""
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
    """The text of docs/commands.md under the heading of ``hermes-lifecycle PATH`` (its parent's, for a
    sub-command).

    Options are looked up there, so `--timeout` documented for `stop` does not cover `wait`.
    """
    words = path.split()
    while words:
        heading = re.search(rf"^#+ `hermes-lifecycle {re.escape(' '.join(words))}(?![\w-])[^\n]*$", COMMANDS_PAGE, re.M)
        if heading:
            rest = COMMANDS_PAGE[heading.end():]
            following = re.search(r"^#{1,3} ", rest, re.M)
            return heading.group(0) + (rest[:following.start()] if following else rest)
        words.pop()
    return ""


@pytest.mark.parametrize("path", [p for p, _ in _commands() if p], ids=str)
def test_every_command_has_a_heading_in_the_commands_page(path):
    assert _section(path), f"docs/commands.md has no heading for `hermes-lifecycle {path}`"


@pytest.mark.parametrize("name", sorted(GATEWAY_COMMANDS))
def test_every_command_is_in_the_readmes_index(name):
    index = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    assert f"[`{name}`](docs/commands.md#" in index, f"the README's command index does not list `{name}`"


@pytest.mark.parametrize(("path", "option"), _options(), ids=lambda v: str(v))
def test_every_option_of_every_command_is_in_its_section_of_the_commands_page(path, option):
    where = COMMANDS_PAGE.split("\n## ", 1)[0] if path == "gateway" else _section(path)
    assert _mentions(where, option), f"option {option} of `hermes-lifecycle {path}` is not in its docs/commands.md section"


def test_the_machine_table_in_the_readme_is_the_generated_one():
    begin, end = "<!-- machine-table:begin -->\n", "<!-- machine-table:end -->"
    table = README[README.index(begin) + len(begin):README.index(end)]
    assert table == markdown_table(), "regenerate it: hermes-lifecycle diagram --format markdown"


def test_the_exit_code_tables_in_the_readme_are_the_generated_ones():
    begin, end = "<!-- exit-codes:begin -->\n", "<!-- exit-codes:end -->"
    tables = README.split(begin, 1)[1].split(end, 1)[0]
    assert tables == markdown_tables(), "regenerate them from lifecycle/exit_codes.py (history.exit_table)"


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


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, blanks to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    return {_anchor(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_every_relative_link_resolves_to_a_file_and_heading(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # an outside address
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text(encoding="utf-8")):
            broken.append(target)
    assert broken == []
