"""The recorded decision table is the transitions machine's own answers, and is used only while fresh."""

from __future__ import annotations

import json
import subprocess
import sys

from hermes_lifecycle import decision_table, machine
from hermes_lifecycle.decisions import ask_the_machine, render, tables_source
from hermes_lifecycle.errors import IllegalTransition
from tests.conftest import ROOT, hermes_env

import pytest

REGENERATE = "stale: run `python -m hermes_lifecycle.decisions` and commit lifecycle/decision_table.py"


def test_the_recorded_table_is_what_the_machine_answers_for_every_state_and_trigger():
    assert decision_table.SOURCE == tables_source(), REGENERATE
    assert decision_table.TABLE == ask_the_machine(), REGENERATE
    assert len(decision_table.TABLE) > len(machine.TRIGGERS)  # not an empty or partial table


def test_decide_agrees_with_the_machine_on_every_pair_legal_or_not():
    judge = machine.judge()
    for state in (*machine.STATE_NAMES, "no-such-state"):
        for trigger in (*machine.TRIGGERS, "no_such_trigger"):
            try:
                expected = judge.decide(state, trigger)
            except IllegalTransition as exc:
                expected = ("illegal", exc.unknown if hasattr(exc, "unknown") else None)
            try:
                got = machine.decide(state, trigger)
            except IllegalTransition as exc:
                got = ("illegal", exc.unknown if hasattr(exc, "unknown") else None)
            assert got == expected, (state, trigger)


def test_a_table_built_from_other_tables_is_ignored_and_the_machine_judges(monkeypatch):
    monkeypatch.setattr(decision_table, "SOURCE", "built from an older machine.py")
    monkeypatch.setattr(decision_table, "TABLE", {("stopped", "drain"): "draining"})  # a wrong answer
    with pytest.raises(IllegalTransition):
        machine.decide("stopped", "drain")
    assert machine.decide("stopped", "start") == "starting"


def test_rendering_reproduces_the_committed_file():
    assert (ROOT / "lifecycle" / "decision_table.py").read_text("utf-8") == render(), REGENERATE


def test_a_write_does_not_build_the_machine(tmp_path):
    """The stop's write (and every other) is judged from the table: no transitions import."""
    code = ("import json, sys\nfrom hermes_lifecycle.home import Home\nfrom hermes_lifecycle.journal import Journal\n"
            "with Journal(Home.resolve(sys.argv[1])) as j:\n"
            "    j.fire('start', actor='t', run_id='r', pid=1, data={'create_time': 1.0})\n"
            "    j.fire('stop_requested', actor='t', data={})\n"
            "print(json.dumps('transitions' in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "home")], capture_output=True, text=True,
                          timeout=60, env=hermes_env(), cwd=ROOT, check=True)
    assert json.loads(done.stdout) is False
