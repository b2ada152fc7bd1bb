"""SQLModel tables of risk-compensation funds.

Money is integer fen (1 CNY = 100 fen) in BIGINT columns; shares and rules
live in the JSON of a rule version as exact decimal strings.  The ledger is
append-only double entry: nothing updates or deletes its lines, and every
transaction's debits equal its credits.  Any transaction that changes a
fund's money first bumps ``funds.lock_version``, which takes SQLite's write
lock or a PostgreSQL row lock, so balance checks and the writes that follow
them never interleave with another's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db.tables import utcnow


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _fen(default: int = 0) -> Any:
    return Field(default=default, sa_type=BigInteger)


class Fund(SQLModel, table=True):
    """A risk-compensation fund; its id is the institution of its managers' keys."""

    __tablename__ = "funds"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    region: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=64)
    lock_version: int = 0


class FundRuleVersion(SQLModel, table=True):
    """One version of a fund's rules, in force from ``effective_from``."""

    __tablename__ = "fund_rule_versions"
    __table_args__ = (UniqueConstraint("fund_id", "version"), UniqueConstraint("fund_id", "effective_from"))
    id: int | None = Field(default=None, primary_key=True)
    fund_id: str = Field(foreign_key="funds.id", max_length=64, index=True)
    version: int
    effective_from: date
    rules: dict[str, Any] = _json()
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=64)


class FundBank(SQLModel, table=True):
    """A bank's cooperation agreement with a fund: its pool share and committed credit line."""

    __tablename__ = "fund_banks"
    __table_args__ = (UniqueConstraint("fund_id", "bank_id"),)
    id: int | None = Field(default=None, primary_key=True)
    fund_id: str = Field(foreign_key="funds.id", max_length=64, index=True)
    bank_id: str = Field(max_length=64)
    pool_share_fen: int = _fen()
    committed_line_fen: int = _fen()
    joined_on: date
    updated_at: datetime = Field(default_factory=utcnow)


class PoolLoan(SQLModel, table=True):
    """A loan a bank registered into a fund's pool, with the facts and checks at entry."""

    __tablename__ = "fund_loans"
    __table_args__ = (Index("ix_fund_loans_fund_bank", "fund_id", "bank_id"), UniqueConstraint("fund_id", "loan_id"))
    id: str = Field(primary_key=True, max_length=36)
    fund_id: str = Field(foreign_key="funds.id", max_length=64)
    bank_id: str = Field(max_length=64)
    loan_id: str | None = Field(default=None, max_length=36, description="A loan booked via /v1/loans.")
    borrower_id: str = Field(max_length=64)
    amount_fen: int = _fen()
    origination_date: date
    entered_on: date
    rule_version: int
    status: str = Field(default="active", max_length=16, description="active, repaid.")
    facts: dict[str, Any] = _json()
    checks: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    repaid_fen: int = _fen()
    closed_on: date | None = None
    migrated_from: str | None = Field(default=None, max_length=500)
    entry_evidence: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Claim(SQLModel, table=True):
    """A bank's compensation claim: facts, rule checks, payout, review score, decision, money figures."""

    __tablename__ = "fund_claims"
    __table_args__ = (
        UniqueConstraint("fund_id", "bank_id", "idempotency_key"),
        Index("ix_fund_claims_fund_status", "fund_id", "status"),
        Index("ix_fund_claims_fund_year", "fund_id", "year"),
    )
    id: str = Field(primary_key=True, max_length=36)
    fund_id: str = Field(foreign_key="funds.id", max_length=64)
    bank_id: str = Field(max_length=64)
    pool_loan_id: str = Field(foreign_key="fund_loans.id", max_length=36, index=True)
    borrower_id: str = Field(max_length=64)
    idempotency_key: str = Field(max_length=128)
    request_hash: str = Field(max_length=64)
    default_date: date
    filed_on: date
    year: int = Field(description="Calendar year of filing: the year of the per-year caps.")
    rule_version: int
    eligible: bool
    status: str = Field(max_length=16)
    loss_fen: int = _fen()
    pool_amount_fen: int = _fen()
    paid_fen: int = _fen()
    recovered_fen: int = _fen()
    clawed_back_fen: int = _fen()
    score: float | None = None
    request: dict[str, Any] = _json()
    evaluation: dict[str, Any] = _json()
    decision_reason: str | None = Field(default=None, max_length=2000)
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Recovery(SQLModel, table=True):
    """A recovery a bank reported on a paid claim, and each party's part of it."""

    __tablename__ = "fund_recoveries"
    id: str = Field(primary_key=True, max_length=36)
    fund_id: str = Field(foreign_key="funds.id", max_length=64, index=True)
    claim_id: str = Field(foreign_key="fund_claims.id", max_length=36, index=True)
    amount_fen: int = _fen()
    recovered_on: date
    shares: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class LedgerLine(SQLModel, table=True):
    """One line of a double-entry transaction; lines are only ever inserted."""

    __tablename__ = "fund_ledger"
    __table_args__ = (Index("ix_fund_ledger_fund_id_id", "fund_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    fund_id: str = Field(foreign_key="funds.id", max_length=64)
    txn_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=16)
    account: str = Field(max_length=32)
    debit_fen: int = _fen()
    credit_fen: int = _fen()
    claim_id: str | None = Field(default=None, max_length=36, index=True)
    memo: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Correction(SQLModel, table=True):
    """A reversal of a deposit: asked by one fund-manager key, approved by another; never an edit of the ledger."""

    __tablename__ = "fund_corrections"
    id: str = Field(primary_key=True, max_length=36)
    fund_id: str = Field(foreign_key="funds.id", max_length=64, index=True)
    kind: str = Field(max_length=32)
    txn_id: str = Field(max_length=36, unique=True, description="The transaction reversed: at most one correction.")
    amount_fen: int = _fen()
    reason: str = Field(max_length=500)
    status: str = Field(max_length=16)
    requested_by_key: int
    approved_by_key: int | None = None
    reversal_txn_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class SubsidyVersion(SQLModel, table=True):
    """One version of a fund's subsidy programme, in force from ``effective_from``."""

    __tablename__ = "fund_subsidy_versions"
    __table_args__ = (
        UniqueConstraint("fund_id", "programme", "version"),
        UniqueConstraint("fund_id", "programme", "effective_from"),
    )
    id: int | None = Field(default=None, primary_key=True)
    fund_id: str = Field(foreign_key="funds.id", max_length=64, index=True)
    programme: str = Field(max_length=64)
    version: int
    effective_from: date
    rules: dict[str, Any] = _json()
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=64)


class SubsidyApplication(SQLModel, table=True):
    """An application for a subsidy: its facts, checks, amount step by step, and the fund's decision."""

    __tablename__ = "fund_subsidy_applications"
    __table_args__ = (Index("ix_fund_subsidy_applications_fund_enterprise", "fund_id", "enterprise_id", "year"),)
    id: str = Field(primary_key=True, max_length=36)
    fund_id: str = Field(foreign_key="funds.id", max_length=64)
    programme: str = Field(max_length=64)
    version: int
    kind: str = Field(max_length=16)
    filed_by: str = Field(max_length=64, description="The institution whose key filed it.")
    applicant: str = Field(max_length=16, description="bank or enterprise: who is paid.")
    enterprise_id: str = Field(max_length=64)
    region: str | None = Field(default=None, max_length=32)
    year: int = Field(description="Calendar year of the reference day: the year of the per-enterprise cap.")
    applied_on: date
    eligible: bool
    status: str = Field(max_length=16)
    amount_fen: int = _fen()
    facts: dict[str, Any] = _json()
    checks: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    steps: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    decision_reason: str | None = Field(default=None, max_length=2000)
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
