"""The timeline picture: one time axis for all runs, downtime visible, failures unlike planned
stops, every mark in the legend; rendered for real with rsvg-convert and measured in pixels."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime

import pytest

from hermes_lifecycle.history.timeline_svg import AXIS_Y, BAR_X0, BAR_X1, END_NAMES, MARK_NAMES, ROW_H, TOP
from tests.conftest import run_hermes
from tests.journal_runs import boot, drain, ended_run, request

SVG = "{http://www.w3.org/2000/svg}"
GREEN = (0x58, 0xB3, 0x68)  # running
HATCH = (0xB5, 0xB5, 0xB5)  # the downtime's stripes


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _two_runs_and_a_gap(journal) -> None:
    """A long run, a pause (downtime), a short run: each `running` span set by sleeping."""
    for run_id, lasts, then_down in (("r-long", 0.6, 0.35), ("r-short", 0.15, 0)):
        boot(journal, run_id)
        time.sleep(lasts)
        request(journal)
        drain(journal)
        time.sleep(then_down)


def _decode_png(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, bytes per pixel and rows of an 8-bit RGB or RGBA PNG (what rsvg-convert writes), filters undone."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", data)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0
            bpp = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += data
    raw, stride, rows, previous, i = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, bpp, rows


def _xs_of(row: bytes, colour: tuple[int, int, int], x0: int = BAR_X0, x1: int = BAR_X1 + 1) -> list[int]:
    bpp = len(row) // 980
    return [x for x in range(x0, x1) if all(abs(row[bpp * x + k] - colour[k]) <= 12 for k in range(3))]


@pytest.mark.skipif(shutil.which("rsvg-convert") is None,
                    reason="rsvg-convert is not installed (Debian/Ubuntu: apt-get install librsvg2-bin)")
def test_the_rendered_picture_has_one_time_axis_proportional_bars_and_visible_downtime(journal, home_dir, tmp_path):
    _two_runs_and_a_gap(journal)
    svg, png = tmp_path / "runs.svg", tmp_path / "runs.png"
    assert run_hermes(home_dir, "timeline", "-o", str(svg)).returncode == 0
    subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True, timeout=60)
    width, bpp, rows = _decode_png(png.read_bytes())
    assert width == 980

    events = [json.loads(line) for line in run_hermes(home_dir, "events", "--json").stdout.splitlines()]
    first = _at(events[0]["at"])
    last = _at(events[-1]["at"])
    scale = (BAR_X1 - BAR_X0) / (last - first).total_seconds()
    spans = {}
    for run_id in ("r-long", "r-short"):
        mine = {e["trigger"]: _at(e["at"]) for e in events if e["run_id"] == run_id}
        spans[run_id] = (mine["ready"], mine["drain"], mine["start"], mine["drained"])

    for i, run_id in enumerate(("r-long", "r-short")):
        ready, drain_at, _, _ = spans[run_id]
        green = _xs_of(rows[TOP + i * ROW_H + 20], GREEN)
        expected_x0 = BAR_X0 + (ready - first).total_seconds() * scale
        expected_w = (drain_at - ready).total_seconds() * scale
        assert abs(green[0] - expected_x0) <= 4, (run_id, green[0], expected_x0)
        assert abs((green[-1] - green[0] + 1) - expected_w) <= 5, (run_id, green[-1] - green[0] + 1, expected_w)
    long_w = spans["r-long"][1] - spans["r-long"][0]
    short_w = spans["r-short"][1] - spans["r-short"][0]
    assert long_w.total_seconds() > 2 * short_w.total_seconds()  # the sleeps made them differ: so do the bars

    gap_from = BAR_X0 + (spans["r-long"][3] - first).total_seconds() * scale
    gap_to = BAR_X0 + (spans["r-short"][2] - first).total_seconds() * scale
    assert gap_to - gap_from > 100  # 0.35 s of downtime on a ~1.2 s axis
    second_row = rows[TOP + ROW_H + 20]
    hatch = _xs_of(second_row, HATCH, int(gap_from) + 3, int(gap_to) - 3)
    assert len(hatch) >= (gap_to - gap_from) / 12, "the downtime is not drawn (a stripe every ~8.5 px)"
    assert _xs_of(second_row, GREEN, int(gap_from) + 3, int(gap_to) - 3) == []
    assert _xs_of(rows[TOP + 20], GREEN, int(gap_from) + 6, BAR_X1) == []  # r-long ends where the gap begins
    assert rows[AXIS_Y][bpp * (BAR_X0 + 100):bpp * (BAR_X0 + 100) + 3] != b"\xff\xff\xff"  # the axis line


def test_failures_look_unlike_planned_stops_and_every_mark_is_in_the_legend(journal, home_dir, tmp_path):
    for n, ending in enumerate(("stop", "start_failed", "crash", "kill", "signal")):
        ended_run(journal, f"r-{n}-{ending}", ending)
    boot(journal, "r-forced")  # drained with no cause recorded (unexplained), then held up
    journal.fire("drain", actor="gateway")
    journal.fire("drain_timeout", actor="gateway", data={"timeout_s": 1, "abandoned": []})
    journal.fire("drained", actor="gateway")
    journal.fire("exit_forced", actor="gateway")
    target = tmp_path / "runs.svg"
    assert run_hermes(home_dir, "timeline", "-o", str(target)).returncode == 0
    root = ET.parse(target).getroot()
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    for name in [*END_NAMES.values(), *MARK_NAMES.values(), "starting", "running", "draining",
                 "down (between runs)", "run that failed"]:
        assert name in texts, f"the legend does not name {name!r}"
    failed = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "failed"]
    assert len(failed) == 5  # start_failed, crash, kill, unplanned signal, unexplained drain: not the planned stop
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "down"]) >= 1

    mermaid = run_hermes(home_dir, "timeline", "--format", "mermaid").stdout
    assert "start_failed :crit, milestone" in mermaid and "crashed :crit, milestone" in mermaid
    assert "killed :crit, milestone" in mermaid and "unplanned_signal :crit, milestone" in mermaid
    assert "stopped :milestone" in mermaid  # the planned stop is not crit
