"""Linux: a systemd *user* unit, ``~/.config/systemd/user/hermes-gateway-<profile>.service``.

Exit codes carry the gateway's intent (see the runtime): 0 planned stop (stay down),
75 planned restart (come back, no failure alert), 78 fatal configuration (stay down),
anything else unplanned (come back).  ``TimeoutStopSec`` exceeds the drain timeout so
systemd never kills a gateway mid-drain.
"""

from __future__ import annotations

import re
from pathlib import Path

from hermes_lifecycle.command_line import CLI, stop_hook_command
from hermes_lifecycle.errors import QuotingError, ServiceError
from hermes_lifecycle.exit_codes import GatewayExit
from hermes_lifecycle.platforms.runner import CommandResult
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

TRACK = "systemd-user-unit"
#: The restart-loop breaker: more starts than this within the interval and systemd gives up
#: (the unit stays failed until `hermes-lifecycle start` or `systemctl --user reset-failed`).
START_LIMIT_BURST, START_LIMIT_INTERVAL = 10, 600
#: systemd pings: no WATCHDOG=1 from the gateway's loop for this long and it is restarted.
WATCHDOG_SECONDS = 60
#: The first version that reads RestartSteps= / RestartMaxDelaySec= (older ones warn and ignore).
RESTART_STEPS_SINCE = 254
#: What to do when no user manager answers (`Failed to connect to bus`).
NO_USER_BUS_FIX = ("no systemd user manager is reachable: run `loginctl enable-linger {user}` (starts one now "
                   "and at every boot), or in a session without one set XDG_RUNTIME_DIR=/run/user/$(id -u)")
_ACTIVE = frozenset({"active", "activating", "deactivating", "reloading"})
#: systemd.time(7): every unit a time span may use (``M`` is a month, ``m`` a minute).
_SPAN_UNITS = {
    **dict.fromkeys(("usec", "us", "µs", "μs"), 1e-6), **dict.fromkeys(("msec", "ms"), 1e-3),
    **dict.fromkeys(("", "seconds", "second", "sec", "s"), 1.0),
    **dict.fromkeys(("minutes", "minute", "min", "m"), 60.0), **dict.fromkeys(("hours", "hour", "hr", "h"), 3600.0),
    **dict.fromkeys(("days", "day", "d"), 86400.0), **dict.fromkeys(("weeks", "week", "w"), 604800.0),
    **dict.fromkeys(("months", "month", "M"), 2629800.0), **dict.fromkeys(("years", "year", "y"), 31557600.0),
}
_SPAN_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([^\d\s.]*)")


def quote_exec_word(word: str) -> str:
    """One ExecStart word: double-quoted, C escapes, ``%`` and ``$`` doubled."""
    if any(ord(c) < 0x20 or c == "\x7f" for c in word):
        raise QuotingError(f"{word!r} contains a control character; a unit file cannot hold it")
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def working_directory(path: str) -> str:
    """A WorkingDirectory value: unquoted (systemd takes no quotes there), ``%`` doubled."""
    if path != path.rstrip() or path.endswith("\\"):
        raise QuotingError(f"home {path!r} ends in a blank or a backslash, which a unit's WorkingDirectory "
                           "cannot hold (trimmed, or continued onto the next line); use another home folder")
    return path.replace("%", "%%")


def split_exec_line(line: str) -> list[str]:
    """Read an ExecStart value back into words (quotes, C escapes, ``%%`` and ``$$``)."""
    words: list[str] = []
    index = 0
    while index < len(line):
        if line[index].isspace():
            index += 1
            continue
        quote = line[index] if line[index] in "\"'" else None
        index += 1 if quote else 0
        word = []
        while index < len(line) and (line[index] != quote if quote else not line[index].isspace()):
            char = line[index]
            if char == "\\" and index + 1 < len(line):
                index += 1
                char = {"n": "\n", "t": "\t"}.get(line[index], line[index])
            elif char in "%$" and line[index + 1: index + 2] == char:
                index += 1
            word.append(char)
            index += 1
        index += 1 if quote else 0
        words.append("".join(word))
    return words


def parse_unit(text: str) -> dict[str, dict[str, str]]:
    """Sections and keys of a unit file (the last assignment of a key wins)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and current is not None:
            key, value = line.split("=", 1)
            current[key.strip()] = value.strip()
    return sections


def parse_timespan(text: str) -> float | None:
    """Seconds in a systemd time span (``45``, ``45s``, ``1min 30s``, ``2minutes``); None for
    ``infinity``; a ValueError for anything systemd would not read either."""
    text = text.strip()
    if text == "infinity":
        return None
    total, position = 0.0, 0
    while position < len(text):
        part = _SPAN_PART.match(text, position)
        if part is None or part.group(2) not in _SPAN_UNITS:
            raise ValueError(f"not a systemd time span: {text!r}")
        total += float(part.group(1)) * _SPAN_UNITS[part.group(2)]
        position = part.end()
    if position == 0:
        raise ValueError(f"not a systemd time span: {text!r}")
    return total


class SystemdUserManager(ServiceManager):
    name = "systemd"

    @property
    def unit_name(self) -> str:
        return f"hermes-gateway-{self.home.profile}.service"

    @property
    def unit_dir(self) -> Path:
        config = self.env.get("XDG_CONFIG_HOME") or str(self.env_path("HOME") / ".config")
        return Path(config) / "systemd" / "user"

    @property
    def unit_path(self) -> Path:
        return self.unit_dir / self.unit_name

    def systemctl(self, *args: str) -> list[str]:
        return ["systemctl", "--user", *args]

    def systemd_version(self) -> int | None:
        """The installed systemd's version (``systemctl --version``), None when it does not say."""
        if not hasattr(self, "_version"):
            answer = self.run(["systemctl", "--version"])
            found = re.match(r"systemd (\d+)", answer.stdout) if answer.ok else None
            self._version = int(found.group(1)) if found else None
        return self._version

    def render(self, plan: InstallPlan) -> str:
        exec_start = " ".join(quote_exec_word(w) for w in plan.command)
        # ExecStop/ExecStopPost: a planned stop of $MAINPID and the end systemd saw; never systemctl
        hook = " ".join(quote_exec_word(w) for w in stop_hook_command(plan.command))
        directory = working_directory(plan.home)
        version = self.systemd_version()
        steps = (["RestartSteps=5", "RestartMaxDelaySec=60"]
                 if version is not None and version >= RESTART_STEPS_SINCE else [])
        return "\n".join([
            f"# Written by `{CLI} install`; `{CLI} uninstall` removes it.",
            "[Unit]",
            f"Description=Hermes gateway (profile {plan.profile})",
            f"StartLimitIntervalSec={START_LIMIT_INTERVAL}",
            f"StartLimitBurst={START_LIMIT_BURST}",
            "",
            "[Service]",
            "Type=notify",
            "NotifyAccess=main",
            f"ExecStart={exec_start}",
            f"ExecStop={hook}",
            f"ExecStopPost={hook}",
            # not the user's home (systemd's default), where a ~/cli.py would shadow `-m cli.main`
            f"WorkingDirectory={directory}",
            "Environment=PYTHONUNBUFFERED=1",
            "Restart=on-failure",
            "RestartSec=2",
            *steps,
            f"RestartForceExitStatus={int(GatewayExit.RESTART)}",
            f"SuccessExitStatus={int(GatewayExit.RESTART)}",
            f"RestartPreventExitStatus={int(GatewayExit.CONFIG)}",
            f"WatchdogSec={WATCHDOG_SECONDS}",
            "KillMode=mixed",
            f"TimeoutStopSec={plan.stop_timeout}",
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ])

    def _existing(self) -> tuple[str | None, list[str]]:
        try:
            text = self.unit_path.read_text("utf-8")
        except FileNotFoundError:
            return None, []
        return text, split_exec_line(parse_unit(text).get("Service", {}).get("ExecStart", ""))

    def install(self, plan: InstallPlan) -> InstallOutcome:
        self.verify_plan(plan)
        wanted = self.render(plan)
        text, command = self._existing()
        enabled = self.run(self.systemctl("is-enabled", self.unit_name)).stdout.strip() == "enabled"
        path = str(self.unit_path)
        if text == wanted and enabled == plan.autostart:
            outcome = InstallOutcome(TRACK, path, False, f"already installed: {path}; nothing changed")
        else:
            replaced = None
            if text is not None and text != wanted:
                replaced = stale_reason(command, plan.command, self.owns_command(command))
            self.unit_dir.mkdir(parents=True, exist_ok=True)
            write_atomically(self.unit_path, wanted)
            verb = "replaced" if replaced else "installed"
            outcome = InstallOutcome(TRACK, path, True, f"{verb} {path}", replaced=replaced)
            self._register_or_undo(plan, text)
            self.written = outcome
            if replaced and self.is_running():
                outcome.message += f"; the running gateway keeps the old definition until `{CLI} restart`"
        if plan.start_now and not self.is_running():
            self.start()
            outcome.started = True
        return outcome

    def _register_or_undo(self, plan: InstallPlan, previous: str | None) -> None:
        """Reload and enable the unit just written; if systemd cannot, put the file back as it
        was (no file where there was none) and raise: install is all or nothing."""
        try:
            self.check(self.systemctl("daemon-reload"), "reloading systemd's user units")
            self.check(self.systemctl("enable" if plan.autostart else "disable", self.unit_name),
                       "enabling the unit" if plan.autostart else "disabling the unit")
        except ServiceError as exc:
            if previous is None:
                self.unit_path.unlink(missing_ok=True)
            else:
                write_atomically(self.unit_path, previous)
            if "Failed to connect to bus" in str(exc):
                raise ServiceError(NO_USER_BUS_FIX.format(user=self._user() or "$USER") +
                                   f"; nothing was installed ({exc})") from None
            self.run(self.systemctl("daemon-reload"))  # best effort: systemd sees the old file again
            raise ServiceError(f"{exc}; nothing was installed") from None

    def _user(self) -> str:
        return self.env.get("USER") or self.env.get("LOGNAME") or ""

    def linger(self) -> bool | None:
        """Whether systemd keeps this user's manager running without a login (so the gateway
        starts at boot); None when ``loginctl`` cannot say."""
        user = self._user()
        result = self.run(["loginctl", "show-user", user, "--property=Linger", "--value"] if user
                          else ["loginctl", "show-user", "--property=Linger", "--value"])
        answer = result.stdout.strip() if result.ok else ""
        return {"yes": True, "no": False}.get(answer)

    def enable_linger(self) -> None:
        user = self._user()
        self.check(["loginctl", "enable-linger", *([user] if user else [])], "turning lingering on")

    def boot_note(self, autostart: bool) -> str:
        if not autostart:
            return "does not start at boot or logon"
        linger = self.linger()
        if linger is None:
            return "cannot tell whether it starts at boot: `loginctl show-user` did not answer"
        if linger:
            return "starts at boot, without a login (lingering is on)"
        return ("starts at your first login, not at boot (lingering is off): "
                f"`{CLI} install --linger` turns it on")

    def uninstall(self) -> list[Removal]:
        text, command = self._existing()
        if text is None or not self.owns_command(command):
            return []
        # A failed stop (already reported by the controller's stop) must not leave the unit on
        # disk for systemd to revive: the definitions go all the same, the command is on record.
        self.run(self.systemctl("stop", self.unit_name), limits=self.stop_limits())
        self.check(self.systemctl("disable", self.unit_name), "disabling the unit")
        self.unit_path.unlink()
        self.check(self.systemctl("daemon-reload"), "reloading systemd's user units")
        return [Removal(TRACK, str(self.unit_path))]

    def start(self) -> None:
        self.check(self.systemctl("start", self.unit_name), f"starting {self.unit_name}")

    def stop(self) -> None:
        self.check(self.systemctl("stop", self.unit_name), f"stopping {self.unit_name}", limits=self.stop_limits())

    def is_installed(self) -> bool:
        text, command = self._existing()
        return text is not None and self.owns_command(command)

    def is_running(self) -> bool | None:
        return self._is_active()[0]

    def _is_active(self) -> tuple[bool | None, CommandResult]:
        """None when systemd gave no state at all (no user bus, say): unknown is not stopped."""
        result = self.run(self.systemctl("is-active", self.unit_name))
        answer = result.stdout.strip()
        return (answer in _ACTIVE if answer else None), result

    def describe(self, drain_timeout: float) -> ServiceStatus:
        status = ServiceStatus(self.name, definition=str(self.unit_path))
        text, command = self._existing()
        if text is None:
            status.hints.append(INSTALL_HINTS[self.name])
            return status
        if not self.owns_command(command):
            status.warn_foreign(self.unit_path)
            return status
        status.track, status.installed = TRACK, True
        status.running, answer = self._is_active()
        if status.running is None:
            status.warnings.append(f"systemd did not say whether {self.unit_name} runs: "
                                   f"`systemctl --user is-active` {describe_failure(answer)}")
        status.autostart = self.run(self.systemctl("is-enabled", self.unit_name)).stdout.strip() == "enabled"
        stop_timeout = self._stop_timeout(text)
        if stop_timeout is not None and stop_timeout <= drain_timeout:
            head = (f"TimeoutStopSec={stop_timeout:g}s is not longer than the drain timeout ({drain_timeout:g}s): "
                    "systemd would kill the gateway mid-drain")
            drop_in = self._drop_in_setting_stop_timeout()
            status.warnings.append(
                f"{head}; the drop-in {drop_in} sets it: raise it there or remove it, then "
                "`systemctl --user daemon-reload`" if drop_in else
                f"{head}; run `{CLI} install` to rewrite the unit")
        status.warnings.extend(self._linger_warnings())
        status.hints.append(f"logs: journalctl --user -u {self.unit_name}")
        return status

    def _drop_in_setting_stop_timeout(self) -> str | None:
        """The drop-in (``systemctl --user edit``) whose ``TimeoutStopSec=`` or ``TimeoutSec=``
        systemd applies: the last one that sets it, in systemd's own order."""
        answer = self.run(self.systemctl("show", self.unit_name, "--property=DropInPaths", "--value"))
        found = None
        for path in answer.stdout.split() if answer.ok else []:
            try:
                service = parse_unit(Path(path).read_text("utf-8")).get("Service", {})
            except (OSError, UnicodeDecodeError):
                continue
            if "TimeoutStopSec" in service or "TimeoutSec" in service:
                found = path
        return found

    def _stop_timeout(self, text: str) -> float | None:
        """The stop timeout systemd applies (drop-ins included), else the one the file states."""
        answer = self.run(self.systemctl("show", self.unit_name, "--property=TimeoutStopUSec", "--value"))
        service = parse_unit(text).get("Service", {})
        for span in (answer.stdout.strip() if answer.ok else "",
                     service.get("TimeoutStopSec", service.get("TimeoutSec", "90"))):
            try:
                return parse_timespan(span)
            except ValueError:
                continue  # an empty or foreign answer: the file says it
        return None

    def _linger_warnings(self) -> list[str]:
        if self.linger() is False:
            who = self._user() or "$USER"
            return [f"lingering is off: the gateway stops when you log out; "
                    f"turn it on with `loginctl enable-linger {who}`"]
        return []
