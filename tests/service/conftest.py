"""Service fixtures: a real uvicorn server on 127.0.0.1, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.app import create_app
from service.client import IpriskClient
from service.db.engine import make_engine
from service.keys import new_key
from service.server import server_config
from service.settings import Settings
from tests.conftest import TEST_SIGNING_KEY
from training.pipeline import RunResult

PG_URL = os.environ.get("IPRISK_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def _pg_database() -> tuple[str, str]:
    """Create a throwaway database on the test server; return (url, name)."""
    assert PG_URL is not None
    name = f"iprisk_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def _drop_pg(name: str) -> None:
    assert PG_URL is not None
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Server:
    """A running service and what tests need to talk to it."""

    base_url: str
    settings: Settings
    backend: str
    app: object
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, who: str, *, lang: str = "en", timeout: float = 30.0) -> IpriskClient:
        """A client authenticated as ``who`` (a key name from :data:`KEYS`)."""
        return IpriskClient(self.base_url, api_key=self.keys[who], lang=lang, timeout=timeout)  # type: ignore[arg-type]

    def engine(self) -> Engine:
        """A separate engine on the service's database (for row counts and tampering)."""
        return make_engine(self.settings.db_url)

    def count(self, table: str) -> int:
        """Rows in ``table``."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
        finally:
            engine.dispose()


KEYS = {
    "bank_a": ("bank", "bank_a"),
    "bank_b": ("bank", "bank_b"),
    "insurer": ("insurer", "insurer_x"),
    "regulator": ("regulator", "nfra_guizhou"),
    "fund_manager": ("fund_manager", "fund_guiyang"),
    "data_team": ("data_team", "iprisk"),
}


def start_server(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str, object]:
    """Serve ``create_app(settings)`` on a free loopback port in a thread."""
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(settings, app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}", app


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, trained: tuple[Path, list[RunResult]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A live service with its own database and model store copy, and one key per role."""
    backend = request.param
    if backend == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
    home = tmp_path_factory.mktemp(f"home-{backend}")
    shutil.copytree(trained[0], home / "models")
    db_url, pg_name = (None, None) if backend == "sqlite" else _pg_database()
    # No rate limit here: tests send hundreds of requests with one key (tests/service/test_limits.py tests it).
    settings = Settings(
        home=home,
        database_url=db_url,
        reload_interval_seconds=0.2,
        log_level="WARNING",
        batch_max_items=5,
        rate_limit_per_minute=0,
        model_signing_key=TEST_SIGNING_KEY,
    )
    srv, thread, base_url, app = start_server(settings)
    keys = {name: new_key(settings, role=role, institution=inst)[0] for name, (role, inst) in KEYS.items()}
    try:
        yield Server(base_url, settings, backend, app, keys)
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        if pg_name:
            _drop_pg(pg_name)
