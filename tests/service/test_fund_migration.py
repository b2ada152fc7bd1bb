"""The 0002_funds migration builds exactly the fund tables the models declare, and downgrades cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import service.db.fund_tables  # noqa: F401 - registers the fund tables
from service.db.migrate import alembic_config, upgrade
from tests.service.harness import scratch_engine

FUND_TABLES = {
    "funds",
    "fund_rule_versions",
    "fund_banks",
    "fund_loans",
    "fund_claims",
    "fund_recoveries",
    "fund_ledger",
    "fund_corrections",
    "fund_subsidy_versions",
    "fund_subsidy_applications",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with scratch_engine(request.param, tmp_path) as eng:
        yield eng


def test_migration_matches_the_models_and_downgrades(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    ours = [d for d in diff if any(t in repr(d) for t in FUND_TABLES)]
    assert ours == []
    assert FUND_TABLES <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(engine), "0002_funds@0001")
    assert not FUND_TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert FUND_TABLES <= set(inspect(engine).get_table_names())
