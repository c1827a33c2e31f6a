"""`hermes gateway diagram` draws every transition of the one table, in each format."""

from __future__ import annotations

import pytest

from hermes_lifecycle.machine import STATE_NAMES, TRANSITIONS
from tests.conftest import run_hermes

EDGES = [(source, row["dest"], row["trigger"]) for row in TRANSITIONS for source in row["source"]]


def _drawn(home_dir, *args: str) -> str:
    result = run_hermes(home_dir, "diagram", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_mermaid_is_the_default_and_has_every_edge(home_dir):
    text = _drawn(home_dir)
    assert text.startswith("stateDiagram-v2\n") and "[*] --> stopped" in text
    for source, dest, trigger in EDGES:
        assert f"    {source} --> {dest}: {trigger}\n" in text


def test_dot_has_every_state_and_edge(home_dir):
    text = _drawn(home_dir, "--format", "dot")
    assert text.startswith("digraph gateway_lifecycle {") and text.rstrip().endswith("}")
    for state in STATE_NAMES:
        assert f"    {state} [" in text
    for source, dest, trigger in EDGES:
        assert f'    {source} -> {dest} [label="{trigger}"];' in text


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "markdown"])
def test_diagram_needs_no_state_db(home_dir, fmt):
    _drawn(home_dir, "--format", fmt)
    assert not home_dir.exists()
