"""API schemas of the point-in-time book: reported repayments, banks' NPL ratios, balances and NPL ratios."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scoring.book import BookDim, PaymentKind
from scoring.types import Day
from scoring.vocab.money import Money

Period = str


class RepaymentCreate(BaseModel):
    """Principal of a loan repaid (or written off, 核销) on a day, reported by the lending bank."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount_cny": "500000.00", "paid_on": "2026-11-27", "kind": "repayment"}]},
    )
    amount_cny: Money = Field(description="Principal repaid or written off, CNY; at most the balance on paid_on.")
    paid_on: Day = Field(description="Not after today (Beijing), not before origination.")
    kind: PaymentKind = Field(default="repayment", description="repayment, or write_off of a loss (核销).")

    @field_validator("amount_cny")
    @classmethod
    def _positive(cls, v: Decimal) -> Decimal:
        if v <= 0:
            raise ValueError("must be more than 0")
        return v


class RepaymentPublic(BaseModel):
    """A stored repayment and the loan's balance after it."""

    id: int
    loan_id: str
    paid_on: date
    amount_cny: Decimal
    kind: str
    balance_cny: Decimal = Field(description="The loan's outstanding principal on paid_on after this repayment.")
    reported_at: datetime


class NplRatioCreate(BaseModel):
    """A bank's overall NPL ratio (all its loans) for a period that has ended."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"period": "2026Q3", "npl_ratio": 0.0142}]}
    )
    period: Period = Field(
        min_length=6, max_length=7, description="A quarter (2026Q3) or a month (2026-09) that has ended."
    )
    npl_ratio: float = Field(ge=0, le=1, description="NPL balance ÷ loan balance at the period's end (0.0142 = 1.42%).")


class NplRatioPublic(BaseModel):
    """A stored NPL-ratio report."""

    institution: str
    period: str
    period_end: date
    npl_ratio: float
    reported_at: datetime


class BookCell(BaseModel):
    """Balances of one group of loans on a day (CNY)."""

    keys: dict[str, str] = Field(description="Dimension → value; empty for the total.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Dimension → the value's Chinese label, when Accept-Language prefers zh."
    )
    loans: int = Field(description="Loans with an outstanding balance.")
    balance_cny: float
    npl_balance_cny: float
    npl_ratio: float | None = Field(description="NPL balance ÷ balance; None without a balance.")
    by_class_cny: dict[str, float] = Field(description="Balance by class; 'unreported' for loans with no report yet.")


class BookReport(BaseModel):
    """The book on a day: the total and one cell per group of up to two crossed dimensions."""

    as_of: date
    by: list[BookDim]
    total: BookCell
    cells: list[BookCell]


class BookSnapshot(BaseModel):
    """The book's total at one period end."""

    on: date
    total: BookCell


class ToleranceRow(BaseModel):
    """A bank's IP-pledge NPL ratio against its reported overall ratio, with the 3-point tolerance."""

    bank: str
    period: str
    ip_npl_ratio: float | None
    overall_npl_ratio: float | None
    gap: float | None = Field(description="IP-pledge − overall, in ratio units (0.01 = 1 percentage point).")
    within_tolerance: bool | None = Field(description="At most 3 points above: not penalised. None without both.")
