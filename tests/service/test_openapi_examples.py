"""Every request body in the OpenAPI document carries an example, and the example is valid."""

from __future__ import annotations

import typing

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from service.routes import assessments, funds, insurance, loans, outcomes, regulator, valuations

ROUTES = [r for m in (valuations, assessments, insurance, loans, outcomes, funds, regulator)
          for r in m.router.routes if isinstance(r, APIRoute)]
BODIES = [(r.path, h) for r in ROUTES for n, h in typing.get_type_hints(r.endpoint).items()
          if n == "body" and isinstance(h, type) and issubclass(h, BaseModel)]


def test_every_write_route_has_a_body_model() -> None:
    posts = [r for r in ROUTES if r.methods & {"POST", "PUT"}]
    assert len(BODIES) >= 12
    assert len(posts) >= len(BODIES)


@pytest.mark.parametrize(("path", "model"), BODIES, ids=[f"{p}:{m.__name__}" for p, m in BODIES])
def test_body_example_validates(path: str, model: type[BaseModel]) -> None:
    examples = model.model_json_schema().get("examples")
    assert examples, f"{model.__name__} ({path}) has no example in the OpenAPI document"
    for example in examples:
        model.model_validate(example)
