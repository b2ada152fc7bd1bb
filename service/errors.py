"""Service exceptions and their one mapping to HTTP.

Exception tree::

    ServiceError
    ├── Unauthorized      401  missing, unknown or revoked API key
    ├── Forbidden         403  the key's role may not use this route
    ├── NotFound          404  no such record, or another institution's
    ├── Conflict          409  idempotency key reused with another body, state clash
    ├── InvalidInput      422  semantic problem with a named field
    ├── TooSlow           408  request body not received within the body timeout
    ├── TooLarge          413  request body over the limit
    ├── RateLimited       429  too many requests from one key (Retry-After)
    └── Unavailable       503  models not loaded yet, database unreachable or busy (Retry-After)

Every error renders as ``{"error": "ClassName", "detail": "...", "field": ...}``.

Database failures (lost or refused connections, an exhausted pool, statement
and lock timeouts, SQLite's "database is locked") are :class:`Unavailable`
too, with ``Retry-After``.  Anything unexpected renders as ``InternalError``
(500) in the same shape.  Both are logged with the request id, route and
exception type only: an exception's text may quote business data.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

from models_store import StoreError
from scoring.types import FieldError
from service.asgi import HttpMiddleware

log = logging.getLogger("iprisk.errors")


class ServiceError(Exception):
    """Base of expected service errors."""

    status = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class Unauthorized(ServiceError):
    """Missing, unknown or revoked API key."""

    status = 401


class Forbidden(ServiceError):
    """The role may not use this route."""

    status = 403


class NotFound(ServiceError):
    """No such record visible to the caller."""

    status = 404


class Conflict(ServiceError):
    """The request clashes with stored state."""

    status = 409


class InvalidInput(ServiceError):
    """A field's value is unusable."""

    status = 422


class TooSlow(ServiceError):
    """The rest of the request body did not arrive in time."""

    status = 408


class TooLarge(ServiceError):
    """The request body is over the configured limit."""

    status = 413


class RateLimited(ServiceError):
    """The key sent more requests than its rate allows."""

    status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    """A dependency is not ready."""

    status = 503

    def __init__(self, detail: str, *, field: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail, field=field)
        self.retry_after = retry_after


class FieldProblem(BaseModel):
    """One problem with one field of a request."""

    field: str | None = Field(description="Dotted path of the field (`loan.amount_cny`, `patents.0`).")
    problem: str
    type: str | None = Field(default=None, description="Machine-readable kind of problem, where there is one.")


class ErrorBody(BaseModel):
    """The JSON body of every error response."""

    error: str = Field(
        description="Unauthorized, Forbidden, NotFound, Conflict, InvalidInput, ValidationError, "
        "HTTPError, TooSlow, TooLarge, RateLimited, Unavailable or "
        "InternalError.",
        examples=["ValidationError"],
    )
    detail: str = Field(examples=["loan.amount_cny: Input should be less than or equal to 10000000000"])
    field: str | None = Field(
        description="The request field at fault, dotted, when one is.", examples=["loan.amount_cny"]
    )
    errors: list[FieldProblem] | None = Field(
        default=None, description="Every problem found (request validation only)."
    )


_MEANING = {
    401: "Missing, unknown or revoked API key.",
    403: "The key's role may not use this route.",
    404: "No such record, or another institution's: the two are not told apart.",
    409: "The request clashes with stored state (named in `detail`).",
    408: "The request body did not arrive within `IPRISK_BODY_TIMEOUT_SECONDS`.",
    413: "The request body is over the limit (`IPRISK_MAX_BODY_BYTES`). Nothing was read past it.",
    422: "Bad input: `field` names the field and `detail` the problem. Nothing was written.",
    429: "Too many requests from this key; `Retry-After` says when to try again.",
    503: "The models, the model store or the database are not available; `Retry-After` says when to retry.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a router's routes can give, all with :class:`ErrorBody`.

    Documenting 422 here also replaces FastAPI's default 422 schema, which is
    not what :func:`install_error_handlers` sends.
    """
    return {code: {"model": ErrorBody, "description": _MEANING[code]} for code in codes}


def error_body(error: str, detail: str, field: str | None, **extra: Any) -> dict[str, Any]:
    """The one JSON shape of every error response."""
    return {"error": error, "detail": detail, "field": field, **extra}


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def field_problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """(dotted field, problem) of one pydantic error; a :class:`FieldError` names its own field."""
    raised = (error.get("ctx") or {}).get("error")
    if isinstance(raised, FieldError):
        return _loc((*error.get("loc", ()), *raised.field.split("."))), raised.problem
    return _loc(error.get("loc", ())), str(error.get("msg", ""))


# SQLSTATEs that mean "busy, try again": the server cancelled a statement or a lock wait,
# or a concurrent transaction won.  Any other operational failure means "unreachable".
_BUSY_SQLSTATES = {
    "57014": "a statement timed out",
    "55P03": "a lock wait timed out",
    "40001": "a concurrent write conflicted",
    "40P01": "a concurrent write conflicted",
}


def database_unavailable(exc: Exception) -> Unavailable | None:
    """The 503 that a database exception means, or ``None`` if it is not a failure of the database.

    Integrity and data errors are not failures of the database (they are the
    caller's or a bug) and stay ``None``.
    """
    if isinstance(exc, sa_exc.TimeoutError):
        return Unavailable("database busy: no connection free", retry_after=1)
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _BUSY_SQLSTATES:
        return Unavailable(f"database busy: {_BUSY_SQLSTATES[sqlstate]}", retry_after=1)
    if "database is locked" in str(exc.orig):  # SQLite's busy timeout, or the writer queue's
        return Unavailable("database busy: a lock wait timed out", retry_after=1)
    if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return Unavailable("database unavailable", retry_after=2)
    return None


def _log_failure(level: int, event: str, scope: Scope, exc: BaseException) -> None:
    """One JSON log line naming the request and the exception's type and place, never its text."""
    route = getattr(scope.get("route"), "path", None)
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    # The innermost frame of our own code says where; a library's innermost frame rarely does.
    frame = [f for f in frames if "site-packages" not in f.filename][-1:] or frames[-1:]
    entry = {
        "event": event,
        "request_id": (scope.get("state") or {}).get("request_id"),
        "route": route,
        "method": scope.get("method"),
        "error": type(exc).__name__,
        "at": f"{frame[0].filename}:{frame[0].lineno}" if frame else None,
    }
    orig = getattr(exc, "orig", None)
    if orig is not None:
        entry["cause"] = type(orig).__name__
        entry["sqlstate"] = getattr(orig, "sqlstate", None)
    log.log(level, json.dumps(entry))


def error_response(exc: ServiceError) -> JSONResponse:
    """The response for ``exc``: its status, the error body, and Retry-After or WWW-Authenticate where due.

    Also used by the ASGI middlewares (``service.limits``) that answer before the app runs.
    """
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(error_body(type(exc).__name__, exc.detail, exc.field), status_code=exc.status, headers=headers)


# A bad body can hold any number of problems and arbitrarily long keys: the answer stays a few KB.
MAX_PROBLEMS = 20
_MAX_TEXT = 200


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


def without_union_tags(loc: Sequence[Any], body: Any) -> tuple[Any, ...]:
    """``loc`` without the tags pydantic inserts for a tagged union (``event.fee_due.due_date`` → ``event.due_date``).

    A part is a tag where the body, at that point, is an object that has no such key but holds the part
    as a value (its discriminator): the client never wrote that path, so the field would not be found.
    """
    out: list[Any] = []
    node = body
    for i, part in enumerate(loc):
        if i == 0 and part == "body":
            out.append(part)
            continue
        tag = isinstance(node, dict) and isinstance(part, str) and part not in node and part in node.values()
        if tag and i < len(loc) - 1:  # a tag is never the last part: that is the field itself
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def validation_response(problems: Sequence[Mapping[str, Any]], body: Any = None) -> JSONResponse:
    """422 listing the first :data:`MAX_PROBLEMS` problems, each field and text clipped; never the input.

    ``body``, the parsed request body where there is one, lets a tagged union's problem name the field as
    the client wrote it (:func:`without_union_tags`).
    """
    errors = []
    for e in problems[:MAX_PROBLEMS]:
        if body is not None and e.get("loc"):
            e = {**e, "loc": without_union_tags(e["loc"], body)}
        field, problem = field_problem(e)
        errors.append({"field": _clip(field), "problem": _clip(problem), "type": e.get("type")})
    first = errors[0] if errors else {"field": None, "problem": "invalid request"}
    detail = f"{first['field']}: {first['problem']}"
    if len(problems) > MAX_PROBLEMS:
        detail += f" (and {len(problems) - 1} more problems; the first {MAX_PROBLEMS} are listed)"
    return JSONResponse(error_body("ValidationError", detail, first["field"], errors=errors), status_code=422)


def _internal_error(request_id: str | None = None) -> JSONResponse:
    return JSONResponse(
        error_body("InternalError", "internal error; the request id identifies it in the logs", None),
        status_code=500,
        headers={"X-Request-ID": request_id} if request_id else None,
    )


class InternalErrors(HttpMiddleware):
    """Outermost guard: any exception nothing else handled becomes a JSON 500, logged without values.

    Starlette's own last-resort handler re-raises after answering, so the
    server would log the full traceback (with the exception's text); this
    guard answers and stops there.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_started)
        except Exception as exc:  # noqa: BLE001 - the last resort: every failure answers in the error shape
            _log_failure(logging.ERROR, "internal_error", scope, exc)
            if not started:
                # Outside the metrics middleware (installed last), so it names the request id itself.
                await _internal_error((scope.get("state") or {}).get("request_id"))(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping of every expected error to its status and body."""
    app.add_middleware(InternalErrors)

    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        unavailable = database_unavailable(exc)
        if unavailable is None:
            _log_failure(logging.ERROR, "internal_error", request.scope, exc)
            return _internal_error()
        _log_failure(logging.WARNING, "database_unavailable", request.scope, exc)
        return error_response(unavailable)

    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc.errors(), exc.body if isinstance(exc.body, dict | list) else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body("HTTPError", str(exc.detail), None),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        log.error("model store error: %s", exc)
        return JSONResponse(error_body("Unavailable", "model store unavailable", None), status_code=503)
