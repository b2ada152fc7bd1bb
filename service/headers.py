"""Security headers on every response.

``nosniff``, ``DENY`` framing and no referrer everywhere; ``no-store`` on the
API (``/v1``), whose answers hold institutions' business data; a strict
Content-Security-Policy on everything but the interactive documentation, which
loads Swagger UI and ReDoc from a CDN.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from service.asgi import HttpMiddleware

_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"))
_API = ((b"cache-control", b"no-store"),)
_CSP = ((b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),)
_DOCS = ("/docs", "/redoc")


class SecurityHeaders(HttpMiddleware):
    """ASGI middleware adding the security headers to every HTTP response."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        extra = _ALWAYS + (_API if path.startswith("/v1/") or path == "/v1" else ())
        if not path.startswith(_DOCS):
            extra += _CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
