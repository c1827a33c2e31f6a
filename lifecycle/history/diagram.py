"""Pictures and tables of the machine, generated from :mod:`hermes_lifecycle.machine` alone.

``hermes-lifecycle diagram`` prints these; the README's table is :func:`markdown_table`
verbatim (a test compares them), so docs cannot drift from the code.
"""

from __future__ import annotations

from hermes_lifecycle.machine import INITIAL_STATE, SIDE_STEPS, STATE_NAMES, STATES, TRANSITIONS

FORMATS = ("mermaid", "dot", "markdown")


def _sources(row: dict) -> list[str]:
    return list(STATE_NAMES) if row["source"] == "*" else list(row["source"])


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATE}"]
    for row in TRANSITIONS:
        for source in _sources(row):
            lines.append(f"    {source} --> {row['dest']}: {row['trigger']}")
    for state in STATES:
        steps = [s["trigger"] for s in SIDE_STEPS if state.name in _sources(s)]
        lines.append(f"    note right of {state.name}: side steps: {', '.join(steps)}")
    return "\n".join(lines) + "\n"


def dot() -> str:
    lines = ["digraph gateway_lifecycle {", "    rankdir=LR;", '    node [shape=box, style=rounded];']
    for state in STATES:
        shape = "doubleoctagon" if state.name in ("killed", "crashed") else "box"
        lines.append(f'    {state.name} [shape={shape}, tooltip="{state.doc}"];')
    for row in TRANSITIONS:
        for source in _sources(row):
            lines.append(f'    {source} -> {row["dest"]} [label="{row["trigger"]}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The transitions and side steps as the README shows them."""
    lines = ["| trigger | from | to | fired by | meaning |", "| --- | --- | --- | --- | --- |"]
    for row in TRANSITIONS + SIDE_STEPS:
        sources = "any" if row["source"] == "*" else ", ".join(row["source"])
        dest = row["dest"] or "(unchanged)"
        lines.append(f"| `{row['trigger']}` | {sources} | {dest} | {row['by']} | {row['doc']} |")
    return "\n".join(lines) + "\n"


def render(fmt: str) -> str:
    return {"mermaid": mermaid, "dot": dot, "markdown": markdown_table}[fmt]()
