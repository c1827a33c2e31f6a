"""Conversations and their messages in ``state.db``, and the resume bookkeeping of boots.

Marking sessions for resume and resuming them are recorded together with their
lifecycle events, in one transaction each (``Journal.fire(..., extra=...)``): the log
never says a session was marked while the table says otherwise.

A session is *interrupted* by a drain only when it had a turn in flight as the drain began;
the other active sessions are marked for resume without counting.  A session interrupted
boot after boot without a completed turn is a poison pill that would wedge every restart:
after :data:`PARK_AFTER_INTERRUPTIONS` consecutive interruptions the next boot parks it
(``resume_abandoned``) instead of resuming it.
"""

from __future__ import annotations

import builtins
import functools
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

from hermes_lifecycle.journal import Journal
from hermes_lifecycle.spooled import register_extra
from hermes_lifecycle.store import sessions as rows
from hermes_lifecycle.store import utc_now

#: Drains in a row with no completed turn in between after which a session is parked.
PARK_AFTER_INTERRUPTIONS = 3

@dataclass(frozen=True)
class Message:
    seq: int
    role: str
    text: str
    at: str
    run_id: str | None

    def to_json(self) -> dict:
        return {"seq": self.seq, "role": self.role, "text": self.text, "at": self.at, "run_id": self.run_id}


@dataclass(frozen=True)
class Session:
    id: str
    created_at: str
    updated_at: str
    resume_pending: bool
    interruptions: int
    interrupted_runs: list[str] = field(default_factory=list)
    parked: bool = False
    parked_at: str | None = None
    messages: int = 0

    @classmethod
    def from_row(cls, row: tuple) -> "Session":
        return cls(row[0], row[1], row[2], bool(row[3]), row[4], json.loads(row[5]), bool(row[6]),
                   row[7], row[8])

    def to_json(self) -> dict:
        """The documented JSON shape of one session (``sessions --json``)."""
        return {"id": self.id, "created_at": self.created_at, "updated_at": self.updated_at,
                "messages": self.messages, "resume_pending": self.resume_pending,
                "parked": self.parked, "parked_at": self.parked_at,
                "interruptions": self.interruptions, "interrupted_runs": self.interrupted_runs}


def new_session_id() -> str:
    return f"s-{secrets.token_hex(6)}"


class SessionStore:
    """The sessions of one profile, on the journal's connection (use from one thread)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.stream = journal.stream

    @property
    def _conn(self) -> sqlite3.Connection:
        return self.journal.conn

    def create(self, session_id: str | None = None) -> Session:
        session_id = session_id or new_session_id()
        rows.create_session(self._conn, self.stream, session_id, utc_now())
        created = self.get(session_id)
        assert created is not None  # just committed on this connection
        return created

    def get(self, session_id: str) -> Session | None:
        row = rows.session_row(self._conn, self.stream, session_id)
        return None if row is None else Session.from_row(row)

    def list(self) -> list[Session]:
        return [Session.from_row(r) for r in rows.session_rows(self._conn, self.stream)]

    def add_message(self, session_id: str, role: str, text: str, run_id: str | None, *,
                    completes_turn: bool = False) -> Message:
        """Append a message; a completed turn clears the session's interruption count."""
        now = utc_now()
        seq = rows.add_message(self._conn, self.stream, session_id, role, text, now, run_id,
                               completes_turn=completes_turn)
        return Message(seq, role, text, now, run_id)

    # ``list`` below is the method above: the builtin is spelled ``builtins.list`` in this class.
    def history(self, session_id: str) -> builtins.list[Message]:
        return [Message(*r) for r in rows.message_rows(self._conn, self.stream, session_id)]

    def unpark(self, session_id: str) -> None:
        """A client explicitly reopened a parked session: it is theirs to continue."""
        rows.unpark(self._conn, self.stream, session_id)

    def mark_resume_pending(self, session_ids: builtins.list[str], *, run_id: str, actor: str,
                            app_facts: dict[str, Any] | None = None, spool_after: float | None = None,
                            interrupted: Iterable[str] | None = None) -> None:
        """Mark every id ``resume_pending`` and append ``resume_pending_marked``, in one transaction
        (kept together in the spool when the log cannot take them now: ``spool_after``);
        ``app_facts`` (what the app's own store did) go into the event's data as ``app``.

        Only the ids in ``interrupted`` (the sessions with a turn in flight as the drain began;
        default: all) count toward parking: a session whose turn had finished loses nothing."""
        ids = sorted(set(session_ids) | set(interrupted or ()))
        hit = set(ids) if interrupted is None else set(interrupted)
        turns = sorted(hit & set(ids))
        args = {"stream": self.stream, "ids": ids, "run_id": run_id, "now": utc_now(), "interrupted": turns}
        self.journal.fire("resume_pending_marked", actor=actor, run_id=run_id, pid=os.getpid(),
                          reason=f"{len(ids)} active session(s) marked for resume before the wait, "
                                 f"{len(turns)} with a turn in flight",
                          data={"sessions": ids, "count": len(ids), "interrupted": turns,
                                **({"app": app_facts} if app_facts else {})},
                          extra=lambda conn: _mark_resume_pending(conn, args),
                          spool_after=spool_after, replay_extra=(MARK_RESUME_PENDING, args))

    async def resume_on_boot(
        self, *, run_id: str, actor: str, hand_over: Callable[[str], Awaitable[None]],
    ) -> tuple[builtins.list[str], builtins.list[str]]:
        """Hand each marked session to the app (``hand_over``), then clear its ``resume_pending``
        (``session_resumed``); park it instead (``resume_abandoned``) when it was interrupted too
        often in a row, or when the app's resume of it raised: one bad session must neither fail
        the boot nor cost the others their resume.  Return (resumed, parked)."""
        resumed: builtins.list[str] = []
        parked: builtins.list[str] = []
        for session in [s for s in self.list() if s.resume_pending and not s.parked]:
            if session.interruptions >= PARK_AFTER_INTERRUPTIONS:
                self._park(session, run_id, actor, f"was interrupted {session.interruptions} times in a row "
                                                   "without a completed turn")
                parked.append(session.id)
                continue
            try:
                await hand_over(session.id)
            except Exception as exc:
                self._park(session, run_id, actor, "could not be resumed by the app",
                           error=f"{type(exc).__name__}: {exc}")
                parked.append(session.id)
                continue
            self.journal.fire(
                "session_resumed", actor=actor, run_id=run_id, pid=os.getpid(), reason=f"session {session.id} resumed",
                data={"session": session.id, "interruptions": session.interruptions,
                      "messages": session.messages},
                extra=functools.partial(rows.clear_resume_pending, stream=self.stream, session_id=session.id))
            resumed.append(session.id)
        return resumed, parked

    def _park(self, session: Session, run_id: str, actor: str, why: str, error: str | None = None) -> None:
        data = {"session": session.id, "interruptions": session.interruptions, "runs": session.interrupted_runs}
        if error is not None:
            data["error"] = error
        self.journal.fire(
            "resume_abandoned", actor=actor, run_id=run_id, pid=os.getpid(),
            reason=f"session {session.id} {why}{f' ({error})' if error else ''}; parked instead of resumed",
            data=data,
            extra=lambda conn: rows.park(conn, self.stream, session.id, utc_now()))


MARK_RESUME_PENDING = "sessions.mark_resume_pending"


def _mark_resume_pending(conn: sqlite3.Connection, args: dict) -> None:
    """The rows of :meth:`SessionStore.mark_resume_pending`, from plain data (so a spooled event
    can apply them when it lands); the SQL is the store's (:func:`store.sessions.mark_resume_pending`)."""
    interrupted = args.get("interrupted")  # absent in a spool written before the interrupted-only rule: all
    rows.mark_resume_pending(conn, args["stream"], args["ids"], args["run_id"], args["now"],
                             interrupted=None if interrupted is None else set(interrupted))


register_extra(MARK_RESUME_PENDING, _mark_resume_pending)
