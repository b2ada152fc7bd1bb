"""Request limits enforced before authentication and parsing: body size and time, and a per-key rate.

Both are pure ASGI middlewares and answer in the service's error shape
(``service.errors``) before the app runs:

- :class:`BodyLimit` refuses a body whose ``Content-Length`` is over the limit
  at once, without reading it (413), counts a chunked body as it arrives and
  stops at the limit (413), and gives the whole body ``body_timeout`` seconds
  (408).  It never holds more than the limit: the red-team's 50 MB body of
  non-object batch items grew the server to 21.8 GB before this.
- :class:`RateLimit` keeps a token bucket per API key (the sha256 of the
  ``Authorization`` key, no database call) and per client address for
  requests without a key the service has accepted before, so random keys do
  not each get a fresh bucket.  Over the rate: 429 with ``Retry-After``.
  Buckets idle long enough to be full again are dropped, and at most
  ``max_buckets`` are kept, least recently used first out.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth import KeyCache, hash_key
from service.errors import RateLimited, ServiceError, TooLarge, TooSlow, error_response


async def _refuse(exc: ServiceError, scope: Scope, receive: Receive, send: Send, *, close: bool = False) -> None:
    response = error_response(exc)
    if close:  # the rest of the body is not read: close the connection rather than make the server drain it
        response.headers["Connection"] = "close"
    await response(scope, receive, send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` of request body, all of it within ``timeout`` seconds."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = _header(scope, b"content-length")
        if scope["type"] != "http" or (length is None and _header(scope, b"transfer-encoding") is None):
            await self.app(scope, receive, send)  # no body (HTTP/1.1 has one only with either header)
            return
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _refuse(self._too_large(), scope, receive, send, close=True)
            return
        try:
            first = await self._read(receive)
        except ServiceError as exc:
            await _refuse(exc, scope, receive, send, close=True)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> Message:
        """The whole body as one message (or the disconnect that cut it short); TooLarge or TooSlow."""
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0))
            except TimeoutError:
                raise TooSlow(f"the request body did not arrive within {self.timeout:g} s") from None
            if message["type"] != "http.request":
                return message  # the client went away: the app sees it as it came
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    def _too_large(self) -> TooLarge:
        return TooLarge(f"the request body is over the limit of {self.max_bytes} bytes")


class TokenBuckets:
    """Token buckets by name: ``burst`` tokens each, refilled at ``per_minute`` a minute.

    Only the event loop's thread calls :meth:`take`, so there is no lock.
    """

    def __init__(
        self, *, per_minute: int, burst: int, max_buckets: int = 50_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_buckets = max_buckets
        self.clock = clock
        self._full_after = self.burst / self.rate if self.rate else math.inf
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # name -> (tokens, when)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, name: str) -> float:
        """Take one token from ``name``'s bucket: 0.0 if there was one, else seconds until there is."""
        now = self.clock()
        tokens, when = self._buckets.pop(name, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[name] = (tokens, now)  # most recently used last
        self._forget_idle(now)
        return wait

    def _forget_idle(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            name, (_, when) = next(iter(buckets.items()))
            if now - when < self._full_after and len(buckets) <= self.max_buckets:
                return
            del buckets[name]  # full again (same as no bucket), or the least recently used over the cap


class RateLimit:
    """ASGI middleware: 429 with ``Retry-After`` when a key (or an address without a known key) exceeds its rate."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        burst: int,
        keys: KeyCache,
        exempt: frozenset[str] = frozenset({"/healthz"}),
        max_buckets: int = 50_000,
    ) -> None:
        self.app = app
        self.keys = keys
        self.exempt = exempt
        self.buckets = (
            TokenBuckets(per_minute=per_minute, burst=burst, max_buckets=max_buckets) if per_minute > 0 else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(self._who(scope))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            await _refuse(
                RateLimited(f"too many requests: retry in {retry} s", retry_after=retry), scope, receive, send
            )
            return
        await self.app(scope, receive, send)

    def _who(self, scope: Scope) -> str:
        authorization = _header(scope, b"authorization") or b""
        if authorization[:7].lower() == b"bearer ":
            digest = hash_key(authorization[7:].decode("latin-1").strip())
            if self.keys.get(digest) is not None:  # a key the service accepted: no database call
                return "key:" + digest
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")
