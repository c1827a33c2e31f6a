"""Run one function in several real processes released at the same instant."""

from __future__ import annotations

import multiprocessing
import traceback
from typing import Any, Callable

TIMEOUT = 120


def race(target: Callable[..., Any], argument_lists: list[tuple]) -> list[Any]:
    """Fork one process per argument tuple; each calls ``target(*args, gate=...)``.

    ``target`` must call ``gate.wait(TIMEOUT)`` right before the contended step and
    return a picklable result.  Returns the results in completion order; fails if a
    process died instead of returning.
    """
    ctx = multiprocessing.get_context("fork")
    gate, results = ctx.Barrier(len(argument_lists)), ctx.Queue()

    def run(args: tuple) -> None:
        try:
            results.put(target(*args, gate=gate))
        except BaseException:
            gate.abort()  # release the others at once instead of after TIMEOUT
            results.put(_Crashed(traceback.format_exc()))

    procs = [ctx.Process(target=run, args=(args,)) for args in argument_lists]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=TIMEOUT) for _ in procs]
    for p in procs:
        p.join(TIMEOUT)
    crashes = [o.text for o in outcomes if isinstance(o, _Crashed)]
    assert not crashes, "a racing process raised:\n" + "\n".join(crashes)
    return outcomes


class _Crashed:
    def __init__(self, text: str) -> None:
        self.text = text
