"""The recent runs as lanes of states over time, for pictures (SVG, Mermaid gantt).

Each :class:`Lane` is one run: its state segments (``starting``, ``running``,
``draining``) and how it ended (``stopped``, ``killed``, ``crashed``, or still alive),
with the escalation steps and drain timeouts as marks.  Built from the newest N
``start`` events and those runs' own events: bounded index reads.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hermes_lifecycle.history.forensics import Story
from hermes_lifecycle.history.runs import latest_by_trigger, run_events
from hermes_lifecycle.history.verdict import ending, verdict
from hermes_lifecycle.machine import ALIVE_STATES, START_TRIGGER
from hermes_lifecycle.store.events import parse_at

#: Endings that were asked for; every other ending of a run is drawn as a failure.
PLANNED_ENDINGS = frozenset({"planned_stop", "planned_restart"})

#: Steps drawn as marks on a lane.
MARKED_STEPS = ("stop_requested", "signal_received", "drain_timeout", "escalated", "exit_forced")


@dataclass(frozen=True)
class Segment:
    state: str
    begin: datetime
    end: datetime


@dataclass(frozen=True)
class Mark:
    trigger: str
    at: datetime
    label: str


@dataclass
class Lane:
    run_id: str
    begin: datetime
    end: datetime
    final_state: str
    ended: bool
    verdict: str
    #: How it ended, as ``verdict.ending`` says: ``planned_stop``, ``start_failed``, ``crashed``, ...
    ending: str = "alive"
    segments: list[Segment] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return max((self.end - self.begin).total_seconds(), 1e-6)

    @property
    def failed(self) -> bool:
        """Ended by anything but a planned stop or restart: a failed start, a crash, a kill,
        an unplanned signal or console close, a drain nobody explained."""
        return self.ended and self.ending not in PLANNED_ENDINGS


def _lane(story: Story, now: datetime) -> Lane:
    transitions = [e for e in story.events if e.is_transition]
    end_event = story.end
    end = parse_at(end_event.at) if end_event else now
    lane = Lane(story.run_id, parse_at(story.start.at), end, story.state, end_event is not None, verdict(story, now),
                ending=ending(story))
    for current, following in zip(transitions, transitions[1:] + [None], strict=True):
        if current.to_state not in ALIVE_STATES:
            continue
        until = parse_at(following.at) if following else now
        lane.segments.append(Segment(current.to_state, parse_at(current.at), until))
    for e in story.events:
        if e.trigger in MARKED_STEPS:
            detail = e.data.get("signal") or e.data.get("step") or e.data.get("intent") or ""
            lane.marks.append(Mark(e.trigger, parse_at(e.at), f"{e.trigger} {detail}".strip()))
    return lane


def recent_lanes(conn: sqlite3.Connection, stream: str, last: int,
                 now: datetime | None = None) -> list[Lane]:
    """The newest ``last`` runs, oldest first."""
    now = now or datetime.now(timezone.utc)
    starts = list(reversed(latest_by_trigger(conn, stream, START_TRIGGER, last)))
    runs = [run_events(conn, stream, s.run_id) if s.run_id else [s] for s in starts]
    # Each run's successor is the next lane (the newest has none): a restart's verdict says
    # whether the run it asked for came back, as `forensics` does.
    return [_lane(Story(stream, start.run_id or "?", events, runs[i + 1] if i + 1 < len(runs) else []), now)
            for i, (start, events) in enumerate(zip(starts, runs, strict=True))]


def _gantt_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def mermaid_gantt(lanes: list[Lane], stream: str) -> str:
    """A Mermaid ``gantt``: one section per run; a run that failed (start_failed, crash, kill,
    unplanned signal) has its end milestone and its last state marked ``crit``."""
    lines = ["gantt", f"    title Gateway {stream}: the last {len(lanes)} run(s)",
             "    dateFormat YYYY-MM-DD HH:mm:ss.SSS", "    axisFormat %H:%M:%S"]
    for i, lane in enumerate(lanes):
        lines.append(f"    section {lane.run_id}")
        for j, seg in enumerate(lane.segments):
            end = max(seg.end, seg.begin)
            last = j == len(lane.segments) - 1
            tag = "active" if not lane.ended and last else "crit, done" if lane.failed and last else "done"
            lines.append(f"    {seg.state} :{tag}, r{i}s{j}, {_gantt_time(seg.begin)}, {_gantt_time(end)}")
        if lane.ended:
            crit = "crit, " if lane.failed else ""
            name = lane.final_state if lane.ending in ("crashed", "killed") or not lane.failed else lane.ending
            lines.append(f"    {name} :{crit}milestone, r{i}end, {_gantt_time(lane.end)}, 0ms")
    return "\n".join(lines) + "\n"
