"""Windows: a per-user Scheduled Task at logon, with a Startup-folder ``.cmd`` fallback.

The task is created from an XML definition (``schtasks /Create /TN ... /XML ...``)
because the flag form cannot lift the defaults that kill a gateway: a 72-hour
execution limit and a stop on battery.  The XML carries what the flags
``/SC ONLOGON /RL LIMITED /RU <user> /NP /IT`` would say: a logon trigger for this
user, least privilege, an interactive token (no stored password, no elevation
prompt).  When Task Scheduler denies access, times out or goes silent (locked-down
machines), a ``.cmd`` in the user's Startup folder starts the gateway at logon instead.
Both launch ``pythonw.exe`` so no console window appears.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PureWindowsPath

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.errors import ServiceError
from hermes_lifecycle.platforms.runner import CommandResult
from hermes_lifecycle.services.base import (
    InstallOutcome,
    InstallPlan,
    Limits,
    Removal,
    ServiceManager,
    ServiceStatus,
    describe_failure,
    stale_reason,
    write_atomically,
)
from hermes_lifecycle.services.installed import INSTALL_HINTS
from hermes_lifecycle.services.quoting import cmd_line, task_arguments, task_program
from hermes_lifecycle.services.task_xml import MARKER, description_owner, task_facts, task_xml

TASK_TRACK = "scheduled-task"
STARTUP_TRACK = "startup-folder"
_DENIED = ("access is denied", "0x80070005")
#: Task Scheduler's answers are quick; a prompt for a password would wait forever.
CREATE_TIMEOUT = 30.0
CREATE_IDLE_TIMEOUT = 15.0
#: Nothing supervises a gateway the Startup folder started (no engine-side supervisor either).
STARTUP_NOT_REVIVED = ("the Startup-folder fallback has no manager: a gateway that crashes stays down until "
                       f"the next logon or `{CLI} start`")


def pythonw_for(interpreter: str) -> str:
    """The console-less sibling of ``python.exe`` (``python3.12.exe`` -> ``pythonw3.12.exe``,
    as the Store's aliases come in pairs); other launchers are kept as they are."""
    path = PureWindowsPath(interpreter)
    console = re.fullmatch(r"python(\d+(?:\.\d+)?)?\.exe", path.name, re.IGNORECASE)
    if console:
        return str(path.with_name(f"pythonw{console.group(1) or ''}.exe"))
    return interpreter


class WindowsTaskManager(ServiceManager):
    name = "windows"
    env_reference = "%{}%"
    unanswered: CommandResult | None = None

    @property
    def task_name(self) -> str:
        return f"HermesGateway-{self.home.profile}"

    @property
    def startup_dir(self) -> Path:
        return self.env_path("APPDATA") / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"

    @property
    def startup_cmd(self) -> Path:
        return self.startup_dir / f"hermes-gateway-{self.home.profile}.cmd"

    @property
    def task_xml_path(self) -> Path:
        return self.home.root / "services" / f"{self.home.profile}.task.xml"

    @property
    def user(self) -> str:
        name = self.env.get("USERNAME")
        if not name:
            raise ServiceError("%USERNAME% is not set; cannot name the user the task runs as")
        domain = self.env.get("USERDOMAIN")
        return f"{domain}\\{name}" if domain else name

    def launch_command(self, plan: InstallPlan) -> tuple[str, ...]:
        return (pythonw_for(plan.interpreter), *plan.argv)

    def owner_description(self) -> str:
        # ASCII only (\uXXXX escapes): schtasks prints through the console code page, and a
        # mangled marker would make our own task look foreign to `uninstall`
        return MARKER + json.dumps({"home": str(self.home.root), "profile": self.home.profile})

    def render_task(self, plan: InstallPlan) -> str:
        program, *args = self.launch_command(plan)
        return task_xml(user=self.user, command=task_program(program), arguments=task_arguments(args),
                        working_directory=plan.home, description=self.owner_description(),
                        autostart=plan.autostart)

    def render_cmd(self, plan: InstallPlan) -> str:
        owner = str(self.home.root).encode("utf-8").hex()
        lines = ["@echo off", f"rem hermes-gateway profile={self.home.profile} home-hex={owner}",
                 "setlocal DisableDelayedExpansion", "chcp 65001 >nul",
                 f'start "" {cmd_line(self.launch_command(plan))}', ""]
        return "\r\n".join(lines)

    # -- reading what exists ------------------------------------------------------------------

    def _query_task(self) -> dict[str, str | None] | None:
        """The task's facts, or None; a Task Scheduler that did not answer is kept in
        :attr:`unanswered` (install falls back regardless; others must not read it as "none")."""
        result = self.run(["schtasks", "/Query", "/TN", self.task_name, "/XML"])
        self.unanswered = result if (result.timed_out or result.went_silent) else None
        return task_facts(result.stdout) if result.ok else None

    def _cannot_tell(self) -> ServiceError:
        why = describe_failure(self.unanswered) if self.unanswered is not None else "gave no answer"
        return ServiceError(f"Task Scheduler did not answer: `schtasks /Query /TN {self.task_name}` "
                            f"{why}; cannot tell whether the task is installed")

    def _task_is_ours(self, facts: dict | None) -> bool:
        owner = description_owner((facts or {}).get("description"))
        return owner == {"home": str(self.home.root), "profile": self.home.profile}

    def _cmd_is_ours(self) -> bool:
        try:
            text = self.startup_cmd.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return False
        owner = str(self.home.root).encode("utf-8").hex()
        return f"rem hermes-gateway profile={self.home.profile} home-hex={owner}\r\n" in text

    # -- the interface --------------------------------------------------------------------------

    def install(self, plan: InstallPlan) -> InstallOutcome:
        self.verify_plan(plan)
        wanted_xml = self.render_task(plan)
        found = self._query_task()
        if found is not None and found == task_facts(wanted_xml):
            outcome = InstallOutcome(TASK_TRACK, self.task_name, False,
                                     f"already installed: scheduled task {self.task_name}; nothing changed")
        else:
            outcome = self._create_task(plan, wanted_xml, found)
            self.written = outcome if outcome.changed else None
        if outcome.track == TASK_TRACK and self._cmd_is_ours():
            self.startup_cmd.unlink()  # one track at a time: both would start at logon
            outcome.changed = True
            outcome.message += f"; removed the Startup fallback {self.startup_cmd}"
        if plan.start_now and not self.is_running():
            self._start(outcome.track)
            outcome.started = True
        return outcome

    def _create_task(self, plan: InstallPlan, wanted_xml: str, found: dict | None) -> InstallOutcome:
        replaced = None
        if found is not None:
            wanted = task_facts(wanted_xml)
            replaced = stale_reason([found.get("command") or "", found.get("arguments") or ""],
                                    [wanted["command"] or "", wanted["arguments"] or ""], self._task_is_ours(found))
        self.home.ensure_private_dir(self.task_xml_path.parent)
        write_atomically(self.task_xml_path, wanted_xml, encoding="utf-16", newline="\r\n")
        result = self.run(["schtasks", "/Create", "/F", "/TN", self.task_name, "/XML", str(self.task_xml_path)],
                          limits=Limits(timeout=CREATE_TIMEOUT, idle_timeout=CREATE_IDLE_TIMEOUT))
        if result.ok:
            verb = "replaced" if replaced else "installed"
            return InstallOutcome(TASK_TRACK, self.task_name, True, f"{verb} scheduled task {self.task_name}",
                                  replaced=replaced)
        output = f"{result.stdout}\n{result.stderr}".lower()
        if not (result.timed_out or result.went_silent or any(d in output for d in _DENIED)):
            raise ServiceError(f"Task Scheduler refused the task: `schtasks /Create` {describe_failure(result)}")
        reason = f"schtasks /Create {describe_failure(result)}"
        if not plan.autostart:
            raise ServiceError(f"{reason}; the Startup-folder fallback only starts the gateway at logon, "
                               "so it cannot honour --no-autostart: install with --autostart")
        return self._write_startup_cmd(plan, reason)

    def _write_startup_cmd(self, plan: InstallPlan, reason: str) -> InstallOutcome:
        wanted = self.render_cmd(plan)
        path = str(self.startup_cmd)
        try:
            current = self.startup_cmd.read_bytes().decode("utf-8")
        except FileNotFoundError:
            current = None
        if current == wanted:
            return InstallOutcome(STARTUP_TRACK, path, False, f"already installed: {path}; nothing changed",
                                  fallback_reason=reason)
        replaced = None if current is None else ("its command differed" if self._cmd_is_ours()
                                                 else "it ran another home or profile")
        self.startup_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(self.startup_cmd, wanted, newline="")
        verb = "replaced" if replaced else "installed"
        return InstallOutcome(STARTUP_TRACK, path, True, f"{verb} {path} (fallback: {reason})",
                              replaced=replaced, fallback_reason=reason)

    def uninstall(self) -> list[Removal]:
        removals = []
        found = self._query_task()
        if found is not None and self._task_is_ours(found):
            self.check(["schtasks", "/Delete", "/TN", self.task_name, "/F"], "deleting the scheduled task")
            removals.append(Removal(TASK_TRACK, self.task_name))
        if self._cmd_is_ours():
            self.startup_cmd.unlink()
            removals.append(Removal(STARTUP_TRACK, str(self.startup_cmd)))
        if removals:
            self.task_xml_path.unlink(missing_ok=True)
        elif self.unanswered is not None:
            raise self._cannot_tell()
        return removals

    def _track(self) -> str | None:
        if self._task_is_ours(self._query_task()):
            return TASK_TRACK
        if self._cmd_is_ours():
            return STARTUP_TRACK
        if self.unanswered is not None:
            raise self._cannot_tell()
        return None

    def start(self) -> None:
        self._start(self._track())

    def _start(self, track: str | None) -> None:
        if track == TASK_TRACK:
            self.check(["schtasks", "/Run", "/TN", self.task_name], f"starting task {self.task_name}")
        elif track == STARTUP_TRACK:
            # as .\<name> in its folder: `cmd /c "<path>"` drops the quotes when the path holds
            # ( ) & ^ (say, a user named "Tom (Work)") and runs the wrong thing
            self.check(["cmd.exe", "/d", "/c", ".\\" + self.startup_cmd.name], f"running {self.startup_cmd}",
                       cwd=str(self.startup_dir))
        else:
            raise ServiceError(f"no service installed for profile {self.home.profile}; "
                               f"run `{CLI} install` first")

    def stop(self) -> None:
        """``/End`` kills without a drain, so it only runs after the controller's drain; the
        Startup track has no manager to tell."""
        if self._track() == TASK_TRACK and self.is_running():
            self.check(["schtasks", "/End", "/TN", self.task_name], f"ending task {self.task_name}")

    def is_installed(self) -> bool:
        return self._track() is not None

    def is_running(self) -> bool | None:
        result = self.run(["schtasks", "/Query", "/TN", self.task_name, "/FO", "CSV", "/NH"])
        if result.ok:
            return '"running"' in result.stdout.lower()
        return None if self._cmd_is_ours() else False

    def describe(self, drain_timeout: float) -> ServiceStatus:
        status = ServiceStatus(self.name)
        found = self._query_task()
        if found is not None and not self._task_is_ours(found):
            status.warn_foreign(f"scheduled task {self.task_name}")
        if found is not None and self._task_is_ours(found):
            status.track, status.definition, status.installed = TASK_TRACK, self.task_name, True
            status.autostart = found.get("autostart") == "true"
            status.running = self.is_running()
            if found.get("time_limit") not in ("PT0S", None):
                status.warnings.append(f"the task has an execution time limit ({found['time_limit']}): "
                                       f"Windows will end the gateway; run `{CLI} install` to rewrite it")
            status.hints.append(f"inspect: schtasks /Query /TN {self.task_name} /V /FO LIST")
        elif self._cmd_is_ours():
            status.track, status.definition, status.installed = STARTUP_TRACK, str(self.startup_cmd), True
            status.autostart = True
            status.warnings.append(STARTUP_NOT_REVIVED)
            status.hints.append("the Startup-folder fallback has no manager to ask: the state above "
                                "says whether the gateway runs")
        else:
            status.hints.append(INSTALL_HINTS[self.name])
        return status
