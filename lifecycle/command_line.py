"""The ``hermes-lifecycle ... run`` command line, built and parsed in one place.

The controller spawns it, a service definition runs it, discovery recognises it in a
process list, and a restart reads a run's own options back from it: all of them agree on
its shape because all of them use this module.  The CLI module is named here as a string,
so nothing below the CLI imports the CLI to run it.
"""

from __future__ import annotations

import os
from typing import Sequence

#: The command people type for our gateway commands (the console script, whose root is the
#: ``gateway`` group): every hint the engine prints spells a command with it, because a plain
#: ``hermes gateway ...`` is hermes-agent's own gateway.  Inside Hermes, with the plugin, the
#: same commands are also ``hermes lifecycle ...``.
CLI = "hermes-lifecycle"
#: The module ``python -m`` runs to be ``hermes`` (the console script's entry point).
CLI_MODULE = "hermes_lifecycle.cli.main"
#: The module a Windows gateway runs to point its own output at the sidecar log.
SIDECAR_MODULE = "hermes_lifecycle.controller.sidecar"
#: Either module names a hermes process in a ``python -m ...`` command line.
ENTRY_MODULES = (CLI_MODULE, SIDECAR_MODULE)
#: The ``gateway`` group's options that take a value (``--home DIR``, ``--profile NAME``).
HOME_OPTION, PROFILE_OPTION = "--home", "--profile"
GROUP_OPTIONS_WITH_VALUES = (HOME_OPTION, PROFILE_OPTION)

def gateway_args(home_root: str, profile: str, command: str = "run", args: Sequence[str] = ()) -> list[str]:
    """``gateway --home DIR --profile NAME COMMAND ARGS``: the home and profile are always named,
    so the process serves exactly the profile that asked and discovery can tell whose it is."""
    return ["gateway", HOME_OPTION, home_root, PROFILE_OPTION, profile, command, *args]


def gateway_arguments(home_root: str, profile: str) -> tuple[str, ...]:
    """What follows the interpreter in a service definition: the CLI running one profile's gateway."""
    return ("-m", CLI_MODULE, *gateway_args(home_root, profile))


def python_argv(python: str, hermes_args: Sequence[str]) -> list[str]:
    """``python -m hermes_lifecycle.cli.main HERMES-ARGS``."""
    return [python, "-m", CLI_MODULE, *hermes_args]


def sidecar_argv(python: str, log_path: str, hermes_args: Sequence[str]) -> list[str]:
    """``python -m hermes_lifecycle.controller.sidecar LOG -- HERMES-ARGS``."""
    return [python, "-m", SIDECAR_MODULE, log_path, "--", *hermes_args]


#: The word that names the group of the gateway commands after the CLI module, and again
#: (hidden) under the ``lifecycle`` root: ``hermes lifecycle gateway run``.
GATEWAY_GROUP = "gateway"


def _group_at(args: list[str]) -> tuple[int, bool] | None:
    """(where the group of our gateway commands is named, whether that is the ``lifecycle``
    root, under which the word ``gateway`` names the same group again), or None.

    Ours are ``... hermes_lifecycle.cli.main gateway``, the sidecar's ``... -- gateway``, the
    ``hermes-lifecycle`` script (whose root is that group) and ``hermes lifecycle`` (the
    hermes-agent plugin).  A plain ``hermes gateway`` is hermes-agent's own gateway (``hermes``
    is hermes-agent's script): never ours, so never a stray of ours to signal."""
    for i, arg in enumerate(args[:8]):
        if arg == CLI_MODULE:
            return (i + 1, False) if args[i + 1:i + 2] == [GATEWAY_GROUP] else None
        if arg == SIDECAR_MODULE:
            at = args.index("--", i) + 1 if "--" in args[i:] else len(args)
            return (at, False) if args[at:at + 1] == [GATEWAY_GROUP] else None
        name = os.path.basename(arg).lower()
        if name.startswith("hermes-lifecycle"):
            return i, True
        if name in ("hermes", "hermes.exe") and args[i + 1:i + 2] == ["lifecycle"]:
            return i + 1, True
    return None


def split_gateway_args(cmdline: tuple[str, ...] | list[str] | None) -> tuple[list[str], list[str]] | None:
    """(group options, run options) of ``... gateway [GROUP-OPTIONS] run [RUN-OPTIONS]`` (or
    ``hermes-lifecycle [GROUP-OPTIONS] [gateway [GROUP-OPTIONS]] run ...``, ``hermes lifecycle
    ...`` alike), or None if the command line is no gateway run of ours.  The subcommand is the
    first word after the group that is neither an option nor an option's value: a profile or
    home named ``run`` is not it."""
    args = list(cmdline or ())
    found = _group_at(args)
    if found is None:
        return None
    at, alias_allowed = found
    i = at + 1
    while i < len(args):
        if args[i] in GROUP_OPTIONS_WITH_VALUES:
            i += 2
        elif args[i].startswith("-"):
            i += 1
        elif alias_allowed and args[i] == GATEWAY_GROUP:  # `hermes lifecycle gateway ...`: the same group
            alias_allowed = False
            i += 1
        else:
            return (args[at + 1:i], args[i + 1:]) if args[i] == "run" else None
    return None


def run_args_of(cmdline: tuple[str, ...] | list[str] | None) -> list[str]:
    """The options after ``gateway ... run`` in a gateway's command line."""
    split = split_gateway_args(cmdline)
    return split[1] if split else []


def option_value(args: Sequence[str], name: str) -> str | None:
    """The value of ``name VALUE`` or ``name=VALUE`` among ``args``, if given; the last one
    wins, as in click (``hermes lifecycle --home A gateway --home B`` is B)."""
    found = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(name + "="):
            found = arg[len(name) + 1:]
    return found


def named_scope(group_args: Sequence[str]) -> tuple[str | None, str | None]:
    """(home, profile) the ``gateway`` group's options name, each None where not given."""
    return option_value(group_args, HOME_OPTION), option_value(group_args, PROFILE_OPTION)


def drain_timeout_option(run_args: Sequence[str]) -> float | None:
    """The run's own ``--drain-timeout``, if its options gave a number."""
    value = option_value(run_args, "--drain-timeout")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def stop_hook_command(command: Sequence[str]) -> tuple[str, ...]:
    """A service's ExecStop=/ExecStopPost= command: the gateway's own command line (as
    :func:`gateway_arguments` builds it) with ``stop --from-service-manager`` in place of
    ``run`` (same interpreter, home, profile)."""
    words = list(command)
    at = words.index(PROFILE_OPTION) + 2 if PROFILE_OPTION in words else len(words)
    if at >= len(words) or words[at] != "run":
        raise ValueError(f"not a gateway run command line: {tuple(command)!r}")
    return (*words[:at], "stop", "--from-service-manager")
