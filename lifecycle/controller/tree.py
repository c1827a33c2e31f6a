"""The process tree force acts on, minus the caller's own ancestry.

A restart asked from inside the gateway (an agent's tool call runs as its child) must
not kill the command that asked: every ancestor of this process, and this process,
is left out of the tree, and the platform is told the tree is no longer whole.  So is it
when the root has left: its pid is no longer the tree's handle.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


def caller_ancestry() -> frozenset[int]:
    """This process and every process above it."""
    import psutil

    pids = {os.getpid()}
    try:
        pids.update(p.pid for p in psutil.Process().parents())
    except psutil.Error:
        pass
    return frozenset(pids)


@dataclass
class ProcessTree:
    root_pid: int
    processes: list[Any] = field(default_factory=list)  # psutil processes, root first
    spared: list[int] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        """True when a tree-wide command by the root's pid reaches exactly this tree: nothing
        spared, and the root still among the members (a root that left may have a new owner)."""
        return not self.spared and bool(self.processes) and self.processes[0].pid == self.root_pid

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def alive(self) -> list[Any]:
        """The members still running (psutil re-checks identity, so a reused pid is not one)."""
        import psutil

        living = []
        for proc in self.processes:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    living.append(proc)
            except psutil.Error:
                continue
        return living


def collect_tree(root: Any, spare: frozenset[int] | None = None) -> ProcessTree:
    """``root`` (a psutil process already identity-checked) and its descendants, sparing ``spare``."""
    import psutil

    spare = caller_ancestry() if spare is None else spare
    tree = ProcessTree(root.pid)
    try:
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        members = [root]
    for proc in members:
        if proc.pid in spare and proc.pid != root.pid:  # the gateway itself is never spared
            tree.spared.append(proc.pid)
        else:
            tree.processes.append(proc)
    return tree


def tree_as_it_is_now(before: ProcessTree, root: Any, spare: frozenset[int] | None) -> ProcessTree:
    """The members still alive, plus any child the root started since (a worker respawned
    on SIGTERM): the kill takes the tree as it is now.  psutil's ``children`` checks the
    root's identity, so a root that left adds nothing."""
    living = before.alive()
    if not any(p.pid == before.root_pid for p in living):
        return ProcessTree(before.root_pid, living, before.spared)
    now = collect_tree(root, spare)
    known = {p.pid for p in now.processes}
    return ProcessTree(now.root_pid, now.processes + [p for p in living if p.pid not in known],
                       sorted(set(before.spared) | set(now.spared)))
