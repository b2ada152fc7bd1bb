"""Every request body in the OpenAPI document carries a valid example, and every error is documented as sent."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from service.app import create_app
from service.routes import assessments, funds, insurance, loans, outcomes, pledges, regulator, subsidies, valuations
from service.settings import Settings

ROUTES = [
    r
    for m in (valuations, assessments, insurance, loans, pledges, outcomes, funds, regulator, subsidies)
    for r in m.router.routes
    if isinstance(r, APIRoute)
]
BODIES = [
    (r.path, h)
    for r in ROUTES
    for n, h in typing.get_type_hints(r.endpoint).items()
    if n == "body" and isinstance(h, type) and issubclass(h, BaseModel)
]


def test_every_write_route_has_a_body_model() -> None:
    posts = [r for r in ROUTES if (r.methods or set()) & {"POST", "PUT"}]
    assert len(BODIES) >= 12
    assert len(posts) >= len(BODIES)


@pytest.mark.parametrize(("path", "model"), BODIES, ids=[f"{p}:{m.__name__}" for p, m in BODIES])
def test_body_example_validates(path: str, model: type[BaseModel]) -> None:
    examples = model.model_json_schema().get("examples")
    assert examples, f"{model.__name__} ({path}) has no example in the OpenAPI document"
    for example in examples:
        model.model_validate(example)


def test_every_v1_operation_documents_its_errors_with_the_error_body(tmp_path: Path) -> None:
    doc = create_app(Settings(home=tmp_path)).openapi()
    ops = [(p, m, op) for p, item in doc["paths"].items() if p.startswith("/v1") for m, op in item.items()]
    assert len(ops) >= 25
    for path, method, op in ops:
        codes = set(op["responses"])
        assert {"401", "403", "422"} <= codes, (method, path, codes)
        for code in codes - {"200", "201"}:
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    export = doc["paths"]["/v1/regulator/portfolio/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {
        "text/csv",
        "application/vnd.apache.parquet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
