"""A run's facts as its ``start`` event recorded them, read in one place.

Boot (``--replace`` waits for the old run's drain), ``stop`` (its budget), forensics and
the verdict all need the same facts of a run: its drain timeout, port, pid and create time,
command line and app.  They read them here, so a fact recorded differently one day is read
differently everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hermes_lifecycle.command_line import drain_timeout_option as given_drain_timeout
from hermes_lifecycle.command_line import run_args_of

if TYPE_CHECKING:
    from hermes_lifecycle.journal import Journal
    from hermes_lifecycle.store import Event


@dataclass(frozen=True)
class RunFacts:
    """What a run said about itself as it booted (None: not recorded)."""

    run_id: str | None
    pid: int | None
    create_time: float | None
    cmdline: tuple[str, ...] | None
    app: str | None
    host: str | None
    port: int | None  # the port asked for at boot, when the start recorded one (the bound one is in `ready`)
    drain_timeout: float | None

    @classmethod
    def from_start(cls, event: "Event") -> "RunFacts":
        data = event.data
        cmdline = data.get("cmdline")
        words = tuple(str(w) for w in cmdline) if isinstance(cmdline, list) and cmdline else None
        return cls(run_id=event.run_id, pid=event.pid, create_time=_number(data.get("create_time")),
                   cmdline=words, app=data.get("app") if isinstance(data.get("app"), str) else None,
                   host=data.get("host") if isinstance(data.get("host"), str) else None,
                   port=_port(data.get("port")),
                   drain_timeout=_positive(data.get("drain_timeout")) or drain_timeout_option(words))


def run_facts(journal: "Journal", run_id: str | None) -> RunFacts | None:
    """The facts of ``run_id`` from its ``start`` event, or None when the log has no such start."""
    if not run_id:
        return None
    from hermes_lifecycle.machine import START_TRIGGER

    starts = journal.events(run_id=run_id, triggers=(START_TRIGGER,), limit=1)
    return RunFacts.from_start(starts[0]) if starts else None


def drain_timeout_option(cmdline: "tuple[str, ...] | list[str] | None") -> float | None:
    """A gateway command line's own ``--drain-timeout`` (after ``gateway ... run``), if it gave a
    positive number."""
    return _positive(given_drain_timeout(run_args_of(cmdline)))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _positive(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None


def _port(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
