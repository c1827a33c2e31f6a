"""What a controller command did, as one value the CLI turns into words and an exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Exit codes of `stop` and `restart` (the README's table lists them).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_FORCED = 3


@dataclass
class StopOutcome:
    """``result`` is ``not_running``, ``stopped`` (left on its own), ``forced`` (ended by
    escalation) or ``failed`` (still alive after every step)."""

    result: str
    state: str
    run_id: str | None = None
    pid: int | None = None
    message: str = ""
    joined: bool = False  # another stop of the same run was already under way
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"forced": EXIT_FORCED, "failed": EXIT_FAILED}.get(self.result, EXIT_OK)

    def to_json(self) -> dict[str, Any]:
        return {"result": self.result, "state": self.state, "run_id": self.run_id, "pid": self.pid,
                "joined": self.joined, "message": self.message, "exit_code": self.exit_code}
