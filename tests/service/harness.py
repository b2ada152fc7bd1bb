"""The live-server harness of the service tests: a real uvicorn server in a thread, throwaway databases, logs."""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.app import create_app
from service.client import IpriskClient
from service.db.engine import make_engine
from service.logging import JsonFormatter
from service.server import server_config
from service.settings import Settings

T = TypeVar("T")

PG_URL = os.environ.get("IPRISK_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def pg_database() -> tuple[str, str]:
    """Create a throwaway database on the test server; return (url, name)."""
    assert PG_URL is not None
    name = f"iprisk_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def drop_pg(name: str) -> None:
    """Drop a database made by :func:`pg_database`, closing its connections."""
    assert PG_URL is not None
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Server:
    """A running service and what tests need to talk to it."""

    base_url: str
    settings: Settings
    backend: str
    app: FastAPI
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, who: str, *, lang: Literal["en", "zh"] = "en", timeout: float = 30.0) -> IpriskClient:
        """A client authenticated as ``who`` (a key name from :data:`KEYS`)."""
        return IpriskClient(self.base_url, api_key=self.keys[who], lang=lang, timeout=timeout)

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
    "data_feed": ("data_feed", "cnipa_feed"),
}


def start_server(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str, FastAPI]:
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


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the service and the server log meanwhile, as the JSON lines production writes."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(n) for n in ("iprisk", "uvicorn", "uvicorn.error", "sqlalchemy", "")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        yield captured
    finally:
        for lg in loggers:
            lg.removeHandler(handler)


def wait_until(
    probe: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Call ``probe`` until it returns something truthy; return that, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


@contextmanager
def scratch_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database for a migration test: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if backend == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
    url, name = (f"sqlite:///{tmp_path / 'm.db'}", None) if backend == "sqlite" else pg_database()
    if name:
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    eng = make_engine(url)
    try:
        yield eng
    finally:
        eng.dispose()
        if name:
            drop_pg(name)
