"""The deployment's patent id mode (``IPRISK_PATENT_IDS``) at the service's edge.

:mod:`scoring.patent_ids` parses a patent number under a mode it is given;
``scoring`` reads no setting.  FastAPI validates a request body without a
pydantic validation context, so the service hands the mode over itself:

1. :class:`PatentIds` (ASGI middleware) puts the app's mode in a context
   variable for the duration of each request (a context variable, not a
   global: several apps with different settings may serve in one process,
   as the tests do);
2. request schemas declare their patents as :data:`RequestPatent`, whose
   before-validator parses ``patent_id`` under that mode and hands the
   domain type a :class:`~scoring.patent_ids.PatentNumber`, which
   :class:`scoring.types.Patent` takes as already parsed.

An invalid id is a 422 naming ``patents.<i>.patent_id``.  Without the
middleware (a schema validated outside a request) the mode is ``cn_only``.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated, Any

from pydantic import BeforeValidator
from starlette.types import ASGIApp, Receive, Scope, Send

from scoring.patent_ids import PatentIdError, PatentIdMode, parse_patent_id
from scoring.types import FieldError, Patent

_MODE: ContextVar[PatentIdMode] = ContextVar("iprisk_patent_id_mode", default="cn_only")


def patent_id_mode() -> PatentIdMode:
    """The patent id mode of the request being served (``cn_only`` outside one)."""
    return _MODE.get()


class PatentIds:
    """ASGI middleware: the app's patent id mode, for every request it serves."""

    def __init__(self, app: ASGIApp, mode: PatentIdMode) -> None:
        self.app = app
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _MODE.set(self.mode)
        try:
            await self.app(scope, receive, send)
        finally:
            _MODE.reset(token)


def _parse_under_mode(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("patent_id"), str):
        try:
            return {**value, "patent_id": parse_patent_id(value["patent_id"], mode=_MODE.get())}
        except PatentIdError as exc:
            raise FieldError("patent_id", exc.problem) from exc
    return value


RequestPatent = Annotated[Patent, BeforeValidator(_parse_under_mode)]
"""A patent in a request body: its id parsed under the deployment's mode."""


def _canonical_under_mode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_patent_id(value, mode=_MODE.get()).canonical
        except PatentIdError as exc:
            raise ValueError(exc.problem) from exc
    return value


RequestPatentId = Annotated[str, BeforeValidator(_canonical_under_mode)]
"""A patent id naming one of a request's patents (e.g. a key of ``pledges``): canonical, like the patents' own."""


def canonical_stored_id(text: str) -> str:
    """The canonical form of a patent id read back from a stored record (written before ids were canonical).

    Raises
    ------
    PatentIdError
        The stored id is not a number the deployment's mode accepts.
    """
    return parse_patent_id(text, mode=_MODE.get()).canonical
