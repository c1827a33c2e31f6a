"""``run --health ADDR:PORT``: HTTP probes for orchestrators (Kubernetes, Nomad, load balancers).

``/livez`` answers 200 while the loop's heartbeat is fresh (the loop ticks), 503 when it is
stale; a loop wedged for good cannot answer at all, which a probe reads as a failure too.
``/readyz`` answers 200 only while the gateway is ``running``: 503 while it starts and from
the moment a drain begins, so a load balancer stops sending new work while in-flight work
finishes.  A stdlib asyncio server in the gateway's own loop: no thread, no dependency, no
wakeup of its own while nobody asks.  One request per connection, then close.
"""

from __future__ import annotations

import asyncio
from typing import Callable

#: How long a client may take to send its request line and headers.
READ_TIMEOUT = 5.0
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


def parse_address(text: str) -> tuple[str, int]:
    """``ADDR:PORT`` (``[::1]:8080`` for IPv6) -> ``(addr, port)``; ValueError (a usage error) if malformed."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--health wants ADDR:PORT (for example 127.0.0.1:8081), not {text!r}")
    return host, int(port)


class HealthServer:
    """Serves ``/livez`` and ``/readyz`` from two questions the gateway answers."""

    def __init__(self, is_live: Callable[[], bool], is_ready: Callable[[], bool]) -> None:
        self.is_live, self.is_ready = is_live, is_ready
        self._server: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on ``host:port``; return the address bound (port 0 picks a free one)."""
        self._server = await asyncio.start_server(self._answer, host, port)
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    def _status(self, method: str, path: str) -> tuple[int, str]:
        if method not in ("GET", "HEAD"):
            return 405, "only GET and HEAD\n"
        if path == "/livez":
            return (200, "live\n") if self.is_live() else (503, "the event loop stopped ticking\n")
        if path == "/readyz":
            return (200, "ready\n") if self.is_ready() else (503, "not accepting work\n")
        return 404, "try /livez or /readyz\n"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            method, path, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ") + ["", ""]
            code, body = self._status(method, path.split("?", 1)[0])
            payload = body.encode() if method != "HEAD" else b""
            writer.write(f"HTTP/1.1 {code} {_REASONS[code]}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n".encode() + payload)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # a probe that hung up or never spoke gets nothing
        finally:
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
