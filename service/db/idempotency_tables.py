"""The stored answers of idempotent requests (see :mod:`service.usecases.idempotency`).

One row per (institution, key): the unique constraint is what decides a race
between two requests carrying the same key, on one replica or several.  The
row is written in the request's own transaction, so it commits together with
the effect it records, or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db.tables import utcnow


class IdempotencyRecord(SQLModel, table=True):
    """The answer given to the first request with an institution's ``Idempotency-Key``."""

    __tablename__ = "idempotency_record"
    __table_args__ = (
        UniqueConstraint("institution", "key", name="uq_idempotency_record_institution_key"),
        Index("ix_idempotency_record_created_at", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    institution: str = Field(max_length=64)
    key: str = Field(max_length=128)
    method: str = Field(max_length=8)
    route: str = Field(max_length=200, description="The route template, e.g. /v1/funds/{fund_id}/deposits.")
    request_sha256: str = Field(max_length=64)
    status_code: int = Field(default=0, description="0 until the request's answer is stored (same transaction).")
    response: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
