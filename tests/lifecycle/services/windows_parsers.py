"""Small, faithful models of the Windows parsers our quoting helpers write for.

- :func:`crt_split_args`: how a C-runtime program (python.exe, schtasks.exe) splits its
  argument tail (the rules of ``CommandLineToArgvW`` / msvcrt since 2008).
- :func:`crt_split_program`: how the first token (the program) is taken: up to the next
  quote when quoted, no escapes; Task Scheduler splits ``/TR`` the same way.
- :func:`expand_environment_strings`: what Task Scheduler does to a task's Command and
  Arguments before it starts the program (``ExpandEnvironmentStrings``: ``%NAME%`` of a
  defined variable is replaced, there is no escape); :data:`ANY_VARIABLE` is a logon
  environment that defines every ordinary name, so a test cannot pass by luck.
- :func:`task_scheduler_argv`: a task's Command and Arguments as the started program sees them.
- :func:`cmd_batch_line`: what cmd.exe makes of one line of a ``.cmd`` file before it runs
  the command: percent expansion (phase 1), then quotes, carets and operators (phase 2).
  Anything the helper must never produce (an unescaped operator, a batch parameter, a
  trailing caret) raises :class:`ParserTrap` instead of guessing.
"""

from __future__ import annotations


class ParserTrap(AssertionError):
    """The line would not run as one plain command."""


def crt_split_args(line: str) -> list[str]:
    args: list[str] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            return args
        arg: list[str] = []
        in_quotes = False
        while i < n:
            char = line[i]
            if char == "\\":
                j = i
                while j < n and line[j] == "\\":
                    j += 1
                count = j - i
                if j < n and line[j] == '"':
                    arg.append("\\" * (count // 2))
                    if count % 2:
                        arg.append('"')
                        j += 1
                    i = j
                else:
                    arg.append("\\" * count)
                    i = j
                continue
            if char == '"':
                if in_quotes and i + 1 < n and line[i + 1] == '"':
                    arg.append('"')  # msvcrt 2008+: "" inside quotes is a literal quote
                    i += 2
                    continue
                in_quotes = not in_quotes
                i += 1
                continue
            if char in " \t" and not in_quotes:
                break
            arg.append(char)
            i += 1
        args.append("".join(arg))


def crt_split_program(line: str) -> tuple[str, str]:
    """(program, argument tail)."""
    if line.startswith('"'):
        end = line.index('"', 1)
        program, rest = line[1:end], line[end + 1:]
    else:
        cut = len(line)
        for index, char in enumerate(line):
            if char in " \t":
                cut = index
                break
        program, rest = line[:cut], line[cut:]
    return program, rest.lstrip(" \t")


def crt_argv(line: str) -> list[str]:
    program, rest = crt_split_program(line)
    return [program, *crt_split_args(rest)]


class _AnyVariable:
    """A logon environment where every name that a user or installer could set is defined
    (case-insensitively, as on Windows); only an empty name or one holding a double quote
    is not."""

    def get(self, name: str, default: str | None = None) -> str | None:
        if not name or '"' in name:
            return default
        return f"<value of {name.upper()}>"


ANY_VARIABLE = _AnyVariable()


def expand_environment_strings(text: str, env=ANY_VARIABLE) -> str:
    """``%NAME%`` of a defined variable becomes its value; an undefined one stays as it is,
    and scanning resumes right after its first ``%`` (so that ``%`` may open the next name)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        end = text.find("%", i + 1) if text[i] == "%" else -1
        if end != -1:
            value = env.get(text[i + 1:end])
            if value is not None:
                out.append(value)
                i = end + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def task_scheduler_argv(command: str, arguments: str, env=ANY_VARIABLE) -> list[str]:
    """A task's Exec action as the program's C runtime splits it: both fields expanded
    (separately), the program quoted by Task Scheduler, the arguments split by the CRT."""
    return [expand_environment_strings(command, env), *crt_split_args(expand_environment_strings(arguments, env))]


def cmd_batch_line(line: str, env: dict[str, str] | None = None) -> str:
    env = env or {}
    expanded: list[str] = []
    i = 0
    while i < len(line):
        char = line[i]
        if char != "%":
            expanded.append(char)
            i += 1
            continue
        following = line[i + 1: i + 2]
        if following == "%":
            expanded.append("%")
            i += 2
            continue
        if following.isdigit() or following in ("~", "*"):
            raise ParserTrap(f"batch parameter %{following} in {line!r}")
        end = line.find("%", i + 1)
        if end == -1:
            i += 1  # a lone percent vanishes
            continue
        expanded.append(env.get(line[i + 1:end], ""))  # undefined variables expand to nothing
        i = end + 1
    text = "".join(expanded)
    result: list[str] = []
    in_quotes = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            in_quotes = not in_quotes
            result.append(char)
        elif in_quotes:
            result.append(char)
        elif char == "^":
            if i + 1 >= len(text):
                raise ParserTrap(f"trailing caret continues the line: {line!r}")
            i += 1
            result.append(text[i])
        elif char in "&|<>()":
            raise ParserTrap(f"unescaped {char!r} outside quotes in {line!r}")
        else:
            result.append(char)
        i += 1
    return "".join(result)
