"""API types of disposal cases (docs/after-booking.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from scoring.disposal import CaseStatus, ReserveReason, StepKind
from scoring.types import Day, FieldError
from scoring.vocab import DisposalChannel
from scoring.vocab.money import Money

Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]+$")
]
_PRICED: dict[str, str] = {"sold": "price_cny", "licensed": "price_cny", "cost": "amount_cny"}


class DisposalOpen(BaseModel):
    """Open the disposal of a defaulted loan's pledged patents."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"channel": "judicial_auction", "on": "2026-11-02"}]},
    )
    channel: DisposalChannel
    on: Day = Field(description="The day the case opens (not after today, Beijing).")
    note: Note | None = None


class DisposalStepCreate(BaseModel):
    """One step of a case: list, a failed round (流拍), sold, licensed, a cost, or close."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"step": "list", "on": "2026-11-05"},
                {"step": "round_failed", "on": "2026-11-20"},
                {"step": "sold", "on": "2026-11-25", "price_cny": "1500000.00", "note": "winning bid"},
                {"step": "cost", "on": "2026-11-26", "amount_cny": "30000.00", "note": "auction commission"},
                {"step": "close", "on": "2026-11-28"},
            ]
        },
    )
    step: StepKind
    on: Day
    price_cny: Money | None = Field(
        default=None,
        description="list: the asking price (default the current or the suggested reserve); "
        "sold, licensed: the price realised (required).",
    )
    amount_cny: Money | None = Field(default=None, description="cost: the amount (required).")
    note: Note | None = None

    @model_validator(mode="after")
    def _amounts(self) -> DisposalStepCreate:
        needed = _PRICED.get(self.step)
        if needed is not None and getattr(self, needed) is None:
            raise FieldError(needed, f"a {self.step} step states it")
        for name in ("price_cny", "amount_cny"):
            allowed = name == needed or (name == "price_cny" and self.step == "list")
            if getattr(self, name) is not None and not allowed:
                raise FieldError(name, f"a {self.step} step has none")
        return self


class ReservePublic(BaseModel):
    """The suggested reserve price and the figures behind it."""

    suggested_cny: Decimal
    basis: str
    reasons: list[ReserveReason]


class DisposalStepPublic(BaseModel):
    """A recorded step, with who made it."""

    step: str
    on: date
    price_cny: Decimal | None
    amount_cny: Decimal | None
    detail: dict[str, object]
    institution: str
    role: str
    at: datetime


class DisposalPublic(BaseModel):
    """A disposal case as it stands, with its steps."""

    id: str
    loan_id: str
    institution: str
    opened_by: str
    channel: DisposalChannel
    status: CaseStatus
    opened_on: date
    ead_cny: Decimal
    reserve: ReservePublic
    price_cny: Decimal | None = Field(description="The current asking price.")
    rounds: int = Field(description="Rounds held: failed rounds, and the sale's round.")
    listed_on: date | None
    sold_on: date | None
    sale_price_cny: Decimal | None
    costs_cny: Decimal
    proceeds_cny: Decimal | None
    net_cny: Decimal | None = Field(description="Proceeds less costs: what the loan recovers.")
    closed_on: date | None
    fund_id: str | None
    claim_id: str | None
    recovery_cny: Decimal | None = Field(description="Posted to the fund claim as its recovery (pro-rata claw-back).")
    realised_lgd: float | None
    steps: list[DisposalStepPublic]
