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

import json
import os
import secrets
import sqlite3
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable

from hermes_lifecycle.journal import Journal
from hermes_lifecycle.store import utc_now, write_transaction

#: Drains in a row with no completed turn in between after which a session is parked.
PARK_AFTER_INTERRUPTIONS = 3

_SESSION_COLUMNS = ("id, created_at, updated_at, resume_pending, interruptions, interrupted_runs, parked, parked_at, "
                    "(SELECT count(*) FROM messages m WHERE m.stream = s.stream AND m.session_id = s.id)")


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
        now = utc_now()
        with write_transaction(self._conn) as conn:
            conn.execute("INSERT INTO sessions (id, stream, created_at, updated_at) VALUES (?, ?, ?, ?)",
                         (session_id, self.stream, now, now))
        return self.get(session_id)

    def get(self, session_id: str) -> Session | None:
        row = self._conn.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE id = ? AND stream = ?",
                                 (session_id, self.stream)).fetchone()
        return None if row is None else Session.from_row(row)

    def list(self) -> list[Session]:
        rows = self._conn.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE stream = ? "
                                  "ORDER BY created_at, id", (self.stream,))
        return [Session.from_row(r) for r in rows]

    def add_message(self, session_id: str, role: str, text: str, run_id: str | None, *,
                    completes_turn: bool = False) -> Message:
        """Append a message; a completed turn clears the session's interruption count."""
        now = utc_now()
        with write_transaction(self._conn) as conn:
            seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE stream = ? AND session_id = ?",
                               (self.stream, session_id)).fetchone()[0]
            conn.execute("INSERT INTO messages (stream, session_id, seq, role, text, at, run_id) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", (self.stream, session_id, seq, role, text, now, run_id))
            reset = ", interruptions = 0, interrupted_runs = '[]'" if completes_turn else ""
            conn.execute(f"UPDATE sessions SET updated_at = ?{reset} WHERE stream = ? AND id = ?",
                         (now, self.stream, session_id))
        return Message(seq, role, text, now, run_id)

    def history(self, session_id: str) -> list[Message]:
        rows = self._conn.execute("SELECT seq, role, text, at, run_id FROM messages WHERE stream = ? "
                                  "AND session_id = ? ORDER BY seq", (self.stream, session_id))
        return [Message(*r) for r in rows]

    def unpark(self, session_id: str) -> None:
        """A client explicitly reopened a parked session: it is theirs to continue."""
        with write_transaction(self._conn) as conn:
            conn.execute("UPDATE sessions SET parked = 0, parked_at = NULL, interruptions = 0, "
                         "interrupted_runs = '[]' WHERE stream = ? AND id = ?", (self.stream, session_id))

    def mark_resume_pending(self, session_ids: list[str], *, run_id: str, actor: str,
                            interrupted: Iterable[str] | None = None) -> None:
        """Mark every id ``resume_pending`` and append ``resume_pending_marked``, in one transaction.

        Only the ids in ``interrupted`` (the sessions with a turn in flight as the drain began;
        default: all) count toward parking: a session whose turn had finished loses nothing."""
        ids = sorted(set(session_ids) | set(interrupted or ()))
        hit = set(ids) if interrupted is None else set(interrupted)
        now = utc_now()

        def mark(conn: sqlite3.Connection) -> None:
            for sid in ids:
                conn.execute("INSERT OR IGNORE INTO sessions (id, stream, created_at, updated_at) "
                             "VALUES (?, ?, ?, ?)", (sid, self.stream, now, now))
                if sid not in hit:
                    conn.execute("UPDATE sessions SET resume_pending = 1, updated_at = ? WHERE stream = ? AND id = ?",
                                 (now, self.stream, sid))
                    continue
                runs = json.loads(conn.execute("SELECT interrupted_runs FROM sessions WHERE stream = ? AND id = ?",
                                               (self.stream, sid)).fetchone()[0])
                conn.execute("UPDATE sessions SET resume_pending = 1, interruptions = interruptions + 1, "
                             "interrupted_runs = ?, updated_at = ? WHERE stream = ? AND id = ?",
                             (json.dumps(runs + [run_id]), now, self.stream, sid))

        turns = sorted(hit & set(ids))
        self.journal.fire("resume_pending_marked", actor=actor, run_id=run_id, pid=os.getpid(),
                          reason=f"{len(ids)} active session(s) marked for resume before the wait, "
                                 f"{len(turns)} with a turn in flight",
                          data={"sessions": ids, "count": len(ids), "interrupted": turns}, extra=mark)

    async def resume_on_boot(self, *, run_id: str, actor: str,
                             hand_over: Callable[[str], Awaitable[None]]) -> tuple[list[str], list[str]]:
        """Hand each marked session to the app (``hand_over``), then clear its ``resume_pending``
        (``session_resumed``); park it instead (``resume_abandoned``) when it was interrupted too
        often in a row, or when the app's resume of it raised: one bad session must neither fail
        the boot nor cost the others their resume.  Return (resumed, parked)."""
        resumed, parked = [], []
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
                extra=lambda conn, sid=session.id: conn.execute(
                    "UPDATE sessions SET resume_pending = 0 WHERE stream = ? AND id = ?", (self.stream, sid)))
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
            extra=lambda conn: conn.execute(
                "UPDATE sessions SET resume_pending = 0, parked = 1, parked_at = ? WHERE stream = ? AND id = ?",
                (utc_now(), self.stream, session.id)))
