"""The HTTP server's own limits: connections, header size and timeouts, overload.

``iprisk serve`` and the tests build their uvicorn configuration with
:func:`server_config`, so the limits tested are the limits served.

uvicorn alone arms its keep-alive timer only after a response, so a
connection that never sends a request stays open for ever, and its
``limit_concurrency`` counts such idle connections: 1,100 idle sockets locked
every client out.  :class:`GuardedProtocol` closes a connection whose request
headers are not complete ``timeout_keep_alive`` seconds after it opened or
after its last response (idle sockets and slow headers alike), caps the size
of the request line and headers (httptools has no cap of its own), and, when
the connections reach ``limit_concurrency``, closes the longest-idle ones to
make room for a new one.  Requests in flight are never closed; beyond the limit
of those uvicorn answers 503 at once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from service.settings import Settings

MAX_HEADER_BYTES = 64 * 1024


class HeadersTooLarge(Exception):
    """The request line and headers are over :data:`MAX_HEADER_BYTES` (answered 400 by uvicorn)."""


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, a header cap and eviction of idle connections."""

    _deadline: asyncio.TimerHandle | None = None
    _idle_since = 0.0
    _header_bytes = 0

    # uvicorn narrows asyncio.BaseProtocol's BaseTransport to Transport; we keep uvicorn's signature
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Arm the header deadline; make room if the connections are at the limit."""
        super().connection_made(transport)
        self._arm()
        if self.limit_concurrency is not None and len(self.connections) >= self.limit_concurrency:
            self._evict_idle(self.limit_concurrency)

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the header deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        """A new request: count its header bytes from zero."""
        self._header_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        """Count the request line against the header cap."""
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count each header against the header cap."""
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The headers arrived in time: the body has its own timeout (``service.limits``)."""
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """Idle again: the next request's headers must arrive before the deadline."""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            raise HeadersTooLarge  # httptools turns it into a parser error: uvicorn answers 400 and closes

    def _arm(self) -> None:
        self._disarm()
        self._idle_since = time.monotonic()
        self._deadline = self.loop.call_later(self.timeout_keep_alive, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _idle(self) -> bool:
        return self._deadline is not None and (self.cycle is None or self.cycle.response_complete)

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def _evict_idle(self, limit: int) -> None:
        """Close the longest-idle connections until this one fits under ``limit``."""
        live = [c for c in self.connections if not c.transport.is_closing()]
        excess = len(live) - limit + 1
        if excess <= 0:
            return
        idle = sorted(
            (c for c in live if c is not self and isinstance(c, GuardedProtocol) and c._idle()),
            key=lambda c: c._idle_since,
        )
        for conn in idle[:excess]:
            conn._expire()
            # Counted no more from now, not from when the loop gets to its connection_lost: uvicorn's
            # limit check for this connection's request may run first.
            self.connections.discard(conn)


def server_config(settings: Settings, app: Any, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of ``app`` under ``settings``' limits; ``options`` add to or override it."""
    base: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": GuardedProtocol,
        "limit_concurrency": settings.limit_concurrency,
        "timeout_keep_alive": settings.timeout_keep_alive_seconds,
        # used only if the h11 protocol is chosen instead; GuardedProtocol caps headers itself
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "log_level": settings.log_level.lower(),
        "access_log": False,
        "server_header": False,
    }
    return uvicorn.Config(app, **{**base, **options})


def run_server(config: uvicorn.Config) -> None:
    """Serve ``config`` in this process, or in ``config.workers`` processes sharing one socket."""
    if config.workers > 1:
        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()  # each worker process builds its own Server from config
    else:
        uvicorn.Server(config).run()
