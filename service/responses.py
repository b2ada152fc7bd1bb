"""Responses serialised once, by pydantic's JSON encoder.

Routes that return large scoring results hand back the validated model as
bytes: FastAPI would otherwise validate it again against the return type and
encode it through ``jsonable_encoder`` (measured at about 1 ms for an
assessment).  The route keeps ``response_model`` so the OpenAPI document is
unchanged.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


class ModelResponse(Response):
    """``application/json`` body produced by ``model_dump_json``, or that JSON text itself."""

    media_type = "application/json"

    def __init__(self, model: BaseModel | str, status_code: int = 200) -> None:
        super().__init__(content=model if isinstance(model, str) else model.model_dump_json(), status_code=status_code)
