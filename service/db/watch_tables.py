"""Tables of the loan's life after booking (docs/after-booking.md): legal events, current facts, alerts, disposal.

``patent_events`` is append-only (one row per client event id and institution);
``patent_facts`` holds each pledged patent's current facts, replayed from its
seed (the facts of the assessment behind its loan) and its events;
``watch_alerts`` the collateral watch's alerts and their acknowledgement;
``loan_marks`` each loan's latest mark-to-model; ``disposal_cases`` and the
append-only ``disposal_steps`` the disposal of a defaulted loan's patents.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db.tables import utcnow


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _big_id() -> Any:
    return Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    )


class PatentEventRow(SQLModel, table=True):
    """One legal-status event of a patent, as its sender stated it (never updated or deleted)."""

    __tablename__ = "patent_events"
    __table_args__ = (
        UniqueConstraint("institution", "event_id"),
        Index("ix_patent_events_patent", "patent_id", "occurred_on"),
        {"sqlite_autoincrement": True},
    )
    id: int | None = _big_id()
    event_id: str = Field(max_length=64, description="The sender's own id: the same id is the same event.")
    patent_id: str = Field(max_length=64)
    type: str = Field(max_length=32)
    occurred_on: date
    body: dict[str, Any] = _json()
    institution: str = Field(max_length=64)
    role: str = Field(max_length=32)
    key_id: int | None = None
    at: datetime = Field(default_factory=utcnow)


class PatentFacts(SQLModel, table=True):
    """A pledged patent's current facts (``scoring.legal_events.LegalFacts``), replayed after every event."""

    __tablename__ = "patent_facts"
    patent_id: str = Field(primary_key=True, max_length=64)
    loan_id: str = Field(max_length=36, description="The loan whose assessment gave the seed facts.")
    seed_as_of: date = Field(description="Date of those facts; events dated after it change them.")
    facts: dict[str, Any] = _json()
    updated_at: datetime = Field(default_factory=utcnow)


class WatchAlert(SQLModel, table=True):
    """One alert of the collateral watch: open until acknowledged (with a reason) or no longer raised."""

    __tablename__ = "watch_alerts"
    __table_args__ = (
        Index("ix_watch_alerts_inst_status", "institution", "status"),
        Index("ix_watch_alerts_loan", "loan_id", "type"),
    )
    id: str = Field(primary_key=True, max_length=36)
    loan_id: str = Field(foreign_key="loans.id", max_length=36)
    institution: str = Field(max_length=64, description="The lending bank.")
    patent_id: str | None = Field(default=None, max_length=64)
    type: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    text_zh: str = Field(max_length=500)
    text_en: str = Field(max_length=500)
    detail: dict[str, Any] = _json()
    first_seen_on: date
    last_seen_on: date
    status: str = Field(default="open", max_length=16, description="open, acknowledged or resolved.")
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=64)
    ack_reason: str | None = Field(default=None, max_length=500)
    resolved_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)


class LoanMark(SQLModel, table=True):
    """A loan's latest mark-to-model of its collateral (the book revaluation writes it)."""

    __tablename__ = "loan_marks"
    loan_id: str = Field(primary_key=True, foreign_key="loans.id", max_length=36)
    as_of: date
    pledge_value_cny: float
    total_p50_cny: float
    max_loan_cny: float
    ltv: float | None = None
    model_version: str = Field(max_length=64)
    marked_at: datetime = Field(default_factory=utcnow)


class DisposalCase(SQLModel, table=True):
    """The disposal of a defaulted loan's pledged patents, as it stands now."""

    __tablename__ = "disposal_cases"
    id: str = Field(primary_key=True, max_length=36)
    loan_id: str = Field(foreign_key="loans.id", max_length=36, unique=True)
    institution: str = Field(max_length=64, description="The lending bank.")
    opened_by: str = Field(max_length=64, description="Institution that opened the case (bank or fund manager).")
    channel: str = Field(max_length=32)
    status: str = Field(max_length=16, description="open, listed, sold, licensed or closed.")
    opened_on: date
    ead_fen: int = Field(
        sa_type=BigInteger, description="Exposure at default: the principal outstanding at the default, fen."
    )
    suggested_reserve_fen: int = Field(sa_type=BigInteger)
    reserve: dict[str, Any] = _json()
    price_fen: int | None = Field(default=None, sa_type=BigInteger, description="The current asking price.")
    rounds: int = 0
    listed_on: date | None = None
    sold_on: date | None = None
    sale_price_fen: int | None = Field(default=None, sa_type=BigInteger)
    costs_fen: int = Field(default=0, sa_type=BigInteger)
    proceeds_fen: int | None = Field(default=None, sa_type=BigInteger)
    closed_on: date | None = None
    fund_id: str | None = Field(default=None, max_length=36)
    claim_id: str | None = Field(default=None, max_length=36)
    recovery_fen: int | None = Field(default=None, sa_type=BigInteger)
    realised_lgd: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class DisposalStep(SQLModel, table=True):
    """One step of a disposal case, with its business date and actor (never updated or deleted)."""

    __tablename__ = "disposal_steps"
    __table_args__ = (Index("ix_disposal_steps_case", "case_id", "id"), {"sqlite_autoincrement": True})
    id: int | None = _big_id()
    case_id: str = Field(foreign_key="disposal_cases.id", max_length=36)
    step: str = Field(max_length=32)
    on: date
    price_fen: int | None = Field(default=None, sa_type=BigInteger)
    amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    detail: dict[str, Any] = _json()
    institution: str = Field(max_length=64)
    role: str = Field(max_length=32)
    key_id: int | None = None
    at: datetime = Field(default_factory=utcnow)
