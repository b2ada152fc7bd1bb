"""Two replicas starting at once on one empty database: both start, the schema is migrated once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from service.db.engine import make_engine
from service.db.migrate import alembic_config
from tests.service.harness import PG_URL, drop_pg, pg_database
from tests.service.replica import replica_start


def _start_two_replicas(url: str) -> list[int | None]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    replicas = [ctx.Process(target=replica_start, args=(url, barrier)) for _ in range(2)]
    for p in replicas:
        p.start()
    for p in replicas:
        p.join(timeout=120)
    return [p.exitcode for p in replicas]


def _assert_at_heads_once(url: str) -> None:
    engine = make_engine(url)
    try:
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        with engine.connect() as conn:
            versions = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
            heads_rows = conn.execute(text("SELECT COUNT(*) FROM audit_head")).scalar_one()
        assert sorted(versions) == sorted(heads)
        assert heads_rows == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_replicas_start_together_on_an_empty_database(backend: str, tmp_path: Path) -> None:
    if backend == "postgresql":
        if not PG_URL:
            pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
        raw, name = pg_database()
        url = "postgresql+psycopg" + raw[len("postgresql") :]
    else:
        url, name = f"sqlite:///{tmp_path / 'empty.db'}", None
    try:
        assert _start_two_replicas(url) == [0, 0]
        _assert_at_heads_once(url)
    finally:
        if name:
            drop_pg(name)
