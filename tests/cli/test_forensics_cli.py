"""`forensics`, `timeline` and `prune` as a user and a script meet them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from hermes_lifecycle.projection import verify_projection
from tests.conftest import run_hermes
from tests.journal_runs import boot, crash, drain, planned_stop, request

STORY_KEYS = {"schema_version", "profile", "run_id", "pid", "state", "started_at", "started_by_restart",
              "ended_at", "duration_s", "end", "ending", "verdict", "stop_cause", "drain", "resume", "restart",
              "escalation", "exit", "last_sign_of_life", "heartbeat", "timeline"}


def test_forensics_json_has_the_documented_fields(journal, home_dir):
    planned_stop(journal, "r1", sessions=["s1"])
    doc = json.loads(run_hermes(home_dir, "forensics", "--last", "--json").stdout)
    assert set(doc) == STORY_KEYS
    assert doc["run_id"] == "r1" and doc["ending"] == "planned_stop"
    assert doc["restart"] is None and doc["started_by_restart"] is None


def test_forensics_text_tells_the_story(journal, home_dir):
    planned_stop(journal, "r1", sessions=["s1"])
    boot(journal, "r2", resumed=["s1"])
    out = run_hermes(home_dir, "forensics", "--run", "r1")
    assert out.returncode == 0, out.stderr
    assert "verdict: planned stop, drained in" in out.stdout
    assert "stop cause: stop requested by controller alice@box pid 5000 (hermes gateway stop)" in out.stdout
    assert "sessions marked for resume: s1 resumed" in out.stdout


def test_forensics_refuses_bad_input_with_one_line(journal, home_dir):
    planned_stop(journal, "r1")
    missing = run_hermes(home_dir, "forensics", "--run", "nope")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "no run 'nope'" in missing.stderr
    both = run_hermes(home_dir, "forensics", "--run", "r1", "--last")
    assert both.returncode == 2 and "either --run" in both.stderr


def test_timeline_svg_is_well_formed_with_kills_and_crashes_marked(journal, home_dir, tmp_path):
    planned_stop(journal, "r1")
    boot(journal, "r2")
    request(journal, timeout=1)
    journal.fire("escalated", actor="controller", data={"step": "kill_tree", "pids": [1]})
    journal.fire("kill", actor="controller")
    crash(journal, "r3")
    target = tmp_path / "runs.svg"
    out = run_hermes(home_dir, "timeline", "-n", "2", "-o", str(target))
    assert out.returncode == 0, out.stderr
    root = ET.parse(target).getroot()
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "r2" in texts and "r3" in texts and "r1" not in texts
    assert any(t and t.startswith("killed after the ") for t in texts)
    assert any(t and t.startswith("crashed: ") for t in texts)
    assert root.find(".//{http://www.w3.org/2000/svg}polygon") is not None


def test_timeline_says_a_restarted_run_came_back_as_forensics_does(journal, home_dir, tmp_path):
    planned_stop(journal, "r1", intent="restart")
    boot(journal, "r2")
    target = tmp_path / "runs.svg"
    out = run_hermes(home_dir, "timeline", "-o", str(target))
    assert out.returncode == 0, out.stderr
    texts = [t.text or "" for t in ET.parse(target).getroot().iter("{http://www.w3.org/2000/svg}text")]
    restart = [t for t in texts if t.startswith("planned restart")]
    assert restart and "back up (ready)" in restart[0], texts
    story = json.loads(run_hermes(home_dir, "forensics", "--run", "r1", "--json").stdout)
    assert story["verdict"] == restart[0]


def test_timeline_mermaid_is_a_gantt_with_one_section_per_run(journal, home_dir):
    planned_stop(journal, "r1")
    crash(journal, "r2")
    out = run_hermes(home_dir, "timeline", "--format", "mermaid").stdout
    assert out.startswith("gantt\n")
    assert "    section r1" in out and "    section r2" in out
    assert "crashed :crit, milestone" in out


def test_prune_cli_keeps_the_log_consistent(journal, home_dir):
    for i in range(4):
        planned_stop(journal, f"r{i}")
    boot(journal, "r4")
    dry = run_hermes(home_dir, "prune", "--keep-runs", "2", "--dry-run")
    assert dry.stdout.startswith("would remove 3 run(s) (r0 .. r2)")
    doc = json.loads(run_hermes(home_dir, "prune", "--keep-runs", "2", "--json").stdout)
    assert doc["removed"]["runs"] == 3 and doc["pruned_seq"] is not None
    stored, rebuilt = verify_projection(journal.conn, "default")
    assert stored == rebuilt and stored.run_id == "r4"
    assert run_hermes(home_dir, "prune", "--older-than", "1h").stdout.startswith("nothing to prune")
    both = run_hermes(home_dir, "prune", "--keep-runs", "1", "--older-than", "1h")
    assert both.returncode == 2 and "exactly one" in both.stderr
    bad = run_hermes(home_dir, "prune", "--older-than", "soon")
    assert bad.returncode == 2 and "invalid duration 'soon'" in bad.stderr


def _a_run_whose_process_is_gone(journal) -> None:
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, timeout=60, check=True)
    journal.fire("start", actor="gateway", run_id="r-gone", pid=int(gone.stdout), data={"create_time": 1.0})
    journal.fire("ready", actor="gateway", data={"port": 40000})


def test_forensics_of_a_vanished_gateway_tells_the_crash_not_a_live_run(journal, home_dir):
    _a_run_whose_process_is_gone(journal)
    doc = json.loads(run_hermes(home_dir, "forensics", "--last", "--json").stdout)
    assert doc["ending"] == "crashed" and doc["end"] == "lost"
    assert doc["verdict"].startswith("crashed: the process vanished while running")
    stored, folded = verify_projection(journal.conn, "default")
    assert stored == folded and stored.state == "crashed"


def test_timeline_of_a_vanished_gateway_draws_the_crash(journal, home_dir):
    _a_run_whose_process_is_gone(journal)
    out = run_hermes(home_dir, "timeline", "--format", "mermaid")
    assert out.returncode == 0, out.stderr
    assert "crashed :crit, milestone" in out.stdout


def test_timeline_wraps_a_long_verdict_inside_the_picture_and_keeps_it_whole_on_hover(journal, home_dir, tmp_path):
    from hermes_lifecycle.history.timeline_svg import VERDICT_CHARS

    error = "cannot bind: " + "a very long configuration complaint " * 8
    boot(journal, "r1", ready=False)
    journal.fire("start_failed", actor="gateway", reason=error, data={"error": error, "exit_code": 78})
    target = tmp_path / "runs.svg"
    assert run_hermes(home_dir, "timeline", "-o", str(target)).returncode == 0
    svg = "{http://www.w3.org/2000/svg}"
    verdict = next(g for g in ET.parse(target).getroot().iter(f"{svg}g")
                   if (g.findtext(f"{svg}title") or "").startswith("failed to start"))
    assert verdict.findtext(f"{svg}title") == f"failed to start: {error}"
    lines = [t.text for t in verdict.iter(f"{svg}text")]
    assert len(lines) == 2 and all(len(line) <= VERDICT_CHARS for line in lines)
    assert lines[0].startswith("failed to start: cannot bind") and lines[1].endswith("...")


def test_timeline_keeps_a_stop_request_and_its_signal_apart(journal, home_dir, tmp_path):
    boot(journal, "r1")
    request(journal)
    drain(journal, signal="SIGTERM")
    target = tmp_path / "runs.svg"
    assert run_hermes(home_dir, "timeline", "-o", str(target)).returncode == 0
    svg = "{http://www.w3.org/2000/svg}"
    spans = {}
    for group in ET.parse(target).getroot().iter(f"{svg}g"):
        title, line = group.find(f"{svg}title"), group.find(f"{svg}line")
        if title is not None and line is not None:
            spans[title.text.split(" ")[0]] = (float(line.get("y1")), float(line.get("y2")))
    request_span, signal_span = spans["stop_requested"], spans["signal_received"]
    assert request_span[1] <= signal_span[0]  # one above the other, never on top of each other
