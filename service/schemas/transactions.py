"""API schemas of the IP-transaction registry (知识产权交易登记) and its statistics."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scoring.types import Day, FieldError, PatentId
from scoring.vocab import Industry, Region, TransactionType
from scoring.vocab.money import Money

LICENCES = ("licence_exclusive", "licence_non_exclusive", "licence_open")
PRICED = ("transfer", "disposal_sale", "capital_contribution")
BANK_TYPES = ("pledge_registration", "pledge_release", "disposal_sale")
"""What a bank registers: the transactions of its own loans' pledged patents."""


class Party(BaseModel):
    """One side of a transaction: where it is and its industry."""

    model_config = ConfigDict(extra="forbid")
    region: Region | None = Field(default=None, description="市州 in Guizhou; none for a party outside the province.")
    industry: Industry = "other"


class TransactionCreate(BaseModel):
    """A transaction of a patent: transfer, licence, pledge registration or release, disposal sale, contribution."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "licence_exclusive",
                    "patent_id": "CN202110123456.7",
                    "occurred_on": "2026-11-20",
                    "owner": {"region": "guiyang", "industry": "computing_power"},
                    "counterparty": {"region": "zunyi", "industry": "advanced_equipment"},
                    "royalty_rate": 0.035,
                    "upfront_cny": "200000.00",
                    "term_months": 60,
                }
            ]
        },
    )
    type: TransactionType
    patent_id: PatentId
    occurred_on: Day = Field(description="Day the contract took effect or the registration was made; not after today.")
    owner: Party = Field(description="The patent's holder: transferor, licensor, pledgor, seller or contributor.")
    counterparty: Party = Field(description="Transferee, licensee, pledgee (the bank), buyer or the invested company.")
    price_cny: Money | None = Field(
        default=None,
        description="Transfer price, sale price or contributed value, CNY (required for those); for a pledge "
        "registration, the secured amount.",
    )
    royalty_rate: float | None = Field(
        default=None, gt=0, le=1, description="Licences: royalty as a share of net sales (0.035 = 3.5%)."
    )
    upfront_cny: Money | None = Field(default=None, description="Licences: lump-sum or entry fee (入门费), CNY.")
    term_months: int | None = Field(default=None, ge=1, le=360, description="Licences: the licence term.")
    loan_id: str | None = Field(
        default=None, max_length=36, description="Banks: the loan whose pledged patent it is (required for banks)."
    )

    @model_validator(mode="after")
    def _terms(self) -> TransactionCreate:
        licence = self.type in LICENCES
        if licence and self.royalty_rate is None and self.upfront_cny is None:
            raise FieldError("royalty_rate", "a licence states a royalty rate, an upfront fee, or both")
        if not licence:
            for name in ("royalty_rate", "upfront_cny", "term_months"):
                if getattr(self, name) is not None:
                    raise FieldError(name, f"is for licences, not for {self.type}")
        if self.type in PRICED and self.price_cny is None:
            raise FieldError("price_cny", f"a {self.type} states its price")
        if (licence or self.type == "pledge_release") and self.price_cny is not None:
            raise FieldError("price_cny", f"a {self.type} has no price: give the licence terms")
        return self


class TransactionPublic(BaseModel):
    """A registered transaction."""

    id: str
    institution: str
    type: str
    patent_id: str
    patent_type: str | None
    occurred_on: date
    owner: Party
    counterparty: Party
    price_cny: Decimal | None
    royalty_rate: float | None
    upfront_cny: Decimal | None
    term_months: int | None
    loan_id: str | None
    registered_at: datetime


class TurnoverCreate(BaseModel):
    """Technology-contract turnover (技术合同成交额) of a period, from the province's contract registry."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"period": "2026Q3", "turnover_cny": "12500000000.00"}]}
    )
    period: str = Field(
        min_length=6, max_length=7, description="A quarter (2026Q3) or a month (2026-09) that has ended."
    )
    turnover_cny: Money

    @model_validator(mode="after")
    def _positive(self) -> TurnoverCreate:
        if self.turnover_cny <= 0:
            raise FieldError("turnover_cny", "must be more than 0")
        return self


class TurnoverPublic(BaseModel):
    """A stored turnover figure."""

    period: str
    turnover_cny: Decimal
    reported_at: datetime


class GroupFigures(BaseModel):
    """Transactions of one group: how many and how much (prices, or upfront fees of licences)."""

    key: str
    label: str = Field(description="The key's Chinese label.")
    count: int
    amount_cny: float


class RoyaltyStatistics(BaseModel):
    """Royalty rates of the licences of one industry with a stated rate (the form CNIPA publishes)."""

    industry: str
    label: str
    licences: int
    mean: float
    p25: float
    median: float
    p75: float
    min: float
    max: float


class TransactionStatistics(BaseModel):
    """Registered transactions of a period by type, 市州, industry; by quarter up to its end; royalty rates."""

    period: str
    start: date
    end: date
    count: int
    amount_cny: float
    by_type: list[GroupFigures]
    by_region: list[GroupFigures] = Field(description="By the holder's 市州 (outside: 省外).")
    by_industry: list[GroupFigures] = Field(description="By the holder's industrial base.")
    by_quarter: list[GroupFigures] = Field(description="Every quarter up to the period's end.")
    royalty_rates: list[RoyaltyStatistics]
    transfer_and_licence_cny: float = Field(description="Transfer prices and licence upfront fees in the period.")
    technology_turnover_cny: float | None = Field(description="The period's technology-contract turnover, if fed.")
    share_of_turnover: float | None = Field(
        description="Patent transfer and licence amounts ÷ technology-contract turnover (the seed's indicator)."
    )


class PriceDrift(BaseModel):
    """PSI of registered prices against the valuation model's training reference (log CNY)."""

    model: str
    version: str
    since: date
    rows: int = Field(description="Registered prices in the window.")
    reference: Literal["observed_prices", "model_values"] = Field(
        description="What the prices are compared with: the observed prices the model was trained on, or (a "
        "version registered before those were kept) its training reference of values."
    )
    psi: float | None = Field(description="None with fewer than the minimum rows or no reference.")
    band: Literal["stable", "watch", "act"] | None = Field(description="PSI < 0.10 stable, ≤ 0.25 watch, else act.")
    note: str | None = None
