"""The kernel's OOM-kill count for the cgroup a process lives in (Linux), else nothing.

A gateway killed by the OOM killer leaves no shutdown behind: the only witness is the
counter the kernel keeps per cgroup.  cgroup v2 keeps it in ``memory.events``
(``oom_kill N``), cgroup v1's memory controller in ``memory.oom_control``.  The
gateway records the counter file and its value at each heartbeat; after a silent
death the counter is read again and a rise means the OOM killer ended a process in
that cgroup.  Where the files do not exist (macOS, Windows, a container without
``/sys/fs/cgroup``) every function answers ``None``: no OS check is needed here.
"""

from __future__ import annotations

from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _cgroup_lines(pid: int | str) -> list[tuple[str, str]]:
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return []
    lines = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            lines.append((parts[1], parts[2]))
    return lines


def oom_counter_file(pid: int | str = "self", root: Path = CGROUP_ROOT) -> Path | None:
    """The file holding the OOM-kill count of ``pid``'s memory cgroup, when readable."""
    candidates = []
    for controllers, path in _cgroup_lines(pid):
        relative = path.lstrip("/")
        if "memory" in controllers.split(","):
            candidates.append(root / "memory" / relative / "memory.oom_control")
        elif controllers == "":
            candidates.append(root / relative / "memory.events")
            candidates.append(root / "unified" / relative / "memory.events")
    for candidate in candidates:
        if read_oom_kills(candidate) is not None:
            return candidate
    return None


def read_oom_kills(counter_file: Path | str | None) -> int | None:
    """The ``oom_kill`` count in ``counter_file``, or None when it is gone or has none."""
    if counter_file is None:
        return None
    try:
        text = Path(counter_file).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None
