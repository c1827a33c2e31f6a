"""Windows command lines, for two different parsers.

A Startup-folder ``.cmd`` line is read by **cmd.exe** (``%`` expansion, ``^`` escapes,
``& | < > ( )`` operators outside quotes) before the program splits it with the C
runtime's rules.  A Scheduled Task's ``/TR`` value is never seen by cmd.exe: Task
Scheduler takes the quoted program path, replaces ``%NAME%`` of any variable defined at
logon in the program and in the arguments (``ExpandEnvironmentStrings``, which has no
escape), and the program splits the rest with the C runtime's rules
(``CommandLineToArgvW``).  Escaping a ``/TR`` value for cmd.exe puts stray carets and
doubled percents into the gateway's arguments; not escaping a ``.cmd`` line lets ``&`` in
a path start a second command.  Hence two helpers, never mixed.
"""

from __future__ import annotations

from typing import Sequence

from hermes_lifecycle.errors import QuotingError

_NEEDS_QUOTES = frozenset(' \t\n\v"')
_CMD_OPERATORS = frozenset("^&|<>()")
_UNREPRESENTABLE = frozenset("\r\n\0")


def windows_arg(arg: str, *, shield_percent: bool = False) -> str:
    """One argument quoted so ``CommandLineToArgvW`` gives back exactly ``arg``.

    Backslashes are literal except before a double quote, where they must be doubled.
    With ``shield_percent`` every ``%`` is written ``"%"`` (leave the quotes, the percent,
    enter them again: the C runtime drops both quotes, in or out of quotes), so no
    ``%NAME%`` survives for Task Scheduler to expand: each name would start with a quote.
    """
    if "\0" in arg:
        raise QuotingError(f"argument {arg!r} contains a NUL character")
    if arg and not any(c in _NEEDS_QUOTES for c in arg) and not (shield_percent and "%" in arg):
        return arg
    out = ['"']
    backslashes = 0
    for char in arg:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        elif char == "%" and shield_percent:
            out.append("\\" * (2 * backslashes) + '"%"')
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
    """The argument tail of a command line the C runtime splits (no variable expansion)."""
    return " ".join(windows_arg(a) for a in args)


def task_arguments(args: Sequence[str]) -> str:
    """A task's ``<Arguments>`` (the ``/TR`` tail): C-runtime quoting, ``%`` shielded from
    Task Scheduler's variable expansion."""
    return " ".join(windows_arg(a, shield_percent=True) for a in args)


def task_program(path: str) -> str:
    """A task's ``<Command>``: the path as it is; refused where Task Scheduler could expand
    a ``%NAME%`` in it (a path cannot carry the quotes that shield an argument)."""
    windows_program(path)
    if path.count("%") >= 2:
        raise QuotingError(f"program path {path!r} holds %...%, which Task Scheduler would expand "
                           "as a variable; install from an interpreter whose path has no percent signs")
    return path


def crt_command_line(argv: Sequence[str]) -> str:
    """Quoted program and C-runtime arguments: what the started program splits."""
    program, *args = argv
    if not args:
        return windows_program(program)
    return f"{windows_program(program)} {windows_arguments(args)}"


def schtasks_task_run(argv: Sequence[str]) -> str:
    """The ``/TR`` value (a task's Command plus Arguments).

    No cmd.exe escaping: Task Scheduler starts the program directly, so ``^`` and ``&``
    stay as they are; only ``%`` is shielded from its variable expansion.
    """
    program, *args = argv
    quoted = windows_program(task_program(program))
    return f"{quoted} {task_arguments(args)}" if args else quoted


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
