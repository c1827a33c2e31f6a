"""Many processes, one stream: compare-and-append holds under real contention."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

from lifecycle.errors import IllegalTransition
from lifecycle.home import Home
from lifecycle.journal import Journal
from store import read_events, verify_projection

WRITERS = 5
FIRES_PER_WRITER = 40
#: Conflicting on purpose: most of them are only legal in one or two states.
CONTESTED = ("start", "ready", "drain", "drained", "kill", "lost", "start_failed", "stop_requested")
START_TIMEOUT = 120


def _writer(home_root: str, seed: int, gate, results) -> None:
    rng = random.Random(seed)
    outcome = {"appended": [], "refused": 0, "errors": []}
    with Journal(Home.resolve(home_root)) as journal:
        journal.state()  # open (and migrate) before the race starts
        gate.wait(START_TIMEOUT)
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
    results.put(outcome)


def test_concurrent_writers_never_duplicate_or_skip_a_version(tmp_path: Path):
    ctx = multiprocessing.get_context("fork")
    gate, results = ctx.Barrier(WRITERS), ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(str(tmp_path), seed, gate, results)) for seed in range(WRITERS)]
    for w in writers:
        w.start()
    outcomes = [results.get(timeout=START_TIMEOUT) for _ in writers]
    for w in writers:
        w.join(START_TIMEOUT)
        assert w.exitcode == 0

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


def _fire_with_key(home_root: str, gate, results) -> None:
    with Journal(Home.resolve(home_root)) as journal:
        journal.state()
        gate.wait(START_TIMEOUT)
        event = journal.fire("stop_requested", actor="controller", reason="stop", idempotency_key="op-42")
        results.put(event.seq)


def test_idempotency_key_appends_once_across_two_processes(tmp_path: Path):
    with Journal(Home.resolve(tmp_path)) as journal:
        journal.fire("start", actor="test", run_id="r1", pid=1, data={"create_time": 1.0})
    ctx = multiprocessing.get_context("fork")
    gate, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_fire_with_key, args=(str(tmp_path), gate, results)) for _ in range(2)]
    for p in procs:
        p.start()
    seqs = [results.get(timeout=START_TIMEOUT) for _ in procs]
    for p in procs:
        p.join(START_TIMEOUT)
        assert p.exitcode == 0
    with Journal(Home.resolve(tmp_path)) as journal:
        requests = journal.events(triggers=("stop_requested",))
    assert len(requests) == 1
    assert seqs == [requests[0].seq, requests[0].seq]
