"""Tables behind the regulator view: reported loan outcomes and scoring input snapshots."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from service.db.tables import utcnow


class LoanOutcome(SQLModel, table=True):
    """What happened to a booked loan, as its bank reported it (append-only; the latest counts)."""

    __tablename__ = "loan_outcomes"
    id: int | None = Field(default=None, primary_key=True)
    loan_id: str = Field(foreign_key="loans.id", max_length=36, index=True)
    institution: str = Field(max_length=64, index=True)
    key_id: int
    reported_at: datetime = Field(default_factory=utcnow)
    as_of: date
    status: str = Field(max_length=16)
    days_past_due: int
    npl_class: str = Field(max_length=16)
    default_date: date | None = None


class FeatureSnapshot(SQLModel, table=True):
    """The exact model inputs and score of one scored row, for drift monitoring."""

    __tablename__ = "feature_snapshots"
    __table_args__ = (Index("ix_snapshots_model_created", "model", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    model: str = Field(max_length=64)
    version: str = Field(max_length=16)
    institution: str = Field(max_length=64)
    result_type: str = Field(max_length=32)
    result_id: str = Field(max_length=36)
    x: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    score: float
