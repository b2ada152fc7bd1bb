"""Service exceptions and their one mapping to HTTP.

Exception tree::

    ServiceError
    ├── Unauthorized      401  missing, unknown or revoked API key
    ├── Forbidden         403  the key's role may not use this route
    ├── NotFound          404  no such record, or another institution's
    ├── Conflict          409  idempotency key reused with another body, state clash
    ├── InvalidInput      422  semantic problem with a named field
    └── Unavailable       503  models not loaded yet

Every error renders as ``{"error": "ClassName", "detail": "...", "field": ...}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from models_store import StoreError

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


class Unavailable(ServiceError):
    """A dependency is not ready."""

    status = 503


def error_body(error: str, detail: str, field: str | None, **extra: Any) -> dict[str, Any]:
    """The one JSON shape of every error response."""
    return {"error": error, "detail": detail, "field": field, **extra}


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping of every expected error to its status and body."""

    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(type(exc).__name__, exc.detail, exc.field), status_code=exc.status,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _loc(e.get("loc", ())), "problem": str(e.get("msg", "")), "type": e.get("type")}
                  for e in exc.errors()]
        first = errors[0] if errors else {"field": None, "problem": "invalid request"}
        return JSONResponse(error_body("ValidationError", f"{first['field']}: {first['problem']}", first["field"],
                                  errors=errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body("HTTPError", str(exc.detail), None), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        log.error("model store error: %s", exc)
        return JSONResponse(error_body("Unavailable", "model store unavailable", None), status_code=503)
