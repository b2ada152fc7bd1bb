"""Tables of the point-in-time book and the IP-transaction registry (issue 14, docs/regulator.md).

All append-only: a correction is a new row, and what the statistics read is dated by the facts
(``paid_on``, ``period``, ``occurred_on``), not by when they were written.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from service.db.tables import utcnow


def _fen(nullable: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_column=Column(BigInteger(), nullable=nullable))


class LoanRepayment(SQLModel, table=True):
    """Principal of a booked loan its bank reported repaid, or wrote off, on a day (fen)."""

    __tablename__ = "loan_repayments"
    __table_args__ = (Index("ix_loan_repayments_loan", "loan_id", "paid_on"),)
    id: int | None = Field(default=None, primary_key=True)
    loan_id: str = Field(foreign_key="loans.id", max_length=36)
    institution: str = Field(max_length=64)
    key_id: int
    paid_on: date
    amount_fen: int = _fen()
    kind: str = Field(max_length=16, description="repayment or write_off")
    reported_at: datetime = Field(default_factory=utcnow)


class BankNplReport(SQLModel, table=True):
    """A bank's overall NPL ratio for a period, as it reported it (the latest report of a period counts)."""

    __tablename__ = "bank_npl_reports"
    __table_args__ = (Index("ix_bank_npl_reports_inst_period", "institution", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    institution: str = Field(max_length=64)
    key_id: int
    period: str = Field(max_length=7)
    period_end: date
    npl_ratio: float
    reported_at: datetime = Field(default_factory=utcnow)


class IpTransaction(SQLModel, table=True):
    """One registered IP transaction: transfer, licence, pledge registration or release, sale, contribution."""

    __tablename__ = "ip_transactions"
    __table_args__ = (Index("ix_ip_transactions_occurred", "occurred_on"),)
    id: str = Field(primary_key=True, max_length=36)
    institution: str = Field(max_length=64, index=True)
    key_id: int
    role: str = Field(max_length=32)
    type: str = Field(max_length=32)
    patent_id: str = Field(max_length=64, index=True)
    patent_type: str | None = Field(default=None, max_length=16)
    occurred_on: date
    owner_region: str | None = Field(default=None, max_length=32, description="None: outside the province.")
    owner_industry: str = Field(max_length=32)
    counterparty_region: str | None = Field(default=None, max_length=32)
    counterparty_industry: str = Field(max_length=32)
    price_fen: int | None = _fen(nullable=True)
    upfront_fen: int | None = _fen(nullable=True)
    royalty_rate: float | None = None
    term_months: int | None = None
    loan_id: str | None = Field(default=None, max_length=36)
    registered_at: datetime = Field(default_factory=utcnow)


class TechnologyTurnover(SQLModel, table=True):
    """Technology-contract turnover (技术合同成交额) of a period, fed by the data feed (the latest counts)."""

    __tablename__ = "technology_turnover"
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7, index=True)
    amount_fen: int = _fen()
    institution: str = Field(max_length=64)
    key_id: int
    reported_at: datetime = Field(default_factory=utcnow)
