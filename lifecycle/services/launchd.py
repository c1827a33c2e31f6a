"""macOS: a launchd agent, ``~/Library/LaunchAgents/<label>.plist``, in the ``gui/<uid>`` domain.

``KeepAlive = {SuccessfulExit: false}`` revives the gateway after an unplanned exit and
leaves a planned stop (exit 0) down.  launchd cannot be told to leave one non-zero code down
(systemd's ``RestartPreventExitStatus``), so the agent sets ``HERMES_SERVICE_MANAGER=launchd``
and the gateway ends a fatal configuration with exit 0 there (:mod:`runtime.fatal_exit`), the
reason recorded in ``start_failed``.  ``ExitTimeOut`` exceeds the drain timeout so launchd
never kills it mid-drain.  ``stop`` signals the job and never boots it out, so ``start``
(``kickstart``) works after ``stop``.

``SuccessfulExit`` implies ``RunAtLoad`` (launchd.plist(5): the job must run once to have an
exit status), so ``RunAtLoad = false`` alone would not keep the gateway from starting at
login.  Without autostart the agent therefore lives in the home
(``HOME/services/<label>.plist``), where launchd never loads it by itself; ``start`` does.
"""

from __future__ import annotations

import plistlib
import re
from pathlib import Path
from typing import Any, Mapping

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.errors import ServiceError
from hermes_lifecycle.home import Home
from hermes_lifecycle.platforms.posix import user_id
from hermes_lifecycle.platforms.runner import Runner
from hermes_lifecycle.runtime.fatal_exit import SERVICE_MANAGER_ENV
from hermes_lifecycle.services.base import (
    InstallOutcome,
    InstallPlan,
    Removal,
    ServiceManager,
    ServiceStatus,
    describe_failure,
    stale_reason,
    write_atomically,
)
from hermes_lifecycle.services.installed import INSTALL_HINTS

TRACK = "launchd-agent"
LABEL_PREFIX = "org.hermes.gateway."
#: launchd(8) spawns a job at most once per ThrottleInterval (default 10 s) when it exits
#: sooner than that after its start.  A gateway that ran for hours and crashed comes back at
#: once; one that dies at boot (a broken venv, a full disk) is retried every 30 s, 2,880 times
#: a day instead of 8,640, and its log stays readable.
THROTTLE_INTERVAL = 30
#: ``Standard`` (launchd's default, set explicitly): no resource limits.  ``Background``
#: throttles CPU and I/O like a backup job; a gateway answers people.  ``Interactive`` is
#: meant for a job an app's UI waits on.
PROCESS_TYPE = "Standard"


class LaunchdAgentManager(ServiceManager):
    name = "launchd"

    def __init__(self, home: Home, runner: Runner, env: Mapping[str, str] | None = None,
                 uid: int | None = None) -> None:
        super().__init__(home, runner, env)
        self.uid = uid if uid is not None else user_id()

    @property
    def label(self) -> str:
        return LABEL_PREFIX + self.home.profile

    @property
    def plist_path(self) -> Path:
        """The agent launchd loads at every login (autostart)."""
        return self.env_path("HOME") / "Library" / "LaunchAgents" / f"{self.label}.plist"

    @property
    def on_demand_path(self) -> Path:
        """The agent without autostart: only ``start`` loads it."""
        return self.home.root / "services" / f"{self.label}.plist"

    def path_for(self, autostart: bool) -> Path:
        return self.plist_path if autostart else self.on_demand_path

    @property
    def target(self) -> str:
        return f"gui/{self.uid}/{self.label}"

    def render(self, plan: InstallPlan) -> dict[str, Any]:
        log = str(self.home.stdio_log)
        return {
            "Label": self.label,
            "ProgramArguments": list(plan.command),
            "WorkingDirectory": plan.home,
            # the gateway exits 0 on a fatal configuration under launchd (runtime.fatal_exit)
            "EnvironmentVariables": {"PYTHONUNBUFFERED": "1", SERVICE_MANAGER_ENV: self.name},
            "RunAtLoad": plan.autostart,
            "KeepAlive": {"SuccessfulExit": False},
            "ExitTimeOut": plan.stop_timeout,
            "ThrottleInterval": THROTTLE_INTERVAL,
            "ProcessType": PROCESS_TYPE,
            "StandardOutPath": log,
            "StandardErrorPath": log,
        }

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            return plistlib.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (plistlib.InvalidFileException, ValueError):
            return {}

    def _owned(self, agent: dict[str, Any] | None) -> bool:
        return agent is not None and self.owns_command(agent.get("ProgramArguments") or [])

    def _existing(self) -> tuple[Path | None, dict[str, Any] | None]:
        """The definition of ours (the login agent first), else whatever holds the login path."""
        login, on_demand = self._read(self.plist_path), self._read(self.on_demand_path)
        if self._owned(login) or (login is not None and not self._owned(on_demand)):
            return self.plist_path, login
        if on_demand is not None:
            return self.on_demand_path, on_demand
        return None, None

    def _loaded(self) -> bool:
        return self.run(["launchctl", "print", self.target]).ok

    def _bootstrap(self, path: Path) -> None:
        result = self.run(["launchctl", "bootstrap", f"gui/{self.uid}", str(path)])
        if not result.ok:
            raise ServiceError(
                f"launchd refused the agent: `launchctl bootstrap gui/{self.uid} {path}` "
                f"{describe_failure(result)}; see `launchctl print {self.target}` and {self.home.stdio_log}")

    def install(self, plan: InstallPlan) -> InstallOutcome:
        self.verify_plan(plan)
        wanted = self.render(plan)
        target_path, other_path = self.path_for(plan.autostart), self.path_for(not plan.autostart)
        found, other = self._read(target_path), self._read(other_path)
        path = str(target_path)
        if found == wanted and other is None:
            outcome = InstallOutcome(TRACK, path, False, f"already installed: {path}; nothing changed")
        else:
            replaced = None
            previous = found if found is not None else other
            if previous is not None:
                command = previous.get("ProgramArguments") or []
                replaced = stale_reason(command, plan.command, self.owns_command(command))
                if self._loaded():
                    self.check(["launchctl", "bootout", self.target], "unloading the old agent",
                               limits=self.stop_limits())
            target_path.parent.mkdir(parents=True, exist_ok=True)
            self.home.ensure_private_dir(self.home.logs_dir)
            write_atomically(target_path, plistlib.dumps(wanted).decode("utf-8"))
            if other is not None:
                other_path.unlink()  # one definition per label: the autostart choice moved it
            verb = "replaced" if replaced else "installed"
            outcome = self.written = InstallOutcome(TRACK, path, True, f"{verb} {path}", replaced=replaced)
            if plan.start_now:
                self._bootstrap(target_path)  # loading runs it: SuccessfulExit implies RunAtLoad
                outcome.started = True
            # not now: launchd loads a login agent at the next login; `start` loads one on demand
        if plan.start_now and not self.is_running():
            self.start()
            outcome.started = True
        return outcome

    def uninstall(self) -> list[Removal]:
        ours = [path for path in (self.plist_path, self.on_demand_path) if self._owned(self._read(path))]
        if not ours:
            return []
        if self._loaded():
            self.check(["launchctl", "bootout", self.target], "unloading the agent", limits=self.stop_limits())
        for path in ours:
            path.unlink()
        return [Removal(TRACK, str(path)) for path in ours]

    def start(self) -> None:
        if not self._loaded():
            path, agent = self._existing()
            if path is None or not self._owned(agent):
                raise ServiceError(f"no launchd agent installed for profile {self.home.profile}; "
                                   f"run `{CLI} install` first")
            self._bootstrap(path)
        self.check(["launchctl", "kickstart", self.target], f"starting {self.label}")

    def stop(self) -> None:
        if self.is_running():
            self.check(["launchctl", "kill", "SIGTERM", self.target], f"stopping {self.label}")

    def is_installed(self) -> bool:
        return self._owned(self._existing()[1])

    def is_running(self) -> bool:
        result = self.run(["launchctl", "print", self.target])
        return result.ok and re.search(r"^\s*state = running\s*$", result.stdout, re.MULTILINE) is not None

    def describe(self, drain_timeout: float) -> ServiceStatus:
        path, found = self._existing()
        status = ServiceStatus(self.name, definition=str(path or self.plist_path))
        if found is None:
            status.hints.append(INSTALL_HINTS[self.name])
            return status
        if not self._owned(found):
            status.warn_foreign(path)
            return status
        status.track, status.installed = TRACK, True
        status.running = self.is_running()
        status.autostart = path == self.plist_path
        exit_timeout = found.get("ExitTimeOut", 20)
        if isinstance(exit_timeout, (int, float)) and exit_timeout <= drain_timeout:
            status.warnings.append(
                f"ExitTimeOut={exit_timeout}s is not longer than the drain timeout ({drain_timeout:g}s): "
                f"launchd would kill the gateway mid-drain; run `{CLI} install` to rewrite the agent")
        if (found.get("EnvironmentVariables") or {}).get(SERVICE_MANAGER_ENV) != self.name:
            status.warnings.append(
                "the agent predates the fatal-configuration exit: launchd would revive a misconfigured "
                f"gateway forever; run `{CLI} install` to rewrite the agent")
        status.hints.append(f"inspect: launchctl print {self.target}; logs: {self.home.stdio_log}")
        return status
