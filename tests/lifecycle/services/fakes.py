"""Stateful stand-ins for the service managers this machine cannot run (systemd's user
manager, launchd, Task Scheduler), answering through the RecordingRunner seam."""

from __future__ import annotations

import plistlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from hermes_lifecycle.platforms.runner import CommandResult, RecordingRunner


def answer(argv: tuple[str, ...], code: int = 0, stdout: str = "", stderr: str = "", **flags: bool) -> CommandResult:
    return CommandResult(argv, code, stdout, stderr, **flags)


@dataclass
class FakeSystemctl:
    """``systemctl --user`` and ``loginctl`` as far as the manager uses them."""

    enabled: set[str] = field(default_factory=set)
    active: set[str] = field(default_factory=set)
    linger: str = "yes"
    version: str = "systemd 252 (252.38-1~deb12u1)\n+PAM +AUDIT\n"
    fail: dict[str, CommandResult] = field(default_factory=dict)

    def __call__(self, argv: tuple[str, ...]) -> CommandResult:
        if argv[0] == "loginctl":
            if argv[1] == "enable-linger":
                self.linger = "yes"
                return answer(argv)
            return answer(argv, stdout=self.linger + "\n")
        if argv[1] == "--version":
            return answer(argv, stdout=self.version)
        verb, *rest = argv[2:]
        if verb in self.fail:
            return self.fail[verb]
        unit = rest[0] if rest else ""
        if verb == "is-enabled":
            return answer(argv, 0 if unit in self.enabled else 1, "enabled\n" if unit in self.enabled else "disabled\n")
        if verb == "is-active":
            return answer(argv, 0 if unit in self.active else 3, "active\n" if unit in self.active else "inactive\n")
        {"enable": self.enabled.add, "disable": self.enabled.discard,
         "start": self.active.add, "stop": self.active.discard}.get(verb, lambda _: None)(unit)
        return answer(argv)

    def runner(self) -> RecordingRunner:
        return RecordingRunner({("systemctl",): self, ("loginctl",): self})


@dataclass
class FakeLaunchctl:
    """``launchctl`` of one gui domain: loaded jobs and which of them run."""

    loaded: set[str] = field(default_factory=set)
    running: set[str] = field(default_factory=set)
    bootstrap_result: CommandResult | None = None

    def __call__(self, argv: tuple[str, ...]) -> CommandResult:
        verb = argv[1]
        if verb == "print":
            target = argv[2]
            if target not in self.loaded:
                return answer(argv, 113, stderr=f"Could not find service in domain\n")
            state = "running" if target in self.running else "not running"
            return answer(argv, stdout=f"{target} = {{\n\tstate = {state}\n}}\n")
        if verb == "bootstrap":
            if self.bootstrap_result is not None:
                return self.bootstrap_result
            label = Path(argv[3]).stem
            target = f"{argv[2]}/{label}"
            self.loaded.add(target)
            if runs_at_load(plistlib.loads(Path(argv[3]).read_bytes())):
                self.running.add(target)
            return answer(argv)
        if verb == "bootout":
            self.loaded.discard(argv[2])
            self.running.discard(argv[2])
        elif verb == "kickstart":
            self.running.add(argv[2])
        elif verb == "kill":
            self.running.discard(argv[3])
        return answer(argv)

    def runner(self) -> RecordingRunner:
        return RecordingRunner({("launchctl",): self})

    def log_in(self, home: Path, uid: int = 501) -> None:
        """What launchd does at login: load every agent in ``~/Library/LaunchAgents``."""
        for path in sorted((home / "Library" / "LaunchAgents").glob("*.plist")):
            self(("launchctl", "bootstrap", f"gui/{uid}", str(path)))


def runs_at_load(agent: dict) -> bool:
    """launchd.plist(5): ``KeepAlive.SuccessfulExit`` implies ``RunAtLoad`` (the job must run
    once to have an exit status), whatever ``RunAtLoad`` says."""
    keep_alive = agent.get("KeepAlive")
    return bool(agent.get("RunAtLoad")) or (isinstance(keep_alive, dict) and "SuccessfulExit" in keep_alive)


@dataclass
class FakeSchtasks:
    """Task Scheduler: tasks by name (their XML), which run, and how ``/Create`` answers."""

    tasks: dict[str, str] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    create_result: CommandResult | None = None

    def __call__(self, argv: tuple[str, ...]) -> CommandResult:
        verb = argv[1]
        name = argv[argv.index("/TN") + 1] if "/TN" in argv else ""
        if verb == "/Create":
            if self.create_result is not None:
                return self.create_result
            self.tasks[name] = Path(argv[argv.index("/XML") + 1]).read_text("utf-16")
            return answer(argv, stdout=f'SUCCESS: The scheduled task "{name}" has successfully been created.\n')
        if name not in self.tasks:
            return answer(argv, 1, stderr="ERROR: The system cannot find the file specified.\n")
        if verb == "/Query" and "/XML" in argv:
            return answer(argv, stdout=self.tasks[name])
        if verb == "/Query":
            status = "Running" if name in self.running else "Ready"
            return answer(argv, stdout=f'"\\{name}","N/A","{status}"\n')
        if verb == "/Run":
            self.running.add(name)
        elif verb == "/End":
            self.running.discard(name)
        elif verb == "/Delete":
            del self.tasks[name]
            self.running.discard(name)
        return answer(argv)

    def runner(self) -> RecordingRunner:
        return RecordingRunner({("schtasks",): self})


def calls_matching(runner: RecordingRunner, pattern: str) -> list[str]:
    """The recorded command lines (space-joined) that match ``pattern``."""
    return [line for line in (" ".join(c) for c in runner.calls) if re.search(pattern, line)]
