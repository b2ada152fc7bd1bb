"""API schemas of pooled loans and claims: entry, filing, payout by party, review, decisions, recoveries.

Money is CNY as a decimal with at most two places (strings in responses);
every figure comes with the reason behind it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scoring.explain import Contributions, Reason
from scoring.fund_checks import EntryFacts
from scoring.funds import CapName, County, PartyRole
from scoring.types import Day, FieldError
from scoring.vocab import NplClass
from scoring.vocab.money import Money
from service.schemas.funds import Positive

_STRICT = ConfigDict(extra="forbid")
Text = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$")]
Ref = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_.:-]+$")]
Document = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]+$")]
ClaimStatus = Literal["pending", "info_requested", "approved", "rejected"]
MAX_EVIDENCE = 50


class PoolLoanCreate(BaseModel):
    """Register a loan into the pool: a booked loan (``loan_id``) or its facts."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "facts": {
                        "borrower_id": "E-GY-0001",
                        "amount_cny": 3000000,
                        "origination_date": "2026-01-15",
                        "tenor_months": 24,
                        "purpose": "rd",
                        "ip_share_of_collateral": 0.8,
                        "is_sme": True,
                        "years_registered": 6.5,
                    }
                }
            ]
        },
    )
    loan_id: Ref | None = Field(default=None, description="A loan booked with POST /v1/loans.")
    facts: EntryFacts | None = None
    entered_on: Day | None = Field(
        default=None,
        description="The pool entry (备案) date when it was not today: not after today, not before disbursement; "
        "a past date needs entry_evidence. Default: today.",
    )
    entry_evidence: list[Document] = Field(
        default_factory=list, max_length=MAX_EVIDENCE, description="Documents of a past entry (the filing record)."
    )
    migrated_from: Document | None = Field(
        default=None,
        description="The existing pool this entry migrates from; with evidence, a filing later than the entry lag "
        "is accepted and says so.",
    )
    county: County | None = Field(default=None, description="With loan_id: the borrower's registered county.")
    clean_credit_years: float | None = Field(
        default=None, ge=0, le=100, description="With loan_id: years since the last bad credit record."
    )
    pledge_registered: bool | None = Field(
        default=None,
        description="Not with loan_id: a booked loan's pledge registration is read from its registration record "
        "(POST /v1/loans/{id}/registrations). With facts, give facts.pledge_registered.",
    )
    appraised_value_cny: Money | None = Field(default=None, description="With loan_id: the appraisal.")

    @model_validator(mode="after")
    def _one_source(self) -> PoolLoanCreate:
        if (self.loan_id is None) == (self.facts is None):
            raise ValueError("give exactly one of loan_id or facts")
        if self.migrated_from is not None and self.entered_on is None:
            raise FieldError("migrated_from", "needs the entry date the earlier pool recorded (entered_on)")
        if self.county is not None and self.facts is not None:
            raise FieldError("county", "is given in facts.county when the loan is given by its facts")
        if self.pledge_registered is not None:
            raise FieldError(
                "pledge_registered",
                "is no longer taken: a booked loan's registration record decides "
                "(POST /v1/loans/{id}/registrations); a loan given by its facts says facts.pledge_registered",
            )
        return self


class CheckPublic(BaseModel):
    """One rule: pass or fail, and why."""

    rule: str
    passed: bool
    code: str
    reason: str


class PoolLoanPublic(BaseModel):
    """A pooled loan with the facts and checks at entry."""

    id: str
    fund_id: str
    bank_id: str
    loan_id: str | None
    borrower_id: str
    amount_cny: Decimal
    origination_date: date
    entered_on: date
    rule_version: int
    status: str
    outstanding_cny: Decimal = Field(description="Principal not yet repaid.")
    closed_on: date | None
    migrated_from: str | None
    entry_evidence: list[str]
    facts: EntryFacts
    checks: list[CheckPublic]
    created_at: datetime


class ClaimCreate(BaseModel):
    """A compensation claim on a pooled loan that defaulted."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pool_loan_id": "00000000-0000-0000-0000-000000000000",
                    "default_date": "2026-11-20",
                    "npl_class": "substandard",
                    "principal_outstanding_cny": 2400000,
                    "claimed_amount_cny": 960000,
                    "evidence": ["collection notice 2026-11-21", "civil complaint filed 2026-11-24"],
                }
            ]
        },
    )
    pool_loan_id: Ref
    default_date: Day
    npl_class: NplClass
    principal_outstanding_cny: Positive
    interest_outstanding_cny: Money = Decimal(0)
    claimed_amount_cny: Money = Field(description="What the bank asks the fund for.")
    evidence: list[Document] = Field(
        default_factory=list, max_length=MAX_EVIDENCE, description="Collection or litigation documents."
    )
    npl_classified_on: Day | None = Field(default=None, description="Classified non-performing (a filing trigger).")
    overdue_since: Day | None = Field(default=None, description="First day past due (a filing trigger).")
    court_accepted_on: Day | None = Field(default=None, description="The court accepted the suit (a trigger).")
    recognised_on: Day | None = Field(default=None, description="The loss was recognised (a filing trigger).")
    disposal_proceeds_cny: Money | None = Field(
        default=None, description="A fund settling on the net loss: what the disposal of the collateral brought."
    )


TRIGGER_FIELDS = ("npl_classified_on", "overdue_since", "court_accepted_on", "recognised_on")


class RepaymentCreate(BaseModel):
    """Principal repaid on a pooled loan; the last repayment closes it and releases the bank's line."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"amount_cny": "1000000.00", "repaid_on": "2026-06-30"}]}
    )
    amount_cny: Positive
    repaid_on: Day


class BaseStepPublic(BaseModel):
    """One step from the loss to the covered base."""

    step: str
    amount_cny: Decimal
    reason: str


class CapPublic(BaseModel):
    """One cap on a party's amount: room = limit − used."""

    cap: CapName
    limit_cny: Decimal
    used_cny: Decimal
    room_cny: Decimal
    before_cny: Decimal
    after_cny: Decimal
    binding: bool
    reason: str


class PartyPublic(BaseModel):
    """What one party pays (the bank: bears)."""

    name: str
    role: PartyRole
    share: Decimal
    share_amount_cny: Decimal
    caps: list[CapPublic]
    amount_cny: Decimal
    reason: str


class PayoutPublic(BaseModel):
    """The payout by party, every cap applied and shown; parties sum to the loss."""

    loss_cny: Decimal
    base_steps: list[BaseStepPublic]
    covered_base_cny: Decimal
    parties: list[PartyPublic]
    pool_payout_cny: Decimal
    bank_borne_cny: Decimal


class ReviewPublic(BaseModel):
    """The claim_review model's view: probability the claim is irregular, with its reasons."""

    model: str = "claim_review"
    version: str
    advisory: bool = Field(
        description="The model is below its confidence floors (too few reviewed claims, or too far from its oracle): "
        "the rule checks decide and the score is a hint to the reviewer."
    )
    advisory_reasons: list[str] = Field(description="Why the score is only advisory; empty when it is not.")
    probability: float
    contributions: Contributions
    reasons: list[Reason]


class ClaimPublic(BaseModel):
    """A claim: rule checks, payout, review score, status and money figures."""

    id: str
    fund_id: str
    bank_id: str
    pool_loan_id: str
    borrower_id: str
    idempotency_key: str
    status: ClaimStatus
    default_date: date
    filed_on: date
    rule_version: int
    eligible: bool
    checks: list[CheckPublic]
    payout: PayoutPublic = Field(description="The payout under the rules; the fund holds it only if eligible.")
    reserved_cny: Decimal = Field(description="Held for this claim until the decision.")
    paid_cny: Decimal
    recovered_cny: Decimal = Field(description="Recoveries the bank reported.")
    clawed_back_cny: Decimal = Field(description="The fund's part of the recoveries, paid back to it.")
    review: ReviewPublic
    decision_reason: str | None
    decided_at: datetime | None
    created_at: datetime


class DecisionCreate(BaseModel):
    """A fund manager's decision; reject and request_info need a reason."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "approve"},
                {"decision": "reject", "reason": "loan entered the pool after the default"},
            ]
        },
    )
    decision: Literal["approve", "reject", "request_info"]
    reason: Text | None = None

    @model_validator(mode="after")
    def _reason(self) -> DecisionCreate:
        if self.decision != "approve" and not (self.reason or "").strip():
            raise FieldError("reason", f"is required to {self.decision.replace('_', ' ')}")
        return self


class EvidenceCreate(BaseModel):
    """Documents a bank adds to a claim after the fund manager asked for more information."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"evidence": ["court acceptance notice 2025-10-20"], "note": "litigation filed"}]
        },
    )
    evidence: list[Document] = Field(min_length=1, max_length=MAX_EVIDENCE)
    note: Text | None = None


class RecoveryCreate(BaseModel):
    """Money the bank recovered on a paid claim (collection, disposal of the patents)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"amount_cny": "300000.00", "recovered_on": "2026-03-31"}]}
    )
    amount_cny: Positive
    recovered_on: Day


class RecoverySharePublic(BaseModel):
    """One party's part of a recovery, pro rata to what it paid."""

    name: str
    role: PartyRole
    paid_cny: Decimal
    amount_cny: Decimal
    cumulative_cny: Decimal


class RecoveryPublic(BaseModel):
    """A recovery and the claw-back it caused."""

    id: str
    claim_id: str
    amount_cny: Decimal
    recovered_on: date
    shares: list[RecoverySharePublic]
    clawed_back_cny: Decimal = Field(description="This fund's part, posted to its ledger.")
    created_at: datetime


class ClaimPage(BaseModel):
    """A page of claims, newest first."""

    total: int
    limit: int
    offset: int
    items: list[ClaimPublic]


class PoolLoanPage(BaseModel):
    """A page of pooled loans, newest first."""

    total: int
    limit: int
    offset: int
    items: list[PoolLoanPublic]
