"""macOS: a launchd agent, ``~/Library/LaunchAgents/<label>.plist``, in the ``gui/<uid>`` domain.

``KeepAlive = {SuccessfulExit: false}`` revives the gateway after an unplanned exit and
leaves a planned stop (exit 0) down; ``ExitTimeOut`` exceeds the drain timeout so launchd
never kills it mid-drain.  ``stop`` signals the job and never boots it out, so ``start``
(``kickstart``) works after ``stop``.
"""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path
from typing import Any, Mapping

from lifecycle.errors import ServiceError
from lifecycle.home import Home
from lifecycle.platforms.runner import Runner
from lifecycle.services.base import (
    InstallOutcome, InstallPlan, Removal, ServiceManager, ServiceStatus, describe_failure, stale_reason,
    write_atomically,
)
from lifecycle.services.installed import INSTALL_HINTS

TRACK = "launchd-agent"
LABEL_PREFIX = "org.hermes.gateway."


class LaunchdAgentManager(ServiceManager):
    name = "launchd"

    def __init__(self, home: Home, runner: Runner, env: Mapping[str, str] | None = None,
                 uid: int | None = None) -> None:
        super().__init__(home, runner, env)
        self.uid = uid if uid is not None else os.getuid()

    @property
    def label(self) -> str:
        return LABEL_PREFIX + self.home.profile

    @property
    def plist_path(self) -> Path:
        return self.env_path("HOME") / "Library" / "LaunchAgents" / f"{self.label}.plist"

    @property
    def target(self) -> str:
        return f"gui/{self.uid}/{self.label}"

    def render(self, plan: InstallPlan) -> dict[str, Any]:
        log = str(self.home.stdio_log)
        return {
            "Label": self.label,
            "ProgramArguments": list(plan.command),
            "WorkingDirectory": plan.home,
            "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
            "RunAtLoad": plan.autostart,
            "KeepAlive": {"SuccessfulExit": False},
            "ExitTimeOut": plan.stop_timeout,
            "ProcessType": "Background",
            "StandardOutPath": log,
            "StandardErrorPath": log,
        }

    def _existing(self) -> dict[str, Any] | None:
        try:
            return plistlib.loads(self.plist_path.read_bytes())
        except FileNotFoundError:
            return None
        except (plistlib.InvalidFileException, ValueError):
            return {}

    def _loaded(self) -> bool:
        return self.run(["launchctl", "print", self.target]).ok

    def _bootstrap(self) -> None:
        result = self.run(["launchctl", "bootstrap", f"gui/{self.uid}", str(self.plist_path)])
        if not result.ok:
            raise ServiceError(
                f"launchd refused the agent: `launchctl bootstrap gui/{self.uid} {self.plist_path}` "
                f"{describe_failure(result)}; see `launchctl print {self.target}` and {self.home.stdio_log}")

    def install(self, plan: InstallPlan) -> InstallOutcome:
        self.verify_plan(plan)
        wanted = self.render(plan)
        found = self._existing()
        path = str(self.plist_path)
        if found == wanted:
            outcome = InstallOutcome(TRACK, path, False, f"already installed: {path}; nothing changed")
        else:
            replaced = None
            if found is not None:
                command = found.get("ProgramArguments") or []
                replaced = stale_reason(command, plan.command, self.owns_command(command))
                if self._loaded():
                    self.check(["launchctl", "bootout", self.target], "unloading the old agent", **self.stop_limits())
            self.plist_path.parent.mkdir(parents=True, exist_ok=True)
            self.home.ensure_private_dir(self.home.logs_dir)
            write_atomically(self.plist_path, plistlib.dumps(wanted).decode("utf-8"))
            verb = "replaced" if replaced else "installed"
            outcome = self.written = InstallOutcome(TRACK, path, True, f"{verb} {path}", replaced=replaced)
            if plan.start_now:
                self._bootstrap()  # with RunAtLoad this also starts it; without, kickstart below
                outcome.started = plan.autostart
            # not now: launchd loads the agent at the next login (RunAtLoad), or `start` does
        if plan.start_now and not self.is_running():
            self.start()
            outcome.started = True
        return outcome

    def uninstall(self) -> list[Removal]:
        found = self._existing()
        if found is None or not self.owns_command(found.get("ProgramArguments") or []):
            return []
        if self._loaded():
            self.check(["launchctl", "bootout", self.target], "unloading the agent", **self.stop_limits())
        self.plist_path.unlink()
        return [Removal(TRACK, str(self.plist_path))]

    def start(self) -> None:
        if not self._loaded():
            self._bootstrap()
        self.check(["launchctl", "kickstart", self.target], f"starting {self.label}")

    def stop(self) -> None:
        if self.is_running():
            self.check(["launchctl", "kill", "SIGTERM", self.target], f"stopping {self.label}")

    def is_installed(self) -> bool:
        found = self._existing()
        return found is not None and self.owns_command(found.get("ProgramArguments") or [])

    def is_running(self) -> bool:
        result = self.run(["launchctl", "print", self.target])
        return result.ok and re.search(r"^\s*state = running\s*$", result.stdout, re.MULTILINE) is not None

    def describe(self, drain_timeout: float) -> ServiceStatus:
        status = ServiceStatus(self.name, definition=str(self.plist_path))
        found = self._existing()
        if found is None:
            status.hints.append(INSTALL_HINTS[self.name])
            return status
        if not self.owns_command(found.get("ProgramArguments") or []):
            status.warnings.append(f"{self.plist_path} runs another home or profile; "
                                   "`hermes gateway install` here would replace it")
            return status
        status.track, status.installed = TRACK, True
        status.running = self.is_running()
        status.autostart = bool(found.get("RunAtLoad"))
        exit_timeout = found.get("ExitTimeOut", 20)
        if isinstance(exit_timeout, (int, float)) and exit_timeout <= drain_timeout:
            status.warnings.append(
                f"ExitTimeOut={exit_timeout}s is not longer than the drain timeout ({drain_timeout:g}s): "
                "launchd would kill the gateway mid-drain; run `hermes gateway install` to rewrite the agent")
        status.hints.append(f"inspect: launchctl print {self.target}; logs: {self.home.stdio_log}")
        return status
