"""Alembic environment: the engine comes from the caller (service.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

# Importing the table modules registers their tables on SQLModel.metadata.
import service.db.fund_tables
import service.db.idempotency_tables
import service.db.regulator_tables
import service.db.tables  # noqa: F401

target_metadata = SQLModel.metadata
engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
