"""The reference gateway: sessions over a line-delimited JSON protocol on 127.0.0.1.

One request per line, one response per line (see README: the line protocol)::

    {"op": "open"}                                   -> {"ok": true, "session": "s-...", "created": true, ...}
    {"op": "open", "session": "s-..."}               -> reopen an existing session
    {"op": "send", "session": "s-...", "text": "hi", "work_ms": 500}
                                                     -> {"ok": true, "reply": "echo: hi", "seq": 2}
    {"op": "history", "session": "s-..."}            -> {"ok": true, "messages": [...]}
    {"op": "close", "session": "s-..."}              -> {"ok": true}

``work_ms`` holds the turn in flight that long, so a test (or a demo) can stop the
gateway mid-turn.  It runs on the same :class:`GatewayApp` interface as any ``--app``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from typing import Any

from hermes_lifecycle.runtime.app import GatewayApp, RuntimeContext

MAX_LINE = 64 * 1024
MAX_WORK_MS = 3_600_000


log = logging.getLogger("hermes.reference")


class ProtocolError(Exception):
    """A request the gateway answers with ``{"ok": false, "error": ...}``."""


class ReferenceGateway(GatewayApp):
    def __init__(self) -> None:
        super().__init__()
        self._ctx: RuntimeContext | None = None
        self._server: asyncio.AbstractServer | None = None
        self._draining = False
        self._held: dict[asyncio.StreamWriter, set[str]] = {}  # sessions each client has open
        self._resumed: set[str] = set()  # resumed this run, no completed turn yet

    async def start(self, ctx: RuntimeContext) -> dict[str, Any]:
        self._ctx = ctx
        self._server = await asyncio.start_server(self._serve, ctx.host, ctx.port, limit=MAX_LINE)
        port = self._server.sockets[0].getsockname()[1]
        return {"port": port, "host": ctx.host}

    def active_sessions(self) -> set[str]:
        held = set().union(*self._held.values()) if self._held else set()
        return held | self._resumed | super().active_sessions()

    async def resume(self, session_id: str) -> None:
        self._resumed.add(session_id)

    async def stop_accepting(self) -> None:
        self._draining = True
        if self._server is not None:
            self._server.close()  # no new connections; open ones finish their in-flight turns

    async def close(self) -> None:
        for writer in list(self._held):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._held[writer] = set()
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await self._reply(writer, {"ok": False, "error": f"line longer than {MAX_LINE} bytes"})
                    break
                except ConnectionError:
                    break
                if not line:
                    break
                await self._reply(writer, await self._answer(writer, line))
        finally:
            self._held.pop(writer, None)
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, line: bytes) -> dict[str, Any]:
        """The answer to one line: whatever goes wrong, an ``{"ok": false}`` on a connection that
        stays open (the store that cannot take a write now is the client's to retry)."""
        try:
            return await self._handle(writer, line)
        except ProtocolError as exc:
            return {"ok": False, "error": str(exc)}
        except sqlite3.Error as exc:
            log.warning("request not served, the store cannot take it now: %s", exc)
            return {"ok": False, "error": f"the gateway cannot store this now ({exc}); nothing was changed, "
                                          "retry later"}
        except Exception as exc:  # a bug must cost one request, never the connection or a traceback in the log
            log.error("request failed: %s: %s", type(exc).__name__, exc)
            return {"ok": False, "error": f"the request failed ({type(exc).__name__}); nothing was changed"}

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, answer: dict[str, Any]) -> None:
        try:
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()
        except ConnectionError:
            pass

    async def _handle(self, writer: asyncio.StreamWriter, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ProtocolError("not a JSON object on one line") from None
        except RecursionError:
            raise ProtocolError("nested too deeply: a request is one flat JSON object") from None
        except ValueError as exc:  # an integer past Python's digit limit (4300)
            raise ProtocolError(f"not a usable JSON object: {exc}") from None
        if not isinstance(request, dict):
            raise ProtocolError("not a JSON object on one line")
        op = request.get("op")
        if op == "history":
            return self._history(self._known(request))
        if op in ("open", "send") and self._draining:
            raise ProtocolError("draining: the gateway is shutting down; retry once it is back")
        if op == "open":
            return self._open(writer, request.get("session"))
        if op == "send":
            return await self._send(self._known(request), request)
        if op == "close":
            sid = self._known(request)
            self._held.get(writer, set()).discard(sid)
            self._resumed.discard(sid)
            return {"ok": True, "session": sid}
        raise ProtocolError(f"unknown op {op!r}: use open, send, history or close")

    @property
    def _context(self) -> RuntimeContext:
        """The context ``start`` was given; requests are served only after it."""
        if self._ctx is None:
            raise ProtocolError("the app has not started yet; retry once the gateway is ready")
        return self._ctx

    def _known(self, request: dict[str, Any]) -> str:
        sid = request.get("session")
        if not isinstance(sid, str) or not _is_unicode(sid) or self._context.sessions.get(sid) is None:
            raise ProtocolError(f"unknown session {sid!r}")
        return sid

    def _open(self, writer: asyncio.StreamWriter, sid: Any) -> dict[str, Any]:
        store = self._context.sessions
        if sid is None:
            session, created = store.create(), True
        else:
            found = store.get(sid) if isinstance(sid, str) and _is_unicode(sid) else None
            if found is None:
                raise ProtocolError(f"unknown session {sid!r}")
            session, created = found, False
            if session.parked:
                store.unpark(session.id)
        self._held.setdefault(writer, set()).add(session.id)
        return {"ok": True, "session": session.id, "created": created, "messages": session.messages}

    async def _send(self, sid: str, request: dict[str, Any]) -> dict[str, Any]:
        text, work_ms = request.get("text"), request.get("work_ms", 0)
        if not isinstance(text, str):
            raise ProtocolError("send needs a string 'text'")
        if not _is_unicode(text):
            raise ProtocolError("text must be valid Unicode (it holds a lone surrogate such as \\ud800)")
        if isinstance(work_ms, bool) or not isinstance(work_ms, int) or not 0 <= work_ms <= MAX_WORK_MS:
            raise ProtocolError(f"work_ms must be an integer from 0 to {MAX_WORK_MS}")
        store, run_id = self._context.sessions, self._context.run_id
        async with self.work(sid, f"reply to message in {sid}"):
            store.add_message(sid, "user", text, run_id)
            await asyncio.sleep(work_ms / 1000)
            reply = store.add_message(sid, "assistant", f"echo: {text}", run_id, completes_turn=True)
        self._resumed.discard(sid)
        return {"ok": True, "session": sid, "reply": reply.text, "seq": reply.seq}

    def _history(self, sid: str) -> dict[str, Any]:
        return {"ok": True, "session": sid, "messages": [m.to_json() for m in self._context.sessions.history(sid)]}


def _is_unicode(text: str) -> bool:
    """JSON may carry a lone surrogate (``"\\ud800"``) that no UTF-8 store can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def create() -> ReferenceGateway:
    """The ``--app`` factory of the reference gateway (the default)."""
    return ReferenceGateway()
