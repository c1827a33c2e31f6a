"""How a stop splits its time, said once: what the user typed, the drain wait, the grace.

``stop`` computes its budget with :func:`split` and records the result in its
``stop_requested`` event; the stop's own message and the run's verdict both say it with
:func:`describe`, so the user reads back the timeout they typed and how it was used, never a
figure worked out again from timestamps.  Pure: no I/O, no imports beyond the standard library.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hermes_lifecycle.store import Event

#: Beyond the gateway's own drain timeout, for its last events and its exit.
MARGIN = 2.0
#: Between terminating the tree and killing it.
GRACE = 1.0


def grace_for(total: float) -> float:
    """The grace between terminate and kill, inside the budget (a quarter of it at most)."""
    return min(GRACE, total / 4)


def split(timeout: float | None, drain_timeout: float) -> dict[str, Any]:
    """The stop's budget: ``timeout`` as typed (``stop --timeout``), else the run's drain
    timeout plus :data:`MARGIN` and :data:`GRACE`; the drain wait is what the grace leaves."""
    total = timeout if timeout is not None else drain_timeout + MARGIN + GRACE
    grace = grace_for(total)
    return {"timeout_s": timeout, "total_s": round(total, 3), "drain_s": round(total - grace, 3),
            "grace_s": round(grace, 3), "run_drain_timeout_s": drain_timeout}


def describe(budget: dict[str, Any]) -> str:
    """``stop --timeout 3 s: 2.25 s drain wait, 0.75 s grace`` (or the default's sum)."""
    wait = f"{_s(budget['drain_s'])} drain wait, then {_s(budget['grace_s'])} grace"
    if budget.get("timeout_s") is not None:
        return f"stop --timeout {budget['timeout_s']:g}: {wait}"
    return f"default budget {_s(budget['total_s'])}, the run's drain timeout + margin + grace: {wait}"


def _s(seconds: float) -> str:
    return f"{round(seconds, 2):g} s"


def recorded(request: "Event") -> dict[str, Any] | None:
    """The budget a ``stop_requested`` event recorded, if its writer recorded one."""
    budget = request.data.get("budget")
    return budget if isinstance(budget, dict) and "drain_s" in budget else None


def deadline_seconds(request: "Event") -> float | None:
    """How long a stop request allowed: its deadline minus when it was written (older logs,
    with no recorded budget)."""
    from hermes_lifecycle.store.events import parse_at

    deadline = request.data.get("deadline")
    if deadline is None:
        return request.data.get("timeout")
    asked = parse_at(request.at)
    if isinstance(deadline, (int, float)):
        return round(float(deadline) - asked.timestamp(), 3)
    try:
        moment = datetime.fromisoformat(str(deadline).replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return round((moment - asked).total_seconds(), 3)
