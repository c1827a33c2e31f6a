"""The running gateway's heartbeat: its loop's last tick, its RSS, its cgroup's OOM kills.

A gateway that dies without a shutdown (SIGKILL, the OOM killer, a power cut) leaves
only ``lost`` behind; the heartbeat says how long before that it was last seen working
and how big it was.  It is a small JSON file beside the instance lock,
``locks/<profile>.heartbeat.json``, replaced atomically (write a temporary file, then
rename) by a beat of the loop's pulse (:mod:`hermes_lifecycle.runtime.pulse`, the one timer on
the loop, beside the service manager's watchdog ping) every :data:`INTERVAL` seconds, so a
wedged loop stops beating.  Why a file and not a row in ``state.db``: a beat must not
grow the log, must not wake every reader that watches the database for changes, and must
not take the database's write lock from a stop request.  It is not faster: a beat costs
about what a durable append does (``bench/heartbeat.py``), once every 15 s.  Durability is honest but
limited: the rename survives the process being killed (the kernel holds the page),
not a power cut before the kernel writes it back; no ``fsync`` is paid per beat.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermes_lifecycle.command_line import CLI
from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import ProcessIdentity
from hermes_lifecycle.platforms.cgroup import oom_counter_file, read_oom_kills

if TYPE_CHECKING:  # asyncio costs tens of ms to import: reconcile (every `stop`) imports this module
    from hermes_lifecycle.runtime.pulse import LoopPulse

#: Seconds between beats: rare enough to keep the idle gateway asleep, often enough that
#: "its last heartbeat was N s before" narrows a silent death to a quarter of a minute.
INTERVAL = 15.0
#: A beat older than this many intervals means the loop stopped ticking.
STALE_AFTER_BEATS = 3
#: The beat's name on the loop's pulse.
PULSE_NAME = "heartbeat"


def heartbeat_path(home: Home) -> Path:
    return home.locks_dir / f"{home.profile}.heartbeat.json"


@dataclass(frozen=True)
class Beat:
    """One heartbeat as written: who beat, when (wall clock), how big, and the OOM counter."""

    run_id: str
    pid: int
    create_time: float
    at: float
    rss: int | None
    oom_counter: str | None
    oom_kills: int | None

    def belongs_to(self, pid: int | None, create_time: float | None) -> bool:
        return pid == self.pid and create_time is not None and abs(create_time - self.create_time) < 0.01

    def describe_after_death(self, now: float | None = None) -> dict[str, Any]:
        """What a ``lost`` event carries: the beat's age and RSS, and OOM kills since it."""
        now = time.time() if now is None else now
        facts: dict[str, Any] = {"at": self.at, "age_s": round(max(0.0, now - self.at), 3), "rss": self.rss}
        later = read_oom_kills(self.oom_counter)
        if later is not None and self.oom_kills is not None:
            facts["oom_kills_since"] = max(0, later - self.oom_kills)
            facts["oom_counter"] = self.oom_counter
        return facts


def read_beat(home: Home) -> Beat | None:
    """The last beat written for ``home``'s profile, or None (never beat, unreadable)."""
    try:
        raw = json.loads(heartbeat_path(home).read_text(encoding="utf-8"))
        return Beat(**{name: raw.get(name) for name in Beat.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None


def stalled_loop_warning(home: Home, current: Any, now: float | None = None) -> dict[str, str] | None:
    """A ``status`` warning when the recorded live gateway's heartbeat is stale (a wedged loop).

    systemd's watchdog restarts such a gateway; launchd, the Task Scheduler and a detached
    start do not, so ``status`` at least says so.  ``current`` is the stream's state after
    reconciliation: its pid is alive.
    """
    from hermes_lifecycle.durations import human

    if current.state not in ("running", "draining"):
        return None
    beat = read_beat(home)
    if beat is None or not beat.belongs_to(current.pid, current.create_time):
        return None
    age = (time.time() if now is None else now) - beat.at
    if age <= INTERVAL * STALE_AFTER_BEATS:
        return None
    return {"kind": "loop_stalled",
            "message": f"the gateway's event loop last ticked {human(age)} ago although pid {current.pid} is alive: "
                       "it may be wedged",
            "command": f"{CLI} restart"}


def _rss(pid: int) -> int | None:
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return None


class Heartbeat:
    """Beats from the event loop; :attr:`last_tick` (monotonic) is what ``/livez`` checks."""

    def __init__(self, home: Home, me: ProcessIdentity, run_id: str, interval: float = INTERVAL) -> None:
        self.path = heartbeat_path(home)
        self.me, self.run_id, self.interval = me, run_id, interval
        self.counter = oom_counter_file(me.pid)
        self.last_tick: float | None = None
        self._pulse: LoopPulse | None = None

    def beat(self) -> Beat:
        """Write one beat now (atomically) and return it."""
        beat = Beat(self.run_id, self.me.pid, self.me.create_time or 0.0, time.time(), _rss(self.me.pid),
                    str(self.counter) if self.counter else None, read_oom_kills(self.counter))
        temporary = self.path.with_name(f".{self.path.name}.{self.me.pid}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(asdict(beat)), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            pass  # a full or read-only disk must not stop the gateway; /livez still sees the tick
        self.last_tick = time.monotonic()
        return beat

    def is_fresh(self) -> bool:
        return self.last_tick is not None and \
            time.monotonic() - self.last_tick <= self.interval * STALE_AFTER_BEATS

    def start(self, pulse: "LoopPulse") -> "Heartbeat":
        """Beat now, then every interval, from ``pulse`` (call from the loop)."""
        self._pulse = pulse
        pulse.every(PULSE_NAME, self.interval, self.beat)
        return self

    def stop(self) -> None:
        if self._pulse is not None:
            self._pulse.cancel(PULSE_NAME)
