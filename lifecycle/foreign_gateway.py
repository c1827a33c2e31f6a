"""Is hermes-agent's own gateway running in this home?  Read from its files, never by importing it.

hermes-agent (``gateway/status.py``) keeps two instance records in its home: ``gateway.lock``,
held with an exclusive OS lock for as long as its gateway runs, and ``gateway.pid``
(JSON: ``pid``, ``kind``, ``argv``, ``start_time``).  Our ``start`` and ``run`` refuse
while that lock is held by another process: two gateways on one home would share one
``state.db`` and answer the same chats.  Our own runtime, hosting hermes-agent's runner,
takes the same lock (``runtime/hermes_agent_records.py``), so it is one gateway either way.

The probe takes the lock for an instant when it is free, as hermes-agent's own
``is_gateway_runtime_lock_active`` does; it never creates the file.  On Windows
hermes-agent locks one byte at offset 1 MiB where our lock takes byte 0, so there the
probe does not see its gateway (a known gap, see docs/hermes-agent.md).
"""

from __future__ import annotations

import json
from pathlib import Path

from hermes_lifecycle.home import Home
from hermes_lifecycle.platforms import Platform

LOCK_FILE = "gateway.lock"
PID_FILE = "gateway.pid"


def _recorded_pid(root: Path) -> int | None:
    for name in (PID_FILE, LOCK_FILE):
        try:
            text = (root / name).read_text(encoding="utf-8").strip()
            record = json.loads(text) if text else None
        except (OSError, ValueError):
            continue
        pid = record.get("pid") if isinstance(record, dict) else record
        if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
            return pid
    return None


def _held(path: Path, platform: Platform) -> bool:
    if not path.is_file():
        return False
    lock = platform.try_lock(path)
    if lock is None:
        return True
    lock.release()
    return False


def hermes_agent_gateway(home: Home, platform: Platform, *, booting: bool = False) -> str | None:
    """One line naming hermes-agent's own gateway running in ``home``, or None.

    A ``gateway.lock`` held while this profile's own instance lock is held too is our
    gateway hosting hermes-agent's runner: that is ours, not a second gateway.  A gateway
    ``booting`` holds its instance lock itself and hosts nothing yet: any holder is foreign.
    """
    root = home.dir
    if not _held(root / LOCK_FILE, platform):
        return None
    if not booting and _held(home.instance_lock, platform):
        return None
    pid = _recorded_pid(root)
    who = f"pid {pid}" if pid is not None else "pid unknown"
    return (f"hermes-agent's own gateway is running in {root} ({who}, holding {LOCK_FILE}); "
            "stop it with hermes-agent's `hermes gateway stop` first, or host it here with "
            "--app hermes_lifecycle.runtime.hermes_agent:create")
