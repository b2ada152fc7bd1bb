"""Alembic environment: the engine, or a connection of it, comes from the caller (service.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

# Importing the table modules registers their tables on SQLModel.metadata.
import service.db.book_tables
import service.db.fund_tables
import service.db.idempotency_tables
import service.db.pledge_tables
import service.db.regulator_tables
import service.db.tables
import service.db.watch_tables  # noqa: F401

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=connection.dialect.name == "sqlite"
    )
    with context.begin_transaction():
        context.run_migrations()


# A connection is given when the caller holds a lock on it (PostgreSQL's advisory lock).
given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    with context.config.attributes["engine"].begin() as connection:
        _run(connection)
