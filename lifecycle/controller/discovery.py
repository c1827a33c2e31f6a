"""Finding gateway processes of one profile and home in the process table.

The log knows the runs it recorded; an orphan from a crash or a second copy started by
hand may be unknown to it.  A process is a gateway of this profile when its command
line runs our ``gateway ... run`` (:mod:`hermes_lifecycle.command_line`: never hermes-agent's
own ``hermes gateway run``) and its ``--home``/``--profile`` (else its
``HERMES_HOME``/``HERMES_PROFILE``, else the defaults) resolve to this home and this
profile.  Other profiles' gateways are never returned, so nothing done to this profile
can reach them.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from hermes_lifecycle.command_line import (
    ENTRY_MODULES,
    HOME_OPTION,
    PROFILE_OPTION,
    named_scope,
    split_gateway_args,
)
from hermes_lifecycle.home import Home, resolve_home, split_profile_home
from hermes_lifecycle.platforms import Platform
from hermes_lifecycle.projection import StreamState


@dataclass(frozen=True)
class GatewayProcess:
    pid: int
    create_time: float
    cmdline: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "create_time": self.create_time, "cmdline": list(self.cmdline)}


def gateway_scope(cmdline: Iterable[str], environ: dict[str, str] | None = None,
                  cwd_of: Callable[[], str | None] = lambda: None) -> tuple[Path, str] | None:
    """(home, profile) a ``gateway run`` command line serves, or None if it is not one, or
    if its home is relative to a directory ``cwd_of()`` (the process's own, asked only
    then) cannot tell: resolved against ours, another home could pass for this one."""
    args = list(cmdline)
    if not any(os.path.basename(a).startswith("hermes") or a in ENTRY_MODULES for a in args[:4]):
        return None
    split = split_gateway_args(args)
    if split is None:
        return None
    group = split[0]
    env = environ or {}
    named_home, named_profile = named_scope(group)
    home = named_home or env.get("HERMES_HOME")
    profile = named_profile or env.get("HERMES_PROFILE") or None
    if not home:
        return _scope(_default_home(env), profile)
    path = Path(home).expanduser()
    if not path.is_absolute():
        cwd = cwd_of()
        if cwd is None:
            return None
        path = Path(cwd) / path
    return _scope(resolve_home(path), profile)


def _scope(home: Path, profile: str | None) -> tuple[Path, str] | None:
    """(root, profile) as the process resolved them: ``.../profiles/NAME`` is profile NAME."""
    from hermes_lifecycle.errors import InvalidProfileName

    try:
        return split_profile_home(home, profile)
    except InvalidProfileName:
        return None  # that process refused to start


def _default_home(env: dict[str, str]) -> Path:
    """The home of a process that named none (not ours: our HERMES_HOME is not its)."""
    from hermes_lifecycle.platforms import current_platform

    return current_platform().default_home(env).absolute()


def find_gateway_processes(home: Home, platform: Platform | None = None) -> list[GatewayProcess]:
    """Every live gateway process of ``home``'s profile, this process excluded.

    The scan reads command lines only; the few processes that look like gateways are
    asked their create time (and, if needed, environment) through the platform, which
    reads /proc on Linux: no psutil on the `status` path."""
    if platform is None:
        from hermes_lifecycle.platforms import current_platform

        platform = current_platform()
    wanted = (_real(home.root), home.profile)
    found = []
    for pid, cmdline in platform.process_command_lines():
        if pid == os.getpid() or "run" not in cmdline:
            continue
        cwd_of = functools.partial(platform.process_cwd, pid)
        scope = gateway_scope(cmdline, cwd_of=cwd_of)
        if scope is None or not _could_be(cmdline, scope, wanted):
            continue
        if _names_no_scope(cmdline):  # the environment decides what the command line left out
            scope = gateway_scope(cmdline, platform.process_environ(pid), cwd_of)
        if scope is None or (_real(scope[0]), scope[1]) != wanted:
            continue
        process = _identify(pid, cmdline, platform)
        if process is not None:
            found.append(process)
    return found


def _could_be(cmdline: list[str], scope: tuple[Path, str], wanted: tuple[str, str]) -> bool:
    """False when the command line itself names another home or profile (no need to read
    the process's environment, which costs a psutil import where there is no /proc)."""
    group = (split_gateway_args(cmdline) or ([], []))[0]
    named_home, named_profile = named_scope(group)
    if named_home is not None and _real(scope[0]) != wanted[0]:
        return False
    return named_profile is None or scope[1] == wanted[1]


def _names_no_scope(cmdline: list[str]) -> bool:
    joined = " ".join(cmdline)
    return HOME_OPTION not in joined or PROFILE_OPTION not in joined


def _identify(pid: int, cmdline: list[str], platform: Platform) -> GatewayProcess | None:
    created = platform.process_create_time(pid)  # None: gone meanwhile, or a zombie
    return None if created is None else GatewayProcess(pid, created, tuple(cmdline))


def find_strays(home: Home, current: StreamState, platform: Platform | None = None) -> list[GatewayProcess]:
    """Gateway processes of this profile that are not the run the log records as alive."""
    return [p for p in find_gateway_processes(home, platform)
            if not (p.pid == current.pid and current.create_time is not None
                    and abs(p.create_time - current.create_time) <= 0.5)]


def _real(path: Path) -> str:
    return os.path.realpath(path)
