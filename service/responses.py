"""Responses serialised once, by pydantic's JSON encoder.

Routes that return large scoring results hand back the validated model as
bytes: FastAPI would otherwise validate it again against the return type and
encode it through ``jsonable_encoder`` (measured at about 1 ms for an
assessment).  The route keeps ``response_model`` so the OpenAPI document is
unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Response
from pydantic import BaseModel
from sqlmodel import Session

from service.auth import Principal
from service.usecases.idempotency import Call, Result, once


class ModelResponse(Response):
    """``application/json`` body produced by ``model_dump_json``, or that JSON text itself."""

    media_type = "application/json"

    def __init__(self, model: BaseModel | str, status_code: int = 200) -> None:
        super().__init__(content=model if isinstance(model, str) else model.model_dump_json(), status_code=status_code)


def run_once(
    session: Session, principal: Principal, call: Call, body: BaseModel | None, action: Callable[[], Result]
) -> Response:
    """Run ``action`` under ``call``'s ``Idempotency-Key`` (see :mod:`service.usecases.idempotency`).

    The first answer and every replay are the same bytes with the same status; a replay says so in
    ``Idempotency-Replayed: true``.
    """
    answer = once(session, principal, call, body, action)
    response = ModelResponse(answer.body, status_code=answer.status)
    if answer.replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return response
