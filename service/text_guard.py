"""Refuse text no database column can hold: NUL characters and lone UTF-16 surrogates.

PostgreSQL text cannot contain U+0000, and neither SQLite's nor PostgreSQL's
driver can encode a lone surrogate (``"\\ud800"`` is valid JSON and decodes
to one).  Either in an id, a name or a filter reached the database as an
error, that is a 500, before this guard: the schemathesis fuzz test found
``POST /v1/loans`` with a NUL in ``assessment_id``.  Patterns on single
fields (``service/schemas/funds.py``) cover only the fields that have them;
this guard covers every route, path, query and JSON body, before
authentication, as malformed JSON is (FastAPI parses the body before it
solves dependencies).

The common case costs one regular-expression search over the body: only a
body that contains the escape ``\\u0000`` or ``\\ud8…``–``\\udf…`` is parsed
to find the field, so the 422 names it (``patents.0.patent_id``) in the
service's error shape (``service.errors``).

A route whose list items succeed or fail one by one (``POST
/v1/assessments/batch``) is named in ``per_item`` with the list's key: the
guard leaves that list to the route, which refuses a bad item alone with
:func:`first_bad` (``service.usecases.scoring.create_batch``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_body

# A JSON string escape that may decode to a NUL or a surrogate (hex digits are case-insensitive).
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])")
_BAD = re.compile("[\x00\ud800-\udfff]")


def problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    found = _BAD.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (U+0000), which text cannot hold"
    return f"contains a lone UTF-16 surrogate (U+{ord(found.group()):04X}), which is not a character"


def first_bad(value: Any, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """The dotted path and problem of the first string (key or value) in parsed JSON that cannot be stored."""
    if isinstance(value, str):
        why = problem(value)
        return (".".join(path) or "body", why) if why else None
    if isinstance(value, dict):
        for key, item in value.items():
            why = problem(key)
            if why:
                return (".".join((*path, key.encode("unicode_escape").decode())), f"the key {why}")
            found = first_bad(item, (*path, key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = first_bad(item, (*path, str(i)))
            if found:
                return found
    return None


def _refuse(field: str, why: str) -> JSONResponse:
    return JSONResponse(
        error_body(
            "ValidationError",
            f"{field}: {why}",
            field,
            errors=[{"field": field, "problem": why, "type": "text_unstorable"}],
        ),
        status_code=422,
    )


class TextGuard:
    """ASGI middleware: 422 for a path, query or JSON body holding text no column can store."""

    def __init__(self, app: ASGIApp, per_item: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.per_item = dict(per_item or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = self._in_url(scope)
        if found is None and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            body, receive = await _buffered(receive)
            if _SUSPECT.search(body):
                found = _in_json(body, self.per_item.get(scope.get("path", "")))
        if found is not None:
            await _refuse(*found)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _in_url(scope: Scope) -> tuple[str, str] | None:
        why = problem(scope.get("path", ""))
        if why:
            return "path", why
        query = scope.get("query_string", b"")
        if b"%" in query:  # a NUL can only arrive percent-encoded
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                why = problem(value) or problem(name)
                if why:
                    return name.encode("unicode_escape").decode() or "query", why
        return None


def _in_json(body: bytes, items: str | None) -> tuple[str, str] | None:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route's own parsing answers
    if items is not None and isinstance(parsed, dict) and isinstance(parsed.get(items), list):
        parsed = {k: v for k, v in parsed.items() if k != items}  # the route judges each item
    return first_bad(parsed)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body; return it and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    more = True
    first: Message | None = None
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: pass that on as it came
            first = message
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return first if first is not None else {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
