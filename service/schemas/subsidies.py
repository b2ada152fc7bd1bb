"""API schemas of subsidy programmes: versions, applications with their checks and amounts, statistics.

Money is CNY as a decimal with at most two places (strings in responses); every amount comes with the
reason of each step that led to it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from scoring.subsidies import Applicant, SubsidyFacts, SubsidyKind, SubsidyRules
from scoring.types import Day
from service.schemas.claims import CheckPublic, Text

ProgrammeCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="e.g. interest_half_lpr.")]
ApplicationStatus = Literal["pending", "paid", "rejected"]


class ProgrammeVersionCreate(BaseModel):
    """A new version of a subsidy programme, in force from ``effective_from``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "programme": "premium_30pct",
                    "effective_from": "2026-12-01",
                    "rules": {
                        "name": "30% of the guarantee-insurance premium, at most ¥50,000 per application",
                        "kind": "premium",
                        "share": 0.3,
                        "cap_per_application_cny": 50000,
                    },
                }
            ]
        },
    )
    programme: ProgrammeCode
    effective_from: Day = Field(
        description="Today (Beijing) or later; earlier only by the regulator, with a reason, and only if no "
        "application to the programme dated on or after it was filed."
    )
    rules: SubsidyRules
    reason: str | None = Field(default=None, min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$")


class ProgrammeVersionPublic(BaseModel):
    """One stored version of a subsidy programme."""

    fund_id: str
    programme: str
    version: int
    effective_from: date
    rules: SubsidyRules
    created_at: datetime
    created_by: str


class ApplicationCreate(BaseModel):
    """An application to a programme, filed by a bank (for itself or an enterprise) or by the fund's office."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "programme": "interest_half_lpr",
                    "facts": {
                        "enterprise_id": "E-GY-0001",
                        "applicant": "bank",
                        "is_sme": True,
                        "pledge_registered": True,
                        "principal_cny": "2345678.91",
                        "annual_rate": "0.0435",
                        "period_start": "2025-01-01",
                        "period_end": "2025-04-03",
                    },
                }
            ]
        },
    )
    programme: ProgrammeCode
    facts: SubsidyFacts


class StepPublic(BaseModel):
    """One step from the cost to the subsidy."""

    step: str
    amount_cny: Decimal
    reason: str


class ApplicationPublic(BaseModel):
    """An application: every rule with its reason, the amount step by step, the fund's decision."""

    id: str
    fund_id: str
    programme: str
    version: int
    kind: SubsidyKind
    filed_by: str
    applicant: Applicant
    enterprise_id: str
    applied_on: date
    year: int
    eligible: bool
    status: ApplicationStatus
    checks: list[CheckPublic]
    steps: list[StepPublic]
    amount_cny: Decimal = Field(description="What the programme pays if the fund approves (0 if ineligible).")
    facts: SubsidyFacts
    decision_reason: str | None
    decided_at: datetime | None
    created_at: datetime


class ApplicationDecision(BaseModel):
    """The fund manager pays an eligible application or rejects it (with a reason)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"decision": "pay"}, {"decision": "reject", "reason": "duplicate"}]},
    )
    decision: Literal["pay", "reject"]
    reason: Text | None = None


class ProgrammeStatistics(BaseModel):
    """One programme's figures."""

    programme: str
    kind: SubsidyKind
    applications: int
    eligible: int
    paid: int
    rejected: int
    pending: int
    enterprises_paid: int
    paid_cny: Decimal
    pending_cny: Decimal = Field(description="Eligible amounts awaiting a decision.")
    paid_by_region_cny: dict[str, Decimal] = Field(description="Region of the enterprise ('not_reported' if none).")


class SubsidyStatistics(BaseModel):
    """A fund's subsidy figures for the regulator, with the subsidy account from the ledger."""

    fund_id: str
    programmes: list[ProgrammeStatistics]
    subsidy_contributions_cny: Decimal
    subsidies_paid_cny: Decimal
    subsidy_balance_cny: Decimal
    reconciled: bool = Field(description="The ledger's paid subsidies equal the paid applications, and it balances.")
