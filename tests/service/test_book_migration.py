"""Migration 0008_book on SQLite and PostgreSQL: the new tables match the models, and it steps down and up."""

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

import service.db.book_tables  # noqa: F401 - registers the book tables
from service.db.migrate import alembic_config, upgrade
from tests.service.harness import scratch_engine

BEFORE = "0006_loan_rate"
NEW_TABLES = {"loan_repayments", "bank_npl_reports", "ip_transactions", "technology_turnover"}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database at the head."""
    with scratch_engine(request.param, tmp_path) as eng:
        upgrade(eng)
        yield eng


def test_the_book_tables_match_the_models_and_step_down_and_up(engine: Engine) -> None:
    assert NEW_TABLES <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if any(t in repr(d) for t in NEW_TABLES)] == []
    command.downgrade(alembic_config(engine), BEFORE)
    assert not NEW_TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert NEW_TABLES <= set(inspect(engine).get_table_names())
