"""The recent runs drawn as an SVG, by hand: no plotting dependency.

One row per run, all on ONE time axis (from the first run's start to the last run's end):
a bar's length is how long its run lasted, and the empty stretch between two runs is the
downtime, drawn hatched.  Bars are coloured by state; a run that failed (a failed start,
a crash, a kill, an unplanned signal) is outlined in red and its end marked in red, unlike
a planned stop or restart.  Ticks mark stop requests, signals, drain timeouts, escalation
steps and forced exits; the legend names every mark drawn.  Hovering any part shows its
exact times (SVG ``<title>``).
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from html import escape

from hermes_lifecycle.durations import human
from hermes_lifecycle.history.timeline import Lane

STATE_COLOURS = {"starting": "#7fb3d5", "running": "#58b368", "draining": "#f0b23e"}
MARK_COLOURS = {"stop_requested": "#2e6fbd", "signal_received": "#7d3cbd", "drain_timeout": "#d9822b",
                "escalated": "#c0392b", "exit_forced": "#111111"}
MARK_NAMES = {"stop_requested": "stop request", "signal_received": "signal", "drain_timeout": "drain timeout",
              "escalated": "escalation", "exit_forced": "exit forced"}
CONTROLLER_MARKS = ("stop_requested", "escalated")
FAILURE_RED, DOWN_GREY = "#c0392b", "#b5b5b5"
#: How each way of ending is marked, and what the legend calls it.
END_NAMES = {"planned": "planned stop or restart", "start_failed": "failed start", "killed": "killed",
             "crashed": "crashed", "unplanned": "unplanned signal or end", "alive": "still running"}
WIDTH, LABEL_W, ROW_H = 980, 250, 72
LEGEND_Y, AXIS_Y = 62, 134
TOP = AXIS_Y + 14
BAR_X0, BAR_X1 = LABEL_W, WIDTH - 40
#: A verdict line's length that stays inside the picture at 11 px (bold is the widest); two lines at most.
VERDICT_CHARS = 104


def _text(x: float, y: float, text: str, *, size: int = 12, fill: str = "#222", weight: str = "normal",
          anchor: str = "start") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" font-weight="{weight}" '
            f'text-anchor="{anchor}">{escape(text)}</text>')


def _local(moment: datetime, fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    return moment.astimezone().strftime(fmt)


def end_kind(lane: Lane) -> str:
    """Which end marker a lane gets (a key of :data:`END_NAMES`)."""
    if not lane.ended:
        return "alive"
    if lane.ending in ("start_failed", "killed", "crashed"):
        return lane.ending
    return "unplanned" if lane.failed else "planned"


def _end_marker(x: float, y: float, kind: str) -> str:
    if kind == "killed":
        return (f'<g stroke="{FAILURE_RED}" stroke-width="3"><line x1="{x - 6}" y1="{y - 6}" x2="{x + 6}" '
                f'y2="{y + 6}"/><line x1="{x - 6}" y1="{y + 6}" x2="{x + 6}" y2="{y - 6}"/></g>')
    if kind == "crashed":
        return (f'<polygon points="{x},{y - 8} {x + 8},{y + 6} {x - 8},{y + 6}" fill="{FAILURE_RED}"/>'
                f'<text x="{x}" y="{y + 5}" font-size="9" fill="#fff" text-anchor="middle" '
                f'font-weight="bold">!</text>')
    if kind == "start_failed":
        return (f'<rect x="{x - 6}" y="{y - 6}" width="12" height="12" fill="{FAILURE_RED}"/>'
                f'<line x1="{x - 3}" y1="{y}" x2="{x + 3}" y2="{y}" stroke="#fff" stroke-width="2"/>')
    if kind == "unplanned":
        return f'<polygon points="{x},{y - 7} {x + 7},{y} {x},{y + 7} {x - 7},{y}" fill="#d9822b"/>'
    if kind == "planned":
        return f'<rect x="{x - 5}" y="{y - 5}" width="10" height="10" fill="#777"/>'
    return f'<polygon points="{x - 4},{y - 7} {x + 6},{y} {x - 4},{y + 7}" fill="#58b368"/>'


def _legend(y: float) -> list[str]:
    """Every colour and mark the picture can hold, on three lines: states, ends, ticks."""
    parts, x = [], 10
    for state, colour in STATE_COLOURS.items():
        parts.append(f'<rect x="{x}" y="{y - 10}" width="14" height="12" fill="{colour}"/>')
        parts.append(_text(x + 18, y, state, size=11))
        x += 90
    parts.append(f'<rect x="{x}" y="{y - 10}" width="14" height="12" fill="url(#down)" stroke="{DOWN_GREY}"/>')
    parts.append(_text(x + 18, y, "down (between runs)", size=11))
    x += 150
    parts.append(f'<rect x="{x}" y="{y - 10}" width="14" height="12" fill="none" stroke="{FAILURE_RED}" '
                 'stroke-width="2"/>')
    parts.append(_text(x + 18, y, "run that failed", size=11))
    x, y = 10, y + 18
    for kind, name in END_NAMES.items():
        parts.append(_end_marker(x + 6, y - 4, kind))
        parts.append(_text(x + 16, y, name, size=11))
        x += 26 + int(6.2 * len(name))
    x, y = 10, y + 18
    for trigger, name in MARK_NAMES.items():
        parts.append(f'<line x1="{x + 4}" y1="{y - 12}" x2="{x + 4}" y2="{y + 2}" '
                     f'stroke="{MARK_COLOURS[trigger]}" stroke-width="3"/>')
        parts.append(_text(x + 10, y, name, size=11))
        x += 24 + int(6.2 * len(name))
    return parts


class Axis:
    """One time axis for every run drawn: moment -> x."""

    def __init__(self, lanes: list[Lane]) -> None:
        self.begin = min(lane.begin for lane in lanes)
        self.end = max(lane.end for lane in lanes)
        self.seconds = max((self.end - self.begin).total_seconds(), 1e-6)
        self.scale = (BAR_X1 - BAR_X0) / self.seconds

    def x(self, moment: datetime) -> float:
        return BAR_X0 + (moment - self.begin).total_seconds() * self.scale

    def draw(self, y: float) -> list[str]:
        parts = [f'<line x1="{BAR_X0}" y1="{y}" x2="{BAR_X1}" y2="{y}" stroke="#888"/>',
                 _text(10, y + 4, f"time ({human(self.seconds)} across)", size=11, fill="#555")]
        for n in range(5):
            x = BAR_X0 + n * (BAR_X1 - BAR_X0) / 4
            moment = self.begin + (self.end - self.begin) * (n / 4)
            parts.append(f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x:.1f}" y2="{y + 4}" stroke="#888"/>')
            anchor = "start" if n == 0 else "end" if n == 4 else "middle"
            label = _local(moment, "%m-%d %H:%M:%S") if self.seconds >= 60 else \
                _local(moment, "%H:%M:%S") + f".{moment.microsecond // 1000:03d}"
            parts.append(_text(x, y - 7, label, size=10, fill="#555", anchor=anchor))
        return parts


def _row(lane: Lane, previous: Lane | None, axis: Axis, y: float) -> list[str]:
    parts = [_text(10, y + 18, lane.run_id, weight="bold"),
             _text(10, y + 34, f"{_local(lane.begin)}, {human(lane.seconds)}", size=11, fill="#555")]
    if previous is not None and lane.begin > previous.end:
        x0, x1 = axis.x(previous.end), axis.x(lane.begin)
        down = human((lane.begin - previous.end).total_seconds())
        parts.append(f'<g class="down"><title>down {down}: from the end of run {escape(previous.run_id)} '
                     f'to the start of run {escape(lane.run_id)}</title>'
                     f'<rect x="{x0:.1f}" y="{y + 8}" width="{max(x1 - x0, 1):.1f}" height="18" '
                     f'fill="url(#down)" stroke="{DOWN_GREY}" stroke-width="0.5"/></g>')
    for seg in lane.segments:
        x0, x1 = axis.x(seg.begin), axis.x(seg.end)
        parts.append(f'<g class="segment"><title>{escape(seg.state)} {_local(seg.begin, "%H:%M:%S")}'
                     f'{seg.begin:.%f} .. {_local(seg.end, "%H:%M:%S")}{seg.end:.%f} '
                     f'({human((seg.end - seg.begin).total_seconds())})</title>'
                     f'<rect x="{x0:.1f}" y="{y + 8}" width="{max(x1 - x0, 2):.1f}" height="18" '
                     f'fill="{STATE_COLOURS.get(seg.state, "#aaa")}"/></g>')
    if lane.failed:
        x0, x1 = axis.x(lane.begin), axis.x(lane.end)
        parts.append(f'<rect class="failed" x="{x0 - 1:.1f}" y="{y + 7}" width="{max(x1 - x0, 2) + 2:.1f}" '
                     f'height="20" fill="none" stroke="{FAILURE_RED}" stroke-width="2"/>')
    for mark in lane.marks:
        x = axis.x(mark.at)
        # The controller's marks on the upper half, the gateway's on the lower: a stop request
        # and the signal that follows it a millisecond later stay both visible.
        top, bottom = (y + 2, y + 17) if mark.trigger in CONTROLLER_MARKS else (y + 17, y + 32)
        parts.append(f'<g><title>{escape(mark.label)} at {_local(mark.at, "%H:%M:%S")}{mark.at:.%f}</title>'
                     f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" '
                     f'stroke="{MARK_COLOURS.get(mark.trigger, "#444")}" stroke-width="3"/></g>')
    parts.append(_end_marker(axis.x(lane.end) + 10, y + 17, end_kind(lane)))
    lines = textwrap.wrap(lane.verdict, VERDICT_CHARS, max_lines=2, placeholder=" ...")
    parts.append(f"<g><title>{escape(lane.verdict)}</title>")
    for n, line in enumerate(lines):
        parts.append(_text(BAR_X0, y + 44 + 13 * n, line, size=11, fill=FAILURE_RED if lane.failed else "#333",
                           weight="bold" if lane.failed else "normal"))
    parts.append("</g>")
    return parts


def render_svg(lanes: list[Lane], stream: str) -> str:
    """A self-contained SVG document of ``lanes`` (oldest at the top), on one time axis."""
    height = TOP + ROW_H * max(len(lanes), 1) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
             '<defs><pattern id="down" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/>'
             f'<line x1="0" y1="0" x2="0" y2="6" stroke="{DOWN_GREY}" stroke-width="2"/></pattern></defs>',
             f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
             _text(10, 24, f"Gateway {stream}: the last {len(lanes)} run(s), oldest first", size=16,
                   weight="bold"),
             _text(10, 42, "one time axis for every run: a bar is as long as its run; hatched, the downtime "
                           "between runs; hover for exact times", size=11, fill="#555")]
    parts.extend(_legend(LEGEND_Y))
    if not lanes:
        parts.append(_text(10, TOP + 24, "no runs recorded yet", size=13, fill="#555"))
    else:
        axis = Axis(lanes)
        parts.extend(axis.draw(AXIS_Y))
        for i, lane in enumerate(lanes):
            y = TOP + i * ROW_H
            if i % 2:
                parts.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW_H}" fill="#fafafa"/>')
            parts.extend(_row(lane, lanes[i - 1] if i else None, axis, y))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
