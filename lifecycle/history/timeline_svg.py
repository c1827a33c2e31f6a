"""The recent runs drawn as an SVG, by hand: no plotting dependency.

One row per run.  Each bar spans its own run from start to end (runs of seconds and
of days are both readable), coloured by state; the end is marked (a grey square for
a stop, a red cross for a kill, a red triangle for a crash, an arrow while alive);
ticks above the bar mark stop requests, signals, drain timeouts and escalation steps.
Hovering any part shows its exact times (SVG ``<title>``).
"""

from __future__ import annotations

import textwrap
from html import escape

from hermes_lifecycle.durations import human
from hermes_lifecycle.history.timeline import Lane

STATE_COLOURS = {"starting": "#7fb3d5", "running": "#58b368", "draining": "#f0b23e"}
MARK_COLOURS = {"stop_requested": "#2e6fbd", "signal_received": "#7d3cbd", "drain_timeout": "#d9822b",
                "escalated": "#c0392b", "exit_forced": "#c0392b"}
CONTROLLER_MARKS = ("stop_requested", "escalated")
WIDTH, LABEL_W, ROW_H, TOP = 980, 250, 72, 78
BAR_X0, BAR_X1 = LABEL_W, WIDTH - 40
#: A verdict line's length that stays inside the picture at 11 px (bold is the widest); two lines at most.
VERDICT_CHARS = 104


def _text(x: float, y: float, text: str, *, size: int = 12, fill: str = "#222", weight: str = "normal",
          anchor: str = "start") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" font-weight="{weight}" '
            f'text-anchor="{anchor}">{escape(text)}</text>')


def _legend(y: float) -> list[str]:
    parts, x = [], 10
    for state, colour in STATE_COLOURS.items():
        parts.append(f'<rect x="{x}" y="{y - 10}" width="14" height="12" fill="{colour}"/>')
        parts.append(_text(x + 18, y, state, size=11))
        x += 90
    for label in ("stopped", "killed", "crashed"):  # square, cross, triangle
        parts.append(_end_marker(x + 6, y - 4, label))
        parts.append(_text(x + 16, y, label, size=11))
        x += 82
    for label, trigger in (("stop request", "stop_requested"), ("signal", "signal_received"),
                           ("drain timeout", "drain_timeout"), ("escalation", "escalated")):
        parts.append(f'<line x1="{x + 4}" y1="{y - 12}" x2="{x + 4}" y2="{y + 2}" '
                     f'stroke="{MARK_COLOURS[trigger]}" stroke-width="3"/>')
        parts.append(_text(x + 10, y, label, size=11))
        x += 22 + 7 * len(label)
    return parts


def _end_marker(x: float, y: float, state: str) -> str:
    if state == "killed":
        return (f'<g stroke="#c0392b" stroke-width="3"><line x1="{x - 6}" y1="{y - 6}" x2="{x + 6}" y2="{y + 6}"/>'
                f'<line x1="{x - 6}" y1="{y + 6}" x2="{x + 6}" y2="{y - 6}"/></g>')
    if state == "crashed":
        return (f'<polygon points="{x},{y - 8} {x + 8},{y + 6} {x - 8},{y + 6}" fill="#c0392b"/>'
                f'<text x="{x}" y="{y + 5}" font-size="9" fill="#fff" text-anchor="middle" '
                f'font-weight="bold">!</text>')
    if state == "stopped":
        return f'<rect x="{x - 5}" y="{y - 5}" width="10" height="10" fill="#777"/>'
    return f'<polygon points="{x - 4},{y - 7} {x + 6},{y} {x - 4},{y + 7}" fill="#58b368"/>'


def _row(lane: Lane, y: float) -> list[str]:
    scale = (BAR_X1 - BAR_X0) / lane.seconds

    def x_of(moment) -> float:
        return BAR_X0 + (moment - lane.begin).total_seconds() * scale

    bad = lane.final_state in ("killed", "crashed")
    parts = [_text(10, y + 18, lane.run_id, weight="bold"),
             _text(10, y + 34, f"{lane.begin:%Y-%m-%d %H:%M:%S} UTC, {human(lane.seconds)}", size=11,
                   fill="#555")]
    parts.append(f'<rect x="{BAR_X0}" y="{y + 8}" width="{BAR_X1 - BAR_X0}" height="18" fill="#f3f3f3"/>')
    for seg in lane.segments:
        x0, x1 = x_of(seg.begin), x_of(seg.end)
        parts.append(f'<g><title>{escape(seg.state)} {seg.begin:%H:%M:%S.%f} .. {seg.end:%H:%M:%S.%f} '
                     f'({human((seg.end - seg.begin).total_seconds())})</title>'
                     f'<rect x="{x0:.1f}" y="{y + 8}" width="{max(x1 - x0, 2):.1f}" height="18" '
                     f'fill="{STATE_COLOURS.get(seg.state, "#aaa")}"/></g>')
    for mark in lane.marks:
        x = x_of(mark.at)
        # The controller's marks on the upper half, the gateway's on the lower: a stop request
        # and the signal that follows it a millisecond later stay both visible.
        top, bottom = (y + 2, y + 17) if mark.trigger in CONTROLLER_MARKS else (y + 17, y + 32)
        parts.append(f'<g><title>{escape(mark.label)} at {mark.at:%H:%M:%S.%f}</title>'
                     f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" '
                     f'stroke="{MARK_COLOURS.get(mark.trigger, "#444")}" stroke-width="3"/></g>')
    state = lane.final_state if lane.ended else "alive"
    parts.append(_end_marker(BAR_X1 + 12, y + 17, state))
    lines = textwrap.wrap(lane.verdict, VERDICT_CHARS, max_lines=2, placeholder=" ...")
    parts.append(f"<g><title>{escape(lane.verdict)}</title>")
    for n, line in enumerate(lines):
        parts.append(_text(BAR_X0, y + 44 + 13 * n, line, size=11, fill="#c0392b" if bad else "#333",
                           weight="bold" if bad else "normal"))
    parts.append("</g>")
    return parts


def render_svg(lanes: list[Lane], stream: str) -> str:
    """A self-contained SVG document of ``lanes`` (oldest at the top)."""
    height = TOP + ROW_H * max(len(lanes), 1) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
             f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
             _text(10, 24, f"Gateway {stream}: the last {len(lanes)} run(s), oldest first", size=16,
                   weight="bold"),
             _text(10, 42, "each bar spans its own run from start to end; hover for exact times", size=11,
                   fill="#555")]
    parts.extend(_legend(64))
    if not lanes:
        parts.append(_text(10, TOP + 24, "no runs recorded yet", size=13, fill="#555"))
    for i, lane in enumerate(lanes):
        y = TOP + i * ROW_H
        if i % 2:
            parts.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW_H}" fill="#fafafa"/>')
        parts.extend(_row(lane, y))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
