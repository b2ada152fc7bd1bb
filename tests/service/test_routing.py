"""One worker-thread hand-off per request, the key cache, and results stored as returned."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text

from service.app import ROUTERS
from service.keys import new_key, revoke
from service.routing import UnitOfWorkRoute
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_LOAN, EXAMPLE_PATENT
from tests.service.harness import Server

APPLICATION = {"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "patents": [EXAMPLE_PATENT]}


@contextmanager
def counted_hand_offs() -> Iterator[dict[str, int]]:
    """Count thread-pool hand-offs made by this process (the test server runs in it)."""
    original = anyio.to_thread.run_sync
    counter = {"n": 0}

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        counter["n"] += 1
        return await original(func, *args, **kwargs)

    anyio.to_thread.run_sync = counting  # type: ignore[assignment]
    try:
        yield counter
    finally:
        anyio.to_thread.run_sync = original


def test_every_api_route_uses_the_unit_of_work_route() -> None:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 30
    assert all(isinstance(r, UnitOfWorkRoute) for r in routes), [
        r.path for r in routes if not isinstance(r, UnitOfWorkRoute)
    ]


def test_a_warm_request_makes_one_hand_off(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.keys['bank_a']}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as c:
        assert c.post("/v1/assessments", json=APPLICATION).status_code == 201  # caches the key
        with counted_hand_offs() as hops:
            for _ in range(3):
                assert c.post("/v1/assessments", json=APPLICATION).status_code == 201
        assert hops["n"] == 3
        with counted_hand_offs() as hops:
            assert c.get("/v1/assessments", params={"limit": 1}).status_code == 200
        assert hops["n"] == 1


def test_errors_roll_back_and_a_new_key_is_read_once(server: Server) -> None:
    plain, _ = new_key(server.settings, role="bank", institution="bank_routing")
    headers = {"Authorization": f"Bearer {plain}"}
    before = server.count("assessments"), server.count("audit_log")
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as c:
        with counted_hand_offs() as hops:
            missing = {"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "valuation_id": "missing"}
            assert c.post("/v1/assessments", json=missing).status_code == 404
        assert hops["n"] == 3  # key lookup, endpoint, rollback
        assert c.post("/v1/assessments", json={"borrower": EXAMPLE_BORROWER}).status_code == 422
    assert (server.count("assessments"), server.count("audit_log")) == before


def test_a_key_revoked_after_it_was_cached_is_refused_and_writes_nothing(server: Server) -> None:
    plain, row = new_key(server.settings, role="bank", institution="bank_routing")
    headers = {"Authorization": f"Bearer {plain}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as c:
        assert c.post("/v1/assessments", json=APPLICATION).status_code == 201
        assert row.id is not None
        revoke(server.settings, row.id)
        before = server.count("assessments"), server.count("audit_log"), server.count("feature_snapshots")
        for _ in range(2):  # cached, then evicted and read again
            r = c.post("/v1/assessments", json=APPLICATION)
            assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
        assert (server.count("assessments"), server.count("audit_log"), server.count("feature_snapshots")) == before


def test_a_revoked_cached_key_is_401_on_a_route_its_role_may_not_use(server: Server) -> None:
    plain, row = new_key(server.settings, role="bank", institution="bank_routing")
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {plain}"}, timeout=30) as c:
        assert c.get("/v1/regulator/models").status_code == 403  # valid key, wrong role (and now cached)
        assert row.id is not None
        revoke(server.settings, row.id)
        r = c.get("/v1/regulator/models")
        assert r.status_code == 401 and r.json()["error"] == "Unauthorized"


@pytest.mark.parametrize("path", ["/v1/assessments", "/v1/valuations"])
def test_the_stored_response_is_the_one_returned_byte_for_byte(server: Server, path: str) -> None:
    body = APPLICATION if path == "/v1/assessments" else {"patents": [EXAMPLE_PATENT]}
    headers = {"Authorization": f"Bearer {server.keys['bank_a']}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as c:
        r = c.post(path, json=body)
    assert r.status_code == 201
    table = path.rsplit("/", 1)[1]
    engine = server.engine()
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                text(f"SELECT request, response FROM {table} WHERE id = :id"), {"id": r.json()["id"]}
            ).one()
    finally:
        engine.dispose()
    as_json = [v if isinstance(v, dict) else json.loads(v) for v in stored]
    assert as_json[1] == r.json()
    assert as_json[0]["patents"][0]["patent_id"] == EXAMPLE_PATENT["patent_id"]
    if server.backend == "sqlite":  # SQLite hands back the stored text itself
        assert stored[1] == r.text
