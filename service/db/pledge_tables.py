"""Tables of the pledge life (docs/pledge-life.md): registrations of pledged patents and the history of both.

``pledge_registrations`` holds the current state of each (loan, patent)
registration with CNIPA; ``pledge_events`` is append-only: every transition of
a loan's pledge state and every step of a registration, with its business
date, who made it and why.  Nothing updates or deletes an event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db.tables import utcnow


class PledgeRegistration(SQLModel, table=True):
    """The registration (质押登记) of one pledged patent of one loan, as it stands now."""

    __tablename__ = "pledge_registrations"
    __table_args__ = (UniqueConstraint("loan_id", "patent_id"),)
    id: int | None = Field(default=None, primary_key=True)
    loan_id: str = Field(foreign_key="loans.id", max_length=36, index=True)
    patent_id: str = Field(max_length=64)
    status: str = Field(max_length=16, description="applied, registered, changed or released.")
    registration_number: str | None = Field(default=None, max_length=64)
    applied_on: date | None = None
    registration_date: date | None = Field(default=None, description="The day the pledge right was created.")
    term_start: date
    term_end: date
    changed_on: date | None = None
    released_on: date | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class PledgeEvent(SQLModel, table=True):
    """One step in a pledge's life: a loan's state transition (``patent_id`` null) or a registration's step."""

    __tablename__ = "pledge_events"
    __table_args__ = (Index("ix_pledge_events_loan", "loan_id", "id"), {"sqlite_autoincrement": True})
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    )
    loan_id: str = Field(foreign_key="loans.id", max_length=36)
    patent_id: str | None = Field(default=None, max_length=64)
    event: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    occurred_on: date = Field(description="The business date of the fact (default, disposal, registration, release).")
    reason: str | None = Field(default=None, max_length=500)
    price_fen: int | None = Field(default=None, sa_type=BigInteger, description="Disposal: the price realised.")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    institution: str = Field(max_length=64)
    key_id: int | None = None
    at: datetime = Field(default_factory=utcnow)
