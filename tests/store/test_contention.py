"""Many processes, one stream: compare-and-append holds under real contention."""

from __future__ import annotations

import random
from pathlib import Path

from hermes_lifecycle.errors import IllegalTransition
from hermes_lifecycle.home import Home
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.projection import verify_projection
from hermes_lifecycle.store import read_events
from tests.processes import TIMEOUT, race

WRITERS = 5
FIRES_PER_WRITER = 40
#: Conflicting on purpose: most of them are only legal in one or two states.
CONTESTED = ("start", "ready", "drain", "drained", "kill", "lost", "start_failed", "stop_requested")


def _writer(home_root: str, seed: int, *, gate) -> dict:
    rng = random.Random(seed)
    outcome = {"appended": [], "refused": 0, "errors": []}
    with Journal(Home.resolve(home_root)) as journal:
        journal.state()  # open (and migrate) before the race starts
        gate.wait(TIMEOUT)
        for n in range(FIRES_PER_WRITER):
            trigger = rng.choice(CONTESTED)
            try:
                event = journal.fire(trigger, actor=f"writer-{seed}", run_id=f"r-{seed}-{n}", pid=seed,
                                     data={"create_time": 1.0, "port": 1000 + seed})
                outcome["appended"].append((event.seq, event.version, trigger))
            except IllegalTransition as refused:
                if refused.trigger != trigger or refused.state not in str(refused):
                    outcome["errors"].append(f"unclear refusal: {refused}")
                outcome["refused"] += 1
            except Exception as exc:  # any other failure is exactly what this test hunts
                outcome["errors"].append(f"{type(exc).__name__}: {exc}")
    return outcome


def test_concurrent_writers_never_duplicate_or_skip_a_version(tmp_path: Path):
    outcomes = race(_writer, [(str(tmp_path), seed) for seed in range(WRITERS)])
    assert [e for o in outcomes for e in o["errors"]] == []
    appended = sorted(a for o in outcomes for a in o["appended"])
    refused = sum(o["refused"] for o in outcomes)
    assert len(appended) + refused == WRITERS * FIRES_PER_WRITER
    assert refused > 0 and len(appended) > WRITERS, "the race produced no contention to judge"

    with Journal(Home.resolve(tmp_path)) as journal:
        events = read_events(journal.conn)
        assert [(e.seq, e.version, e.trigger) for e in events] == appended
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        for previous, current in zip(events, events[1:]):
            assert current.from_state == previous.to_state, f"event {current.seq} decided on a stale state"
        stored, rebuilt = verify_projection(journal.conn, "default")
        assert stored == rebuilt
        assert stored.version == len(events) and stored.last_seq == events[-1].seq


def _fire_with_key(home_root: str, *, gate) -> int:
    with Journal(Home.resolve(home_root)) as journal:
        journal.state()
        gate.wait(TIMEOUT)
        event = journal.fire("stop_requested", actor="controller", reason="stop", idempotency_key="op-42")
        return event.seq


def test_idempotency_key_appends_once_across_two_processes(tmp_path: Path):
    with Journal(Home.resolve(tmp_path)) as journal:
        journal.fire("start", actor="test", run_id="r1", pid=1, data={"create_time": 1.0})
    seqs = race(_fire_with_key, [(str(tmp_path),)] * 2)
    with Journal(Home.resolve(tmp_path)) as journal:
        requests = journal.events(triggers=("stop_requested",))
    assert len(requests) == 1
    assert seqs == [requests[0].seq, requests[0].seq]
