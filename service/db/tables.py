"""SQLModel tables of the service.

Every scoring result keeps its full input, output and model versions; the
audit log is append-only and hash-chained (see :mod:`service.db.audit`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.clock import system_now


def utcnow() -> datetime:
    """When a row is written (column defaults, bookkeeping): the system clock, UTC-aware.

    What a request stamps as a business fact (created_at of a result, a decision, a closing) comes
    from the request's clock instead (``service.deps.NowDep``).
    """
    return system_now()


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ApiKey(SQLModel, table=True):
    """An API key: only its sha256 is stored, with role and institution."""

    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(index=True, unique=True, max_length=64)
    prefix: str = Field(max_length=16)
    role: str = Field(max_length=32)
    institution: str = Field(max_length=64, index=True)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Valuation(SQLModel, table=True):
    """A stored valuation: request, response, model versions."""

    __tablename__ = "valuations"
    __table_args__ = (Index("ix_valuations_inst_created", "institution", "created_at"),)
    id: str = Field(primary_key=True, max_length=36)
    institution: str = Field(max_length=64)
    key_id: int
    created_at: datetime = Field(default_factory=utcnow)
    as_of: date
    n_patents: int
    total_p50: float
    request: dict[str, Any] = _json()
    response: dict[str, Any] = _json()
    model_versions: dict[str, Any] = _json()


class Assessment(SQLModel, table=True):
    """A stored loan assessment."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_inst_created", "institution", "created_at"),)
    id: str = Field(primary_key=True, max_length=36)
    institution: str = Field(max_length=64)
    key_id: int
    created_at: datetime = Field(default_factory=utcnow)
    as_of: date
    borrower_id: str = Field(max_length=64)
    amount_cny: float
    pd: float
    grade: str = Field(max_length=8)
    decision: str = Field(max_length=16)
    expected_loss: float
    valuation_id: str | None = Field(default=None, max_length=36)
    request: dict[str, Any] = _json()
    response: dict[str, Any] = _json()
    model_versions: dict[str, Any] = _json()


class InsuranceQuote(SQLModel, table=True):
    """A stored insurance quote."""

    __tablename__ = "insurance_quotes"
    id: str = Field(primary_key=True, max_length=36)
    institution: str = Field(max_length=64, index=True)
    key_id: int
    created_at: datetime = Field(default_factory=utcnow)
    product: str = Field(max_length=32)
    assessment_id: str | None = Field(default=None, max_length=36)
    premium: float
    request: dict[str, Any] = _json()
    response: dict[str, Any] = _json()


class Loan(SQLModel, table=True):
    """A loan a bank booked from an assessment; its patents stay pledged until its pledge state releases them."""

    __tablename__ = "loans"
    __table_args__ = (Index("ix_loans_inst_created", "institution", "created_at"),)
    id: str = Field(primary_key=True, max_length=36)
    institution: str = Field(max_length=64)
    assessment_id: str = Field(max_length=36, index=True)
    borrower_id: str = Field(max_length=64)
    amount_cny: float
    tenor_months: int
    annual_rate: float | None = Field(default=None, description="Nominal annual rate from the assessment, if stated.")
    origination_date: date
    status: str = Field(default="active", max_length=16)
    pledge_state: str = Field(
        default="booked",
        max_length=16,
        sa_column_kwargs={"server_default": "booked"},
        description="scoring.pledge_life.PledgeState; written only by service.usecases.pledge_life.",
    )
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    # Facts at origination, copied from the assessment for portfolio statistics.
    region: str | None = Field(default=None, max_length=32)
    industry: str | None = Field(default=None, max_length=32)
    patent_type: str | None = Field(default=None, max_length=16, description="Type carrying most of the P50.")
    collateral_p50: float | None = None
    ltv: float | None = None
    pd: float | None = None
    grade: str | None = Field(default=None, max_length=8)
    expected_loss: float | None = None


class LoanPatent(SQLModel, table=True):
    """A patent pledged to a booked loan; ``active`` while the loan is (one active pledge per patent)."""

    __tablename__ = "loan_patents"
    __table_args__ = (
        UniqueConstraint("loan_id", "patent_id"),
        # One active pledge per patent, whichever replica books it (service/usecases/pledges.py).
        Index(
            "uq_loan_patents_active_patent",
            "patent_id",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    loan_id: str = Field(foreign_key="loans.id", max_length=36, index=True)
    patent_id: str = Field(max_length=64, index=True)
    active: bool = Field(default=True, index=True)


class AuditHead(SQLModel, table=True):
    """Single row: the sealer's cursor, i.e. the chain's length and last hash.

    Only the sealer (one at a time, see :func:`service.db.audit.seal`) updates it;
    request transactions never touch it, so they never wait for each other here.
    """

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)


def _big_id() -> Any:
    # BIGSERIAL on PostgreSQL; INTEGER PRIMARY KEY AUTOINCREMENT on SQLite (ids never reused).
    return Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    )


class AuditEntry(SQLModel, table=True):
    """One append-only audit record.

    A request inserts it with a database-generated ``id`` and no chain fields;
    the sealer later gives it its chain position ``seq`` and ``prev_hash``/``hash``
    (sha256 over the previous hash and the content). See docs/audit.md.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_unsealed", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")),
        {"sqlite_autoincrement": True},
    )
    id: int | None = _big_id()
    seq: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    at: datetime = Field(default_factory=utcnow)
    key_id: int | None = None
    role: str = Field(max_length=32)
    institution: str = Field(max_length=64, index=True)
    action: str = Field(max_length=64)
    resource_type: str = Field(max_length=64)
    resource_id: str = Field(max_length=64)
    detail: dict[str, Any] = _json()
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
