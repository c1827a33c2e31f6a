"""``append(..., extra=)``: a caller's rows commit or roll back together with the event."""

from __future__ import annotations

import pytest

from hermes_lifecycle.errors import IllegalTransition


def _make_table(journal) -> None:
    journal.conn.execute("CREATE TABLE IF NOT EXISTS side (note TEXT)")


def _notes(journal) -> list[str]:
    return [r[0] for r in journal.conn.execute("SELECT note FROM side")]


def test_extra_rows_commit_with_the_event(journal):
    _make_table(journal)
    event = journal.fire("start", actor="test", pid=1, data={"create_time": 1.0},
                         extra=lambda conn: conn.execute("INSERT INTO side VALUES ('with start')"))
    assert _notes(journal) == ["with start"]
    assert journal.events()[-1].seq == event.seq


def test_failing_extra_rolls_back_the_event(journal):
    _make_table(journal)

    def boom(conn):
        conn.execute("INSERT INTO side VALUES ('half')")
        raise RuntimeError("extra failed")

    with pytest.raises(RuntimeError):
        journal.fire("start", actor="test", pid=1, data={"create_time": 1.0}, extra=boom)
    assert journal.events() == []
    assert _notes(journal) == []
    assert journal.state().state == "stopped"


def test_extra_does_not_run_when_the_machine_refuses(journal):
    _make_table(journal)
    with pytest.raises(IllegalTransition):
        journal.fire("drained", actor="test", extra=lambda conn: conn.execute("INSERT INTO side VALUES ('x')"))
    assert _notes(journal) == []
