"""What a controller command did, as one value the CLI turns into words and an exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hermes_lifecycle.exit_codes import CommandExit

#: Each stop result's exit code (the README's table, generated from the enum, says what they mean).
STOP_EXIT: dict[str, CommandExit] = {
    "not_running": CommandExit.OK,
    "stopped": CommandExit.OK,
    "drain_timed_out": CommandExit.DRAIN_TIMED_OUT,
    "forced": CommandExit.FORCED,
    "failed": CommandExit.FAILED,
}


@dataclass
class StopOutcome:
    """``result`` is ``not_running``, ``stopped`` (left on its own after a complete drain),
    ``drain_timed_out`` (left on its own, but its drain timeout ran out and in-flight work
    was abandoned), ``forced`` (ended by escalation) or ``failed`` (still alive after every step).

    ``drain`` is what the run's own events say of its drain (``timed_out``, ``timeout_s``,
    ``abandoned``, ``abandoned_count``), read from the log once the process is gone."""

    result: str
    state: str
    run_id: str | None = None
    pid: int | None = None
    message: str = ""
    joined: bool = False  # another stop of the same run was already under way
    steps: list[dict[str, Any]] = field(default_factory=list)
    drain: dict[str, Any] | None = None
    budget: dict[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        return int(STOP_EXIT.get(self.result, CommandExit.FAILED))

    def to_json(self) -> dict[str, Any]:
        drain = self.drain or {}
        return {"result": self.result, "state": self.state, "run_id": self.run_id, "pid": self.pid,
                "joined": self.joined, "message": self.message, "exit_code": self.exit_code,
                "drain_timed_out": bool(drain.get("timed_out")),
                "drain_timeout_s": drain.get("timeout_s"),
                "abandoned": drain.get("abandoned") or [],
                "abandoned_count": int(drain.get("abandoned_count") or 0),
                "signals": [{"step": s.get("step"), "pids": s.get("pids"), "done": s.get("done")}
                            for s in self.steps],
                "budget": self.budget}
