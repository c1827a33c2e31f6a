"""The gateway lifecycle as data, and the one judge of what is legal.

``STATES``, ``TRANSITIONS`` and ``SIDE_STEPS`` are the single table from which the
``transitions`` machine, the README's table and ``hermes-lifecycle diagram`` are all
generated.  Nothing else in the code base decides whether a trigger may fire.

The ``transitions`` import is deferred to :func:`decide`, so read-only commands
(``status``, ``events``) never pay for it; and :func:`decide` first looks in the
machine's own recorded answers (:mod:`hermes_lifecycle.decisions`), so a writing
command builds the machine only when those were recorded from other tables.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hermes_lifecycle.errors import IllegalTransition


@dataclass(frozen=True)
class State:
    name: str
    alive: bool
    doc: str


STATES: tuple[State, ...] = (
    State("stopped", False, "not running; the last run shut down in order (or none ever ran)"),
    State("starting", True, "the process is booting and does not accept work yet"),
    State("running", True, "accepting work"),
    State("draining", True, "refusing new work, finishing in-flight work before exit"),
    State("killed", False, "escalation ended the process"),
    State("crashed", False, "the process died with no shutdown recorded"),
)

STATE_NAMES: tuple[str, ...] = tuple(s.name for s in STATES)
ALIVE_STATES: frozenset[str] = frozenset(s.name for s in STATES if s.alive)
REST_STATES: frozenset[str] = frozenset(s.name for s in STATES if not s.alive)
INITIAL_STATE = "stopped"

_ALIVE = [s.name for s in STATES if s.alive]
_REST = [s.name for s in STATES if not s.alive]

# Each row: trigger, sources, destination (None: a side step that changes no state),
# who fires it, and what it means.
TRANSITIONS: tuple[dict, ...] = (
    {"trigger": "start", "source": _REST, "dest": "starting",
     "by": "`run` as it boots", "doc": "a new run begins"},
    {"trigger": "ready", "source": ["starting"], "dest": "running",
     "by": "the gateway", "doc": "the gateway accepts work"},
    {"trigger": "start_failed", "source": ["starting"], "dest": "stopped",
     "by": "the gateway or the controller", "doc": "boot failed, with the error"},
    {"trigger": "drain", "source": ["starting", "running"], "dest": "draining",
     "by": "the gateway's shutdown path", "doc": "a stop began: signal, stop request or console close"},
    {"trigger": "drained", "source": ["draining"], "dest": "stopped",
     "by": "the gateway", "doc": "in-flight work ended or the drain timeout passed"},
    {"trigger": "kill", "source": _ALIVE, "dest": "killed",
     "by": "the controller", "doc": "escalation ended the process"},
    {"trigger": "lost", "source": _ALIVE, "dest": "crashed",
     "by": "whoever notices", "doc": "the recorded process is gone with no shutdown"},
)

SIDE_STEPS: tuple[dict, ...] = (
    {"trigger": "stop_requested", "source": _ALIVE, "dest": None,
     "by": "the controller", "doc": "who asked, the target run (pid, create time), deadline, intent"},
    {"trigger": "stop_refused", "source": _ALIVE, "dest": None,
     "by": "the watcher", "doc": "a stop request aimed at a reused pid was refused"},
    {"trigger": "signal_received", "source": _ALIVE, "dest": None,
     "by": "the gateway", "doc": "a signal or console event reached the gateway"},
    {"trigger": "resume_pending_marked", "source": ["draining"], "dest": None,
     "by": "the gateway", "doc": "active sessions marked for resume, before the wait"},
    {"trigger": "session_resumed", "source": ["starting", "running"], "dest": None,
     "by": "the gateway", "doc": "a session marked for resume was picked up"},
    {"trigger": "resume_abandoned", "source": ["starting", "running"], "dest": None,
     "by": "the gateway", "doc": "a session interrupted boot after boot was parked"},
    {"trigger": "drain_timeout", "source": ["draining"], "dest": None,
     "by": "the gateway", "doc": "the drain timeout passed; what was abandoned"},
    {"trigger": "escalated", "source": _ALIVE + _REST, "dest": None,
     "by": "the controller", "doc": "one escalation step: which signal or force, to which pids "
     "(also once the run reached rest: every signal sent is on the log)"},
    {"trigger": "exited", "source": "*", "dest": None,
     "by": "whoever observes it", "doc": "exit code or signal of a gateway process"},
    {"trigger": "exit_forced", "source": ["draining", "stopped"], "dest": None,
     "by": "the gateway", "doc": "something held a drained process up; exit was forced"},
    {"trigger": "service_installed", "source": "*", "dest": None,
     "by": "service-manager", "doc": "a service definition was written (track, file or task)"},
    {"trigger": "service_uninstalled", "source": "*", "dest": None,
     "by": "service-manager", "doc": "a service definition was removed"},
    {"trigger": "service_requested", "source": "*", "dest": None,
     "by": "the controller", "doc": "the service manager was asked to start or stop (commands, result)"},
    {"trigger": "pruned", "source": "*", "dest": None,
     "by": "`prune`", "doc": "old runs were removed from the log (which range)"},
)

TRIGGERS: tuple[str, ...] = tuple(t["trigger"] for t in TRANSITIONS + SIDE_STEPS)
TRANSITION_TRIGGERS: frozenset[str] = frozenset(t["trigger"] for t in TRANSITIONS)

# Rules the readers of the log share, read off the table above (never written out again):
#: Transitions that end a run, and the rest state each leaves the stream in.
ENDINGS: dict[str, str] = {t["trigger"]: t["dest"] for t in TRANSITIONS if t["dest"] in REST_STATES}
#: The transition that begins a run: from rest (only) into an alive state.
START_TRIGGER: str = next(t["trigger"] for t in TRANSITIONS
                          if t["dest"] in ALIVE_STATES and set(t["source"]) <= REST_STATES)


class _Judge:
    """One ``transitions`` machine shared by the process, set to a state per question."""

    if TYPE_CHECKING:  # set on the model by transitions.Machine
        state: str

        def trigger(self, name: str) -> bool: ...

    def __init__(self) -> None:
        from transitions import Machine, MachineError

        self._error = MachineError
        self._lock = threading.Lock()
        self.machine = Machine(
            model=self,
            states=list(STATE_NAMES),
            transitions=[
                {"trigger": t["trigger"], "source": t["source"], "dest": t["dest"]}
                for t in TRANSITIONS + SIDE_STEPS
            ],
            initial=INITIAL_STATE,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

    def decide(self, state: str, trigger: str) -> str:
        if trigger not in TRIGGERS:
            raise IllegalTransition(state, trigger, unknown=True)
        if state not in STATE_NAMES:
            raise IllegalTransition(state, trigger)
        with self._lock:
            self.machine.set_state(state, model=self)
            try:
                self.trigger(trigger)
            except self._error:
                raise IllegalTransition(state, trigger) from None
            return self.state


_judge: _Judge | None = None


def judge() -> _Judge:
    """The process's ``transitions`` machine, built on first use."""
    global _judge
    if _judge is None:
        _judge = _Judge()
    return _judge


def decide(state: str, trigger: str) -> str:
    """Return the state after ``trigger`` fires in ``state``, or raise :class:`IllegalTransition`."""
    if trigger not in TRIGGERS:
        raise IllegalTransition(state, trigger, unknown=True)
    from hermes_lifecycle.decisions import cached

    answer = cached(state, trigger)
    if answer is None:
        return judge().decide(state, trigger)
    if not isinstance(answer, str):  # False: the machine refused it
        raise IllegalTransition(state, trigger)
    return answer
