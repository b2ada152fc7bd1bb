"""Migration 0007_after_booking on SQLite and PostgreSQL: the tables match the models, down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from service.db.migrate import alembic_config, upgrade
from tests.service.harness import scratch_engine

NEW_TABLES = {"patent_events", "patent_facts", "watch_alerts", "loan_marks", "disposal_cases", "disposal_steps"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_after_booking_tables_migrate_down_and_up(backend: str, tmp_path: Path) -> None:
    with scratch_engine(backend, tmp_path) as engine:
        upgrade(engine, "0007_after_booking")
        assert NEW_TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert [d for d in diff if any(t in repr(d) for t in NEW_TABLES)] == []
        with engine.connect() as conn:
            command.downgrade(alembic_config(engine, conn), "0006_loan_rate")
            conn.commit()
        assert not NEW_TABLES & set(inspect(engine).get_table_names())
        upgrade(engine, "0007_after_booking")
        assert NEW_TABLES <= set(inspect(engine).get_table_names())
