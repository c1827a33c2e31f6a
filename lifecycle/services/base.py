"""What every service manager provides, and the install plan that drives it.

The plan is decided once (profile, home, interpreter, arguments, start now, start at
logon, drain timeout), saved as JSON in the home and carried in the
``service_installed`` event, so a second process (say, one started after an elevation
handoff) executes the same decisions instead of re-parsing flags.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from hermes_lifecycle.command_line import CLI, HOME_OPTION, PROFILE_OPTION, gateway_arguments
from hermes_lifecycle.errors import HermesError, ServiceError, ServiceLocationError, UsageError
from hermes_lifecycle.home import Home, validate_profile
from hermes_lifecycle.platforms.runner import CommandResult, Runner

#: Seconds a service manager waits beyond the drain timeout before it kills: the
#: gateway needs a moment after the drain to append ``drained`` and exit.
STOP_GRACE_SECONDS = 15
PLAN_VERSION = 1


@dataclass(frozen=True)
class Limits:
    """How long a manager's command may run (``timeout``) and stay silent (``idle_timeout``)."""

    timeout: float
    idle_timeout: float


def stop_timeout_seconds(drain_timeout: float) -> int:
    """The service manager's stop timeout: always longer than the drain."""
    return int(math.ceil(drain_timeout)) + STOP_GRACE_SECONDS


@dataclass(frozen=True)
class InstallPlan:
    """Every decision ``install`` makes, before anything is touched."""

    profile: str
    home: str
    interpreter: str
    argv: tuple[str, ...]
    autostart: bool = True
    start_now: bool = True
    drain_timeout: float = 30.0

    @classmethod
    def for_home(cls, home: Home, *, drain_timeout: float, autostart: bool = True, start_now: bool = True,
                 interpreter: str | None = None) -> "InstallPlan":
        interpreter = interpreter or sys.executable
        return cls(home.profile, str(home.root), interpreter, gateway_arguments(str(home.root), home.profile),
                   autostart, start_now, float(drain_timeout))

    @property
    def command(self) -> tuple[str, ...]:
        return (self.interpreter, *self.argv)

    @property
    def stop_timeout(self) -> int:
        return stop_timeout_seconds(self.drain_timeout)

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["argv"] = list(self.argv)
        return {"plan_version": PLAN_VERSION, **document}

    @classmethod
    def from_json(cls, document: Any) -> "InstallPlan":
        """A plan read back; anything malformed is a usage error naming the field."""
        if not isinstance(document, dict) or document.get("plan_version") != PLAN_VERSION:
            raise UsageError(f"not an install plan of version {PLAN_VERSION}")
        expected: dict[str, type | tuple[type, ...]] = {"profile": str, "home": str, "interpreter": str, "argv": list,
                    "autostart": bool, "start_now": bool, "drain_timeout": (int, float)}
        for key, kind in expected.items():
            if not isinstance(document.get(key), kind) or (key == "drain_timeout" and isinstance(document[key], bool)):
                raise UsageError(f"install plan: field {key!r} is missing or has the wrong type")
        if not all(isinstance(a, str) for a in document["argv"]):
            raise UsageError("install plan: field 'argv' must be a list of strings")
        validate_profile(document["profile"])
        return cls(document["profile"], document["home"], document["interpreter"], tuple(document["argv"]),
                   document["autostart"], document["start_now"], float(document["drain_timeout"]))

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(path, json.dumps(self.to_json(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> "InstallPlan":
        """A saved plan: a regular file of at most :data:`MAX_PLAN_BYTES` (``/dev/zero``, a FIFO or
        a huge file is refused in one line before anything is read without bound)."""
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer before it can be refused
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
            with open(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise UsageError(f"install plan {path} is not a regular file; pass the plan file "
                                     f"`{CLI} install` saved")
                data = f.read(MAX_PLAN_BYTES + 1)
            if len(data) > MAX_PLAN_BYTES:
                raise UsageError(f"install plan {path} is larger than {MAX_PLAN_BYTES // 1024} KiB; "
                                 "a saved plan is a few hundred bytes")
            return cls.from_json(json.loads(data.decode("utf-8")))
        except (OSError, ValueError, RecursionError) as exc:
            if isinstance(exc, UsageError):
                raise
            raise UsageError(f"cannot read install plan {path}: {exc}") from None


#: A saved plan is a few hundred bytes; anything far larger is not one.
MAX_PLAN_BYTES = 64 * 1024


@dataclass
class InstallOutcome:
    """What ``install`` did: ``changed`` is False for a no-op."""

    track: str
    definition: str
    changed: bool
    message: str
    replaced: str | None = None
    started: bool = False
    fallback_reason: str | None = None
    #: ``install --linger`` turned lingering on (systemd).
    linger_enabled: bool = False


@dataclass(frozen=True)
class Removal:
    track: str
    definition: str


@dataclass
class ServiceStatus:
    """The service line(s) of ``status``."""

    manager: str
    track: str | None = None
    definition: str | None = None
    installed: bool = False
    running: bool | None = None
    autostart: bool | None = None
    warnings: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def warn_foreign(self, definition: object) -> None:
        """A definition of this name that another home or profile installed: say that ours
        would replace it (the same words from every manager)."""
        self.warnings.append(f"{definition} runs another home or profile; "
                             f"`{CLI} install` here would replace it")


def write_atomically(path: Path, text: str, *, encoding: str = "utf-8", newline: str | None = None) -> None:
    """Write through a temporary sibling and rename, so a crash never leaves half a definition."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding=encoding, newline=newline) as handle:
        handle.write(text)
    os.replace(temporary, path)


def command_record(result: CommandResult) -> dict[str, Any]:
    record: dict[str, Any] = {"argv": list(result.argv), "returncode": result.returncode}
    if result.timed_out:
        record["timed_out"] = True
    if result.went_silent:
        record["went_silent"] = True
    return record


def describe_failure(result: CommandResult) -> str:
    if result.timed_out:
        return "timed out"
    if result.went_silent:
        return "produced no output past the cutoff and was stopped"
    detail = (result.stderr or result.stdout).strip().splitlines()
    return f"exited {result.returncode}" + (f": {detail[-1]}" if detail else "")


def stale_reason(found: Sequence[str], wanted: Sequence[str], owned: bool) -> str:
    """Why an existing definition differs from the plan, in words."""
    if not owned:
        return "it ran another home or profile"
    if not found or found[0] != wanted[0]:
        return "it ran another interpreter"
    if tuple(found[1:]) != tuple(wanted[1:]):
        return "it ran other arguments"
    return "its settings differed"


class ServiceManager(ABC):
    """One OS service manager, for the gateway of one home and profile.

    Paths come from ``env`` (``HOME``, ``XDG_CONFIG_HOME``, ``APPDATA``...), never from a
    hard-coded home, so tests run every manager under a temporary HOME.  Every external
    command goes through ``runner`` and is kept in :attr:`commands` for the event log.
    """

    name = "abstract"
    #: How this platform's shell writes a variable, for messages.
    env_reference = "${}"

    def __init__(self, home: Home, runner: Runner, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.runner = runner
        self.env: dict[str, str] = dict(os.environ if env is None else env)
        self.commands: list[dict[str, Any]] = []
        #: Set by ``install`` once a definition is written, so a later failing step
        #: (reload, enable, start) cannot hide that the system was changed.
        self.written: InstallOutcome | None = None

    def run(self, argv: Sequence[str], *, cwd: str | None = None, limits: Limits | None = None) -> CommandResult:
        if limits is None:
            result = self.runner.run(argv, cwd=cwd or None)
        else:
            result = self.runner.run(argv, cwd=cwd or None, timeout=limits.timeout, idle_timeout=limits.idle_timeout)
        self.commands.append({**command_record(result), **({"cwd": cwd} if cwd else {})})
        return result

    def check(self, argv: Sequence[str], what: str, *, cwd: str | None = None,
              limits: Limits | None = None) -> CommandResult:
        """Run ``argv``; a failure is a :class:`ServiceError`, never silently ignored."""
        result = self.run(argv, cwd=cwd, limits=limits)
        if not result.ok:
            raise ServiceError(f"{what} failed: `{' '.join(result.argv)}` {describe_failure(result)}")
        return result

    def stop_limits(self) -> Limits:
        """Limits for a command that waits silently while the gateway drains (``systemctl
        stop``, ``launchctl bootout``): both cutoffs beyond the manager's stop timeout, so a
        drain is never mistaken for a hung command."""
        from hermes_lifecycle.config import DEFAULT_DRAIN_TIMEOUT, drain_timeout

        try:
            drain = drain_timeout(self.home)
        except HermesError:
            drain = DEFAULT_DRAIN_TIMEOUT
        limit = float(stop_timeout_seconds(drain) + STOP_GRACE_SECONDS)
        return Limits(timeout=limit, idle_timeout=limit)

    def env_path(self, name: str) -> Path:
        value = self.env.get(name)
        if not value:
            raise ServiceLocationError(f"{self.env_reference.format(name)} is not set; "
                               f"cannot locate the {self.name} service files")
        return Path(value)

    def owns_command(self, argv: Sequence[str]) -> bool:
        """True when a definition's command runs the gateway of *this* home and profile."""
        argv = list(argv)
        for flag, wanted in ((HOME_OPTION, str(self.home.root)), (PROFILE_OPTION, self.home.profile)):
            if flag not in argv or argv.index(flag) + 1 >= len(argv) or argv[argv.index(flag) + 1] != wanted:
                return False
        return True

    def verify_plan(self, plan: InstallPlan) -> None:
        """A plan for another home or profile must not be installed under this one's name."""
        if (plan.home, plan.profile) != (str(self.home.root), self.home.profile):
            raise UsageError(f"the install plan is for home {plan.home} profile {plan.profile}, "
                             f"not home {self.home.root} profile {self.home.profile}")
        if not self.owns_command(plan.argv):  # else `uninstall` here would not know it as ours
            raise UsageError(f"the install plan's arguments do not run home {self.home.root} "
                             f"profile {self.home.profile}: {' '.join(plan.argv)}")

    def enable_linger(self) -> None:
        """Keep the user's service manager running without a login (systemd's lingering)."""
        raise UsageError(f"--linger is for systemd user units; {self.name} has no lingering")

    def boot_note(self, autostart: bool) -> str | None:
        """Whether the installed gateway starts at boot without a login, where that differs
        from "at logon" (systemd's lingering); None where it does not."""
        return None

    @abstractmethod
    def install(self, plan: InstallPlan) -> InstallOutcome:
        """Write or replace the definition, enable autostart as planned, start if planned."""

    @abstractmethod
    def uninstall(self) -> list[Removal]:
        """Remove every track that belongs to this home and profile, and nothing else."""

    @abstractmethod
    def start(self) -> None:
        """Ask the manager to start the installed gateway; failures raise ServiceError."""

    @abstractmethod
    def stop(self) -> None:
        """The manager's stop, after the controller's request and drain; never unregisters."""

    @abstractmethod
    def is_installed(self) -> bool:
        """A definition belonging to this home and profile exists."""

    @abstractmethod
    def is_running(self) -> bool | None:
        """Whether the manager runs it now (None when the track cannot tell)."""

    @abstractmethod
    def describe(self, drain_timeout: float) -> ServiceStatus:
        """What ``status`` shows, with warnings and hints that fit this platform."""
