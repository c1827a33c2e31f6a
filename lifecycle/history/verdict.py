"""One line that says how a run ended, and a stable word for it that scripts can match.

The vocabulary (``ending``) is documented in the README; the sentence (``verdict``)
is for people and may be reworded.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from hermes_lifecycle import stop_budget
from hermes_lifecycle.durations import human
from hermes_lifecycle.machine import ALIVE_STATES, ENDINGS
from hermes_lifecycle.stop_budget import describe
from hermes_lifecycle.store.events import Event, parse_at

if TYPE_CHECKING:
    from hermes_lifecycle.history.forensics import Story

#: Every value ``ending`` can take.
ENDING_KINDS = (
    "alive", "planned_stop", "planned_restart", "unplanned_signal", "console_close",
    "drained_unexplained", "killed", "crashed", "start_failed",
)

def ending(story: "Story") -> str:
    """The kind of ending, one of :data:`ENDING_KINDS`."""
    end = story.end
    if end is None:
        return "alive"
    left_in = ENDINGS.get(end.trigger)
    if left_in in ("crashed", "killed"):  # the rest states only `lost` and `kill` lead to
        return left_in
    if end.trigger == "start_failed":
        return "start_failed"
    cause = story.stop_cause()
    if cause["kind"] == "stop_request":
        return "planned_restart" if cause["intent"] == "restart" else "planned_stop"
    if cause["kind"] == "signal":
        return "unplanned_signal"
    if cause["kind"] == "console_close":
        return "console_close"
    return "drained_unexplained"


def _abandoned(drain: dict | None) -> str:
    if not drain or not drain["abandoned_count"]:
        return ""
    n = drain["abandoned_count"]
    return f", {n} request{'s' if n != 1 else ''} abandoned"


def _drained_phrase(story: "Story") -> str:
    drain = story.drain()
    if drain is None or drain["duration_s"] is None:
        return "stopped with no drain recorded"
    if drain["timed_out"]:
        limit = drain["timeout_s"] or story.stop_cause()["drain_timeout_s"]
        after = f" after {human(limit)}" if limit else ""
        return f"the drain timed out{after}{_abandoned(drain)}"
    return f"drained in {human(drain['duration_s'])}"


def _force_after(story: "Story") -> tuple[float, str | None] | None:
    """Seconds from the stop request to the first force step, and what the stop allowed: the
    budget it recorded, said by :func:`hermes_lifecycle.stop_budget.describe` (the timeout as
    typed and its split), else, for logs written before budgets were recorded, the deadline."""
    request = story._first("stop_requested")
    force = story._first("escalated")
    if request is None or force is None:
        return None
    budget = stop_budget.recorded(request)
    if budget is not None:
        allowed: str | None = describe(budget)
    else:
        seconds = stop_budget.deadline_seconds(request)
        allowed = f"the stop allowed {human(seconds)}" if seconds else None
    return (parse_at(force.at) - parse_at(request.at)).total_seconds(), allowed


def _killed(story: "Story") -> str:
    cause, drain, steps = story.stop_cause(), story.drain(), story.escalation()
    limit = (drain or {}).get("timeout_s") or cause["drain_timeout_s"]
    run_limit = story.facts.drain_timeout
    waited = _force_after(story)
    if cause["force"]:
        text = "killed by force (stop --force), no drain wait"
    elif run_limit and waited and waited[0] < run_limit and not (drain or {}).get("timed_out"):
        # The stop's own --timeout was shorter than the run's drain timeout: force came first.
        allowed = f" ({waited[1]})" if waited[1] else ""
        text = (f"killed {human(waited[0])} after the stop request{allowed}, "
                f"before the {human(run_limit)} drain timeout ran out")
        if drain and drain["in_flight_count"]:
            n = drain["in_flight_count"]
            text += f", {n} request{'s' if n != 1 else ''} in flight as the drain began"
    elif limit:
        text = f"killed after the {human(limit)} drain timeout"
    else:
        text = "killed by escalation"
    text += _abandoned(drain)
    if drain is None:
        text += ", the gateway never began to drain"
    signals = [s["signal"] or s["step"] for s in steps if s["signal"] or s["step"]]
    if signals:
        text += f" ({', then '.join(str(s) for s in signals)})"
    return text


def _crashed(story: "Story", end: Event) -> str:
    exit_info, life = story.exit(), story.last_sign_of_life()
    where = f"while {end.from_state}" if end.from_state in ALIVE_STATES else f"in {end.from_state}"
    if exit_info and exit_info["signal"]:
        how = f"the process ended by {exit_info['signal']} {where}"
    elif exit_info and exit_info["code"] is not None:
        how = f"the process exited with code {exit_info['code']} {where}"
    else:
        how = f"the process vanished {where}"
    text = f"crashed: {how}, no shutdown recorded"
    if exit_info and exit_info.get("service_result") == "watchdog":
        # systemd's WatchdogSec= passed with no WATCHDOG=1 from the loop: alive, not answering
        text = f"watchdog: the loop stopped answering; systemd ended it ({how}), no shutdown recorded"
    if life is not None:
        text += f", last sign of life {human(life['seconds_before_noticed'])} before it was noticed"
    return text + _heartbeat_phrase(story.heartbeat())


def _size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _heartbeat_phrase(beat: dict | None) -> str:
    """"; its last heartbeat was 12 s before it was found gone, RSS 1.9 GB; the kernel's OOM killer..."."""
    if not beat or not isinstance(beat.get("age_s"), (int, float)):
        return ""
    text = f"; its last heartbeat was {human(beat['age_s'])} before it was found gone"
    if isinstance(beat.get("rss"), int):
        text += f", RSS {_size(beat['rss'])}"
    if isinstance(beat.get("oom_kills_since"), int) and beat["oom_kills_since"] > 0:
        text += "; the kernel's OOM killer ended a process in its cgroup"
    return text


def _came_back(story: "Story", end: Event) -> str:
    """After a restart: whether the next run reached ``ready``, and how long after the stop."""
    if not story.next_run:
        return "; no run has started since"
    ready = next((e for e in story.next_run if e.trigger == "ready"), None)
    if ready is not None:
        return f"; back up (ready) {human((parse_at(ready.at) - parse_at(end.at)).total_seconds())} later"
    ended = any(e.is_transition and e.trigger in ENDINGS for e in story.next_run)
    return "; the next run never became ready" if ended else "; the next run is still starting"


def verdict(story: "Story", now: datetime | None = None) -> str:
    """A one-line reading of the run, e.g. "planned stop, drained in 0.21 s"."""
    kind = ending(story)
    cause = story.stop_cause()
    end = story.end
    if end is None:  # kind "alive"
        now = now or datetime.now(timezone.utc)
        age = human((now - parse_at(story.start.at)).total_seconds())
        return f"{story.state} for {age}, not ended yet"
    if kind == "start_failed":
        error = end.reason or end.data.get("error") or "no error recorded"
        return f"failed to start: {error}"
    if kind == "killed":
        return _killed(story)
    if kind == "crashed":
        return _crashed(story, end)
    while_starting = ""
    if cause["during_start"]:
        while_starting = " asked while starting" + (" (never ready)" if cause["never_ready"] else "")
    head = {
        "planned_stop": f"planned stop{while_starting}",
        "planned_restart": f"planned restart{while_starting}",
        "unplanned_signal": f"unplanned stop by {cause['signal']}{while_starting}",
        "console_close": f"stopped by a console close ({cause['signal']}){while_starting}",
        "drained_unexplained": f"stopped with no recorded cause{while_starting}",
    }[kind]
    asker = cause["requested_by"] or {}
    if asker.get("role") == "service-manager" and kind in ("planned_stop", "planned_restart"):
        head += f" by the service manager ({asker.get('manager', 'unknown')})"
    if cause["force"] and kind in ("planned_stop", "planned_restart"):
        head += " (stop --force)"
    text = f"{head}, {_drained_phrase(story)}"
    if kind == "planned_restart":
        text += _came_back(story, end)
    steps = [s["step"] for s in story.escalation() if s["step"]]
    if steps:  # force was sent, but the run's own drain ended it: both are on the log
        text += f"; force sent ({', then '.join(str(s) for s in steps)}) as it drained"
    exit_info = story.exit()
    if exit_info and exit_info["forced"]:
        text += ", exit forced (something held the drained process up)"
    return text
