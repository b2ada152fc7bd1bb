"""API schemas of booked loans."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from scoring.pledge_life import PledgeState
from scoring.types import Day
from service.schemas.pledges import PledgeEventPublic, RegistrationPublic


class LoanCreate(BaseModel):
    """Book a loan from an assessment: its patents become pledged."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"assessment_id": "00000000-0000-0000-0000-000000000000", "origination_date": "2026-11-27"}]
        },
    )
    assessment_id: str = Field(max_length=36)
    origination_date: Day | None = Field(default=None, description="Default: today (Beijing); not after today.")


class LoanPublic(BaseModel):
    """A booked loan."""

    id: str
    assessment_id: str
    borrower_id: str
    amount_cny: float
    tenor_months: int
    annual_rate: float | None = Field(description="Nominal annual rate the bank asked, if stated.")
    origination_date: date
    status: str = Field(description="Credit status: active, defaulted or closed.")
    pledge_state: PledgeState = Field(description="Where the pledge is in its life (docs/pledge-life.md).")
    patent_ids: list[str]
    registrations: list[RegistrationPublic] = Field(description="The pledge's registrations with CNIPA.")
    pledge_history: list[PledgeEventPublic] = Field(description="Every transition and registration step, oldest first.")
    created_at: datetime
    closed_at: datetime | None
