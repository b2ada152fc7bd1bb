"""Service fixtures: a real uvicorn server on 127.0.0.1, on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from service.keys import new_key
from service.settings import Settings
from tests.factories import TEST_SIGNING_KEY, Trained
from tests.service.harness import BACKENDS, KEYS, PG_URL, Server, drop_pg, pg_database, start_server


@pytest.fixture(scope="module")
def server_settings() -> dict[str, Any]:
    """Settings of this module's servers beyond the defaults of :func:`server` (a module may override it)."""
    return {}


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest,
    trained: Trained,
    tmp_path_factory: pytest.TempPathFactory,
    server_settings: dict[str, Any],
) -> Iterator[Server]:
    """A live service with its own database and model store copy, and one key per role."""
    backend = request.param
    if backend == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
    home = tmp_path_factory.mktemp(f"home-{backend}")
    shutil.copytree(trained.models, home / "models")
    db_url, pg_name = (None, None) if backend == "sqlite" else pg_database()
    # No rate limit here: tests send hundreds of requests with one key (tests/service/test_limits.py tests it).
    settings = Settings(
        **{
            "home": home,
            "database_url": db_url,
            "reload_interval_seconds": 0.2,
            "log_level": "WARNING",
            "batch_max_items": 5,
            "rate_limit_per_minute": 0,
            "model_signing_key": TEST_SIGNING_KEY,
            **server_settings,
        }
    )
    srv, thread, base_url, app = start_server(settings)
    keys = {name: new_key(settings, role=role, institution=inst)[0] for name, (role, inst) in KEYS.items()}
    try:
        yield Server(base_url, settings, backend, app, keys)
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        if pg_name:
            drop_pg(pg_name)
