"""The README's exit-code tables, generated from :mod:`hermes_lifecycle.exit_codes` alone.

Each enum family is one table; each member's ``#:`` comment is its meaning.  A test compares
the README's block between ``<!-- exit-codes:begin -->`` and ``<!-- exit-codes:end -->`` with
:func:`markdown_tables`, so a code cannot change without its documentation.
"""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

from hermes_lifecycle import exit_codes
from hermes_lifecycle.exit_codes import CommandExit, GatewayExit, StatusExit

#: Each family and the heading of its table's first column, in the order the README shows them.
FAMILIES: tuple[tuple[type[IntEnum], str], ...] = (
    (GatewayExit, "from `run`"),
    (CommandExit, "from `start`, `stop`, `restart`, `wait`, `uninstall`"),
    (StatusExit, "from `status` (as `systemctl status` and LSB init scripts)"),
)

_MEMBER = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*=\s*\d+")
_COMMENT = re.compile(r"^\s*#:\s?(.*)$")


def meanings() -> dict[str, str]:
    """``Family.MEMBER`` -> its ``#:`` comment, read from the module's source."""
    found: dict[str, str] = {}
    family: str | None = None
    comment: list[str] = []
    for line in Path(exit_codes.__file__).read_text(encoding="utf-8").splitlines():
        if line.startswith("class "):
            family, comment = line[6:].split("(", 1)[0], []
        elif (match := _COMMENT.match(line)) is not None:
            comment.append(match.group(1))
        elif (match := _MEMBER.match(line)) is not None and family is not None:
            found[f"{family}.{match.group(1)}"] = " ".join(comment)
            comment = []
        else:
            comment = []
    return found


def markdown_tables() -> str:
    """One table per family: code and meaning (``double`` code spans written as `single`)."""
    texts = meanings()
    tables = []
    for family, heading in FAMILIES:
        lines = [f"| code | {heading} |", "| --- | --- |"]
        for member in family:
            meaning = texts.get(f"{family.__name__}.{member.name}", "").replace("``", "`")
            lines.append(f"| {int(member)} | {meaning} |")
        tables.append("\n".join(lines) + "\n")
    return "\n".join(tables)
