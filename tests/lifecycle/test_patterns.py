"""Warnings across runs: crash loops, restarts that never came back, runs with no shutdown."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hermes_lifecycle.history.patterns import CRASH_LOOP_ENDS, counts, warnings
from tests.journal_runs import boot, crash, drain, planned_stop, request


def kinds(journal, now=None) -> list[str]:
    return [w["kind"] for w in warnings(journal.conn, "default", journal.state(), now)]


def test_five_unplanned_ends_within_ten_minutes_are_a_crash_loop(journal):
    for i in range(CRASH_LOOP_ENDS - 1):
        crash(journal, f"r{i}")
    assert "crash_loop" not in kinds(journal)
    boot(journal, "r-signal")
    drain(journal, signal="SIGTERM", code=1)
    found = warnings(journal.conn, "default", journal.state())
    loop = next(w for w in found if w["kind"] == "crash_loop")
    assert loop["message"].startswith(f"crash loop: {CRASH_LOOP_ENDS} unplanned ends within ")
    assert loop["command"] == "hermes-lifecycle status --history"


def test_a_crash_loop_long_past_is_no_longer_a_warning(journal):
    for i in range(CRASH_LOOP_ENDS):
        crash(journal, f"r{i}")
    assert "crash_loop" in kinds(journal)
    assert "crash_loop" not in kinds(journal, datetime.now(timezone.utc) + timedelta(days=2))


def test_planned_stops_do_not_make_a_crash_loop(journal):
    for i in range(CRASH_LOOP_ENDS + 2):
        planned_stop(journal, f"r{i}")
    assert kinds(journal) == []


def test_a_restart_that_never_reached_ready_is_named(journal):
    planned_stop(journal, "r1", intent="restart")
    boot(journal, "r2", ready=False)
    journal.fire("start_failed", actor="gateway", reason="boom")
    found = warnings(journal.conn, "default", journal.state())
    stuck = next(w for w in found if w["kind"] == "restart_not_ready")
    assert "never reached ready" in stuck["message"]
    assert stuck["command"] == "hermes-lifecycle forensics --run r1"


def test_a_restart_asked_while_starting_is_not_satisfied_by_the_old_run_becoming_ready(journal):
    boot(journal, "r1", ready=False)
    request(journal, "restart")
    journal.fire("ready", actor="gateway", data={"port": 40000})
    drain(journal, code=75)
    boot(journal, "r2", ready=False)
    journal.fire("start_failed", actor="gateway", reason="boom")
    assert "restart_not_ready" in kinds(journal)


def test_a_restart_still_starting_is_named_only_after_a_while(journal):
    planned_stop(journal, "r1", intent="restart")
    boot(journal, "r2", ready=False)
    assert "restart_not_ready" not in kinds(journal)
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert "restart_not_ready" in kinds(journal, later)


def test_a_restart_that_came_back_is_quiet(journal):
    planned_stop(journal, "r1", intent="restart")
    boot(journal, "r2")
    assert kinds(journal) == []


def test_the_newest_run_ending_with_no_shutdown_is_named(journal):
    planned_stop(journal, "r1")
    crash(journal, "r2")
    found = warnings(journal.conn, "default", journal.state())
    assert [w["command"] for w in found if w["kind"] == "no_shutdown"] == ["hermes-lifecycle forensics --run r2"]
    planned_stop(journal, "r3")
    assert "no_shutdown" not in kinds(journal)


def test_counts_cover_restarts_crashes_and_kills_in_the_window(journal):
    planned_stop(journal, "r1", intent="restart")
    planned_stop(journal, "r2")
    crash(journal, "r3")
    boot(journal, "r4")
    request(journal)
    journal.fire("kill", actor="controller")
    got = counts(journal.conn, "default")
    assert (got["restarts"], got["stops"], got["crashes"], got["kills"], got["unplanned_ends"]) == (1, 2, 1, 1, 1)
    assert got["capped"] is False
    tomorrow = datetime.now(timezone.utc) + timedelta(days=2)
    assert counts(journal.conn, "default", tomorrow)["crashes"] == 0
