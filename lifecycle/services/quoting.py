"""Windows command lines, for two different parsers.

A Startup-folder ``.cmd`` line is read by **cmd.exe** (``%`` expansion, ``^`` escapes,
``& | < > ( )`` operators outside quotes) before the program splits it with the C
runtime's rules.  A Scheduled Task's ``/TR`` value is never seen by cmd.exe: Task
Scheduler takes the quoted program path, and the program splits the rest with the C
runtime's rules (``CommandLineToArgvW``).  Escaping a ``/TR`` value for cmd.exe puts
stray carets and doubled percents into the gateway's arguments; not escaping a ``.cmd``
line lets ``&`` in a path start a second command.  Hence two helpers, never mixed.
"""

from __future__ import annotations

from typing import Sequence

from lifecycle.errors import QuotingError

_NEEDS_QUOTES = frozenset(' \t\n\v"')
_CMD_OPERATORS = frozenset("^&|<>()")
_UNREPRESENTABLE = frozenset("\r\n\0")


def windows_arg(arg: str) -> str:
    """One argument quoted so ``CommandLineToArgvW`` gives back exactly ``arg``.

    Backslashes are literal except before a double quote, where they must be doubled.
    """
    if "\0" in arg:
        raise QuotingError(f"argument {arg!r} contains a NUL character")
    if arg and not any(c in _NEEDS_QUOTES for c in arg):
        return arg
    out = ['"']
    backslashes = 0
    for char in arg:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + char)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def windows_program(path: str) -> str:
    """The program path, always quoted: the first token is split on quotes only, no escapes."""
    if '"' in path or any(c in _UNREPRESENTABLE for c in path):
        raise QuotingError(f"program path {path!r} cannot contain quotes or line breaks")
    return f'"{path}"'


def windows_arguments(args: Sequence[str]) -> str:
    """The argument tail of a command line (what a task's ``<Arguments>`` holds)."""
    return " ".join(windows_arg(a) for a in args)


def crt_command_line(argv: Sequence[str]) -> str:
    """Quoted program and C-runtime arguments: what the started program splits."""
    program, *args = argv
    if not args:
        return windows_program(program)
    return f"{windows_program(program)} {windows_arguments(args)}"


def schtasks_task_run(argv: Sequence[str]) -> str:
    """The ``/TR`` value (a task's Command plus Arguments).

    No cmd.exe escaping: Task Scheduler starts the program directly, so ``%``, ``^`` and
    ``&`` stay as they are.
    """
    return crt_command_line(argv)


def cmd_line(argv: Sequence[str]) -> str:
    """A line for a ``.cmd`` file that runs ``argv`` exactly.

    Built as the C-runtime command line, then escaped for cmd.exe: every ``%`` doubled
    (batch files expand ``%...%`` even inside quotes) and, where cmd.exe believes it is
    outside quotes (it toggles on every ``"``, even a backslash-escaped one), the
    operators ``^ & | < > ( )`` prefixed with ``^``.  Line breaks cannot be written.
    """
    for arg in argv:
        if any(c in _UNREPRESENTABLE for c in arg):
            raise QuotingError(f"argument {arg!r} contains a line break or NUL; a .cmd line cannot hold it")
    line = crt_command_line(argv)
    out = []
    in_quotes = False
    for char in line:
        if char == '"':
            in_quotes = not in_quotes
            out.append(char)
        elif char == "%":
            out.append("%%")
        elif not in_quotes and char in _CMD_OPERATORS:
            out.append("^" + char)
        else:
            out.append(char)
    return "".join(out)
