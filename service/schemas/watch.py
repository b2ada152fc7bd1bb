"""API types of the collateral watch and its alerts (docs/after-booking.md)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from scoring.legal_events import RegistrationChange
from scoring.vocab import LegalStatus, PatentType
from scoring.watch import AlertType, Severity
from service.schemas.pledges import Reason


class PatentWatch(BaseModel):
    """One pledged patent on the watch's date: legal status, mark-to-model, life and fees."""

    patent_id: str
    patent_type: PatentType
    legal_status: LegalStatus
    owner_id: str | None
    value_basis: str = Field(description="pledgeable, not_alive or not_registrable (what the pledge counts).")
    p10: float = Field(description="Model estimate, CNY (champion valuation model).")
    p50: float
    p90: float
    pledge_value_cny: float = Field(description="What the pledge counts: the P50 if pledgeable, else 0.")
    ltv_cap: float
    expiry: date
    remaining_life_years: float
    expires_before_maturity: bool
    fee_due_date: date | None
    fee_due_year: int | None
    fee_grace_end: date | None = Field(description="Last day to pay the due fee with the surcharge.")
    open_invalidations: list[str]
    open_litigation: list[str]
    preservation_orders: list[str]
    open_licence_royalty: float | None
    pledge_registration: RegistrationChange | None
    pledge_term_end: date | None
    last_event_on: date | None


class AlertView(BaseModel):
    """An alert as the watch raises it on its date."""

    type: AlertType
    severity: Severity
    patent_id: str | None
    text: str = Field(description="In the caller's language (Accept-Language).")
    text_zh: str
    text_en: str
    detail: dict[str, float | int | str | None]


class LoanWatch(BaseModel):
    """A loan's collateral on a date: each pledged patent, the LTV against the cap, and the alerts."""

    loan_id: str
    as_of: date
    status: str
    pledge_state: str
    principal_cny: float = Field(description="The principal booked, CNY.")
    amount_cny: float = Field(
        description="Principal outstanding on as_of, CNY: the schedule, less the repayments and write-offs "
        "reported up to that day (scoring/book.py); the LTV and the repayment or top-up are measured on it."
    )
    maturity: date
    pledge_value_cny: float
    booked_pledge_value_cny: float | None = Field(description="The pledge value the assessment behind the loan gave.")
    value_change_share: float | None = Field(description="Pledge value now / at booking − 1.")
    max_loan_cny: float = Field(description="Σ pledge value × LTV cap of each patent's type.")
    ltv: float | None = Field(description="Amount / pledge value; None when nothing is counted.")
    ltv_cap: float = Field(description="The package's value-weighted cap.")
    repay_cny: float = Field(description="What to repay to be back within the cap (0 when within).")
    top_up_cny: float = Field(description="Or the value of collateral to add, at the package's cap.")
    model_versions: dict[str, str]
    patents: list[PatentWatch]
    alerts: list[AlertView]


class AlertPublic(BaseModel):
    """A stored alert of the watch."""

    id: str
    loan_id: str
    institution: str
    patent_id: str | None
    type: AlertType
    severity: Severity
    text: str
    text_zh: str
    text_en: str
    detail: dict[str, float | int | str | None]
    status: str = Field(description="open, acknowledged or resolved (no longer raised).")
    first_seen_on: date
    last_seen_on: date
    resolved_on: date | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_reason: str | None


class AlertPage(BaseModel):
    """A page of alerts, newest first."""

    total: int
    items: list[AlertPublic]


class AlertAck(BaseModel):
    """Acknowledge an alert: the reason is required."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "borrower repays CNY 200,000 on 2026-12-10; agreed by phone"}]},
    )
    reason: Reason


class RevaluationSummary(BaseModel):
    """What a book revaluation did."""

    as_of: date
    loans: int
    patents: int
    alerts_open: int
    seconds: float
    model_version: str
