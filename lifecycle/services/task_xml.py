"""A Scheduled Task's XML definition: written for ``schtasks /Create /XML``, read back from
``schtasks /Query /XML``.

The XML is the only form that lifts the defaults which end a gateway (a 72-hour execution
limit, a stop on battery).  Windows re-serializes a task it stores, so a task is read back
as the few facts that decide whether it is ours and current, never compared as text.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
#: Starts a task's description, followed by JSON naming the home and profile it runs.
MARKER = "hermes-gateway "
#: RestartOnFailure: one attempt a minute (the schema's floor, PT1M), ten times (Count is an
#: unsignedByte >= 1): a crash is retried for ten minutes, a boot loop ends after ten tries.
RESTART_INTERVAL, RESTART_COUNT = "PT1M", 10
#: After logon, wait this long: the desktop settles, the network is usually up.
LOGON_DELAY = "PT30S"


def task_xml(*, user: str, command: str, arguments: str, working_directory: str, description: str,
             autostart: bool) -> str:
    """The task definition: logon trigger, least privilege, no time limit, battery-proof,
    restarted on failure, run in the home.

    Element order follows the Task Scheduler schema: ``logonTriggerType`` is a sequence
    (the base trigger's ``Enabled``, then ``UserId``, then ``Delay``); ``settingsType``,
    ``restartType`` and ``execType`` are ``xs:all``, written in the documented order anyway.
    """
    ET.register_namespace("", TASK_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{TASK_NS}}}{tag}", attrs)
        element.text = text
        return element

    task = ET.Element(f"{{{TASK_NS}}}Task", {"version": "1.2"})
    info = sub(task, "RegistrationInfo")
    sub(info, "Author", user)
    sub(info, "Description", description)
    trigger = sub(sub(task, "Triggers"), "LogonTrigger")
    sub(trigger, "Enabled", "true" if autostart else "false")
    sub(trigger, "UserId", user)
    sub(trigger, "Delay", LOGON_DELAY)
    principal = sub(sub(task, "Principals"), "Principal", id="Author")
    sub(principal, "UserId", user)
    sub(principal, "LogonType", "InteractiveToken")
    sub(principal, "RunLevel", "LeastPrivilege")
    settings = sub(task, "Settings")
    sub(settings, "AllowStartOnDemand", "true")
    restart = sub(settings, "RestartOnFailure")
    sub(restart, "Interval", RESTART_INTERVAL)
    sub(restart, "Count", str(RESTART_COUNT))
    for tag, value in (("MultipleInstancesPolicy", "IgnoreNew"), ("DisallowStartIfOnBatteries", "false"),
                       ("StopIfGoingOnBatteries", "false"), ("AllowHardTerminate", "true"),
                       ("StartWhenAvailable", "true"), ("Enabled", "true"), ("ExecutionTimeLimit", "PT0S")):
        sub(settings, tag, value)
    action = sub(sub(task, "Actions", Context="Author"), "Exec")
    sub(action, "Command", command)
    sub(action, "Arguments", arguments)
    sub(action, "WorkingDirectory", working_directory)
    body = ET.tostring(task, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-16"?>\n' + body + "\n"


_FACTS = {
    "command": "Actions/Exec/Command", "arguments": "Actions/Exec/Arguments",
    "description": "RegistrationInfo/Description", "autostart": "Triggers/LogonTrigger/Enabled",
    "instances": "Settings/MultipleInstancesPolicy", "time_limit": "Settings/ExecutionTimeLimit",
    "battery_start": "Settings/DisallowStartIfOnBatteries", "battery_stop": "Settings/StopIfGoingOnBatteries",
    "logon_type": "Principals/Principal/LogonType", "run_level": "Principals/Principal/RunLevel",
    "restart_interval": "Settings/RestartOnFailure/Interval", "restart_count": "Settings/RestartOnFailure/Count",
    "start_when_available": "Settings/StartWhenAvailable", "logon_delay": "Triggers/LogonTrigger/Delay",
    "working_directory": "Actions/Exec/WorkingDirectory",
}


def task_facts(xml_text: str) -> dict[str, str | None]:
    """The fields that decide whether a task is ours and current (Windows re-serializes XML)."""
    # schtasks may print UTF-16: read as UTF-8 it has NULs and a mangled byte order mark
    body = re.sub(r"^[^<]*<\?xml[^>]*\?>", "", xml_text.replace("\0", ""))
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {}
    facts: dict[str, str | None] = {}
    for name, path in _FACTS.items():
        element = root.find("/".join(f"{{{TASK_NS}}}{part}" for part in path.split("/")))
        facts[name] = element.text.strip() if element is not None and element.text else None
    return facts


def description_owner(description: str | None) -> dict:
    if not description or not description.startswith(MARKER):
        return {}
    try:
        owner = json.loads(description[len(MARKER):])
    except ValueError:
        return {}
    return owner if isinstance(owner, dict) else {}
