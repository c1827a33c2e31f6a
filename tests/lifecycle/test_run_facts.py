"""A run's facts come from its `start` event, read by one function."""

from __future__ import annotations

from hermes_lifecycle.run_facts import run_facts

LINE = ["python", "-m", "hermes_lifecycle.cli.main", "gateway", "--home", "h", "run", "--drain-timeout", "7"]


def test_the_recorded_drain_timeout_wins_and_the_command_line_is_the_fallback(journal):
    journal.fire("start", actor="test", run_id="r-1", pid=11,
                 data={"create_time": 1.5, "cmdline": LINE, "app": "a:b", "host": "127.0.0.1", "drain_timeout": 4})
    journal.fire("lost", actor="test")
    journal.fire("start", actor="test", run_id="r-2", pid=12, data={"create_time": 2.5, "cmdline": LINE})
    first, second = run_facts(journal, "r-1"), run_facts(journal, "r-2")
    assert (first.pid, first.create_time, first.app, first.host, first.drain_timeout) == (11, 1.5, "a:b",
                                                                                          "127.0.0.1", 4.0)
    assert first.cmdline == tuple(LINE)
    assert second.drain_timeout == 7.0  # no recorded value: its own --drain-timeout
    assert run_facts(journal, "r-none") is None and run_facts(journal, None) is None
