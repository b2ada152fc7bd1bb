"""The tables of the command line's key path, as core SQLAlchemy: ``api_keys``, ``audit_log``, ``audit_head``.

``iprisk keys create`` must answer in well under a second.  The SQLModel classes
(:mod:`service.db.tables`) cost most of that to build, with every other table that
Alembic collects, so the key path writes through these ``Table`` objects instead.
They describe the same columns with the same types (a test compares them with
the SQLModel tables column by column), on a metadata of their own: nothing here
is created or migrated from them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, String, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from service.clock import system_now


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC and read back UTC-aware: what SQLModel's ``datetime`` columns do.

    The audit hash covers ``at`` as read back, so an entry written here must read back
    exactly as one written through SQLModel.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """UTC before it is stored; a naive value is refused (its zone would be a guess)."""
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("datetimes stored by the key path must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """UTC-aware (SQLite stores UTC without an offset)."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)


metadata = MetaData()

API_KEYS = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("role", String(32), nullable=False),
    Column("institution", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

AUDIT_LOG = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("key_id", Integer, nullable=True),
    Column("role", String(32), nullable=False),
    Column("institution", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("resource_id", String(64), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=True),
    Column("hash", String(64), nullable=True),
)

AUDIT_HEAD = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)


def audit_row(
    *,
    key_id: int | None,
    role: str,
    institution: str,
    action: str,
    resource_type: str,
    resource_id: str,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of a new audit entry, stamped now; ``seq`` and the hashes are the sealer's.

    The one place an entry's shape is defined: :func:`service.db.audit.append` and the
    key path both insert what this returns.
    """
    return {
        "at": system_now(),
        "key_id": key_id,
        "role": role,
        "institution": institution,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "detail": detail or {},
    }
