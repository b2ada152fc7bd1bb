"""Frozen domain types: the facts scoring works on, validated once at the edge.

Field names follow the data contract (:mod:`training.contract`), so a row of
``patents.csv`` and a patent in an API request are the same thing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from scoring import terms
from scoring.patent_ids import PATENT_ID_MODES, PatentIdError, PatentNumber, parse_patent_id, patent_type_of
from scoring.vocab import (
    FROZEN,
    Industry,
    IpcSection,
    LegalStatus,
    OwnerType,
    PatentType,
    Purpose,
    Region,
    RepaymentType,
    TechField,
)
from scoring.vocab.shares import Share

Count = Annotated[int, Field(ge=0, le=100_000)]

SameDayInventionStatus = Literal["pending", "granted", "refused", "withdrawn"]

EARLIEST = date(1985, 4, 1)  # China's Patent Law took effect on 1 April 1985
# Far enough ahead for any scenario, and near enough that expiry (filing + 20 years)
# and maturity (+ 120 months) stay inside Python's calendar, which ends in 9999.
LATEST = date(2199, 12, 31)
Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
"""A date a request may carry: no record of patent-pledge financing in China is older than the Patent Law."""


PATENT_ID_CONTEXT = "patent_ids"
"""Key of the validation context that holds the patent id mode (``cn_only`` when absent)."""


def _patent_id(value: object, info: ValidationInfo) -> object:
    """Canonical patent number; the mode comes from the validation context, never from settings."""
    if isinstance(value, PatentNumber):  # parsed by the caller under its own mode
        return value.canonical
    if not isinstance(value, str):
        return value  # the str schema names the wrong type
    mode = (info.context or {}).get(PATENT_ID_CONTEXT, "cn_only")
    if mode not in PATENT_ID_MODES:
        raise ValueError(f"unknown patent id mode {mode!r} in the validation context")
    try:
        return parse_patent_id(value, mode=mode).canonical
    except PatentIdError as exc:
        raise PydanticCustomError("patent_id", "{problem}", {"problem": exc.problem}) from exc


PatentId = Annotated[
    str,
    BeforeValidator(_patent_id),
    Field(
        min_length=1,
        max_length=64,
        description="Application number (申请号) or patent number (专利号, ZL + application number); "
        "`CN`/`ZL` prefixes, the dot, spaces, case and full-width characters are formatting, and the "
        "canonical form `CN202110123456.7` is what is stored and compared. Publication numbers are refused.",
    ),
]
"""A patent number in canonical form (:mod:`scoring.patent_ids`)."""


CLAIM_FIELDS = ("claims_count", "independent_claims")
# What an invention or utility model without claims counts as (the defaults before designs lost theirs).
DEFAULT_CLAIMS = {"claims_count": 10, "independent_claims": 1}


class FieldError(ValueError):
    """A cross-field rule broken by one field: ``field`` (dotted, relative to the model) names it.

    Raised in model validators; the service's 422 puts the field's full path
    in ``field`` instead of the model's (``service.errors.field_problem``).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class Patent(BaseModel):
    """Legal, technical and economic facts of one patent."""

    model_config = FROZEN
    patent_id: PatentId
    patent_type: PatentType
    ipc_section: IpcSection
    tech_field: TechField
    industry: Industry = "other"
    filing_date: Day
    grant_date: Day | None = None
    legal_status: LegalStatus = "granted"
    annual_fees_paid_years: int = Field(default=0, ge=0, le=20)
    fees_up_to_date: bool = True
    claims_count: int | None = Field(
        default=None,
        ge=1,
        le=500,
        description="Number of claims. None for a design (designs have no claims); 10 when an invention "
        "or utility model leaves it out.",
    )
    independent_claims: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Number of independent claims. None for a design; 1 when an invention or utility model "
        "leaves it out.",
    )
    family_size: int = Field(default=1, ge=1, le=500)
    foreign_family_members: int = Field(default=0, ge=0, le=500)
    forward_citations: int = Field(default=0, ge=0, le=10_000)
    licences_count: int = Field(default=0, ge=0, le=1000)
    transfers_count: int = Field(default=0, ge=0, le=1000)
    prior_pledges_count: int = Field(default=0, ge=0, le=100)
    litigation_count: int = Field(default=0, ge=0, le=1000)
    invalidation_requests: int = Field(default=0, ge=0, le=100)
    invalidation_pending: bool = False
    owner_type: OwnerType = "enterprise"
    owner_id: str | None = Field(default=None, max_length=64, description="Registered owner (enterprise id).")
    co_owned: bool = False
    co_owner_consent: bool = False
    ownership_dispute: bool = False
    preservation_order: bool = False
    currently_pledged: bool = Field(default=False, description="Registered in an active pledge at CNIPA.")
    same_day_invention_status: SameDayInventionStatus | None = Field(
        default=None,
        description="Utility models only (一案双申): the status of the identical invention the same applicant filed "
        "on the same day; none when there is no such application.",
    )
    same_day_invention_id: str | None = Field(
        default=None, max_length=64, description="Utility models only: that invention application's number."
    )
    strategic_emerging: bool = Field(default=False, description="In a strategic emerging industry (战略性新兴产业).")
    patent_award: bool = Field(
        default=False, description="Won the China Patent Award or a national science and technology award."
    )
    pledge_amount_cny: float | None = Field(
        default=None,
        ge=0,
        le=1e11,
        description="Largest amount the patent secured in an earlier registered pledge, CNY (CNIPA's high-value "
        "criterion of a high pledge amount); None when unknown.",
    )

    @model_validator(mode="before")
    @classmethod
    def _claims_by_type(cls, data: Any) -> Any:
        """Designs carry no claims (refused, naming the field, if given); the others default to 10 and 1.

        The defaults keep the answer older clients got for an invention or a utility model
        without claims.  "Unknown" is not left missing for them because missing is what the
        models learn as "a design" (:data:`scoring.features.NOT_APPLICABLE`).
        """
        if not isinstance(data, dict):
            return data
        given = {name: data.get(name) for name in CLAIM_FIELDS}
        if data.get("patent_type") == "design":
            for name, value in given.items():
                if value is not None:
                    raise FieldError(
                        name, "a design patent has no claims (it is protected by its drawings or photographs): omit it"
                    )
            return data
        return {**data, **{n: DEFAULT_CLAIMS[n] for n, v in given.items() if v is None}}

    @model_validator(mode="after")
    def _consistent(self) -> Patent:
        if self.grant_date is not None and self.grant_date < self.filing_date:
            raise FieldError("grant_date", f"{self.grant_date} is before filing_date {self.filing_date}")
        if (
            self.independent_claims is not None
            and self.claims_count is not None
            and self.independent_claims > self.claims_count
        ):
            raise FieldError("independent_claims", "exceeds claims_count")
        if self.foreign_family_members >= self.family_size + 1 and self.family_size > 0:
            raise FieldError("foreign_family_members", "exceeds family_size")
        if self.legal_status == "granted" and self.grant_date is None:
            raise FieldError("grant_date", "a granted patent needs one")
        told = patent_type_of(self.patent_id)
        if told is not None and told != self.patent_type:
            raise FieldError("patent_type", f"is {self.patent_type}, but the number {self.patent_id} is a {told}")
        self._same_day_invention()
        return self

    def _same_day_invention(self) -> None:
        """Only a utility model has a same-day invention (Patent Law art. 9), and its status must be known."""
        for name in ("same_day_invention_status", "same_day_invention_id"):
            if getattr(self, name) is not None and self.patent_type != "utility_model":
                raise FieldError(name, "only a utility model can have a same-day identical invention application")
        if self.same_day_invention_id is not None and self.same_day_invention_status is None:
            raise FieldError("same_day_invention_status", "give the status of the same-day invention application")

    def expiry(self) -> date:
        """Statutory expiry: filing date plus the term of its type at that date (:mod:`scoring.terms`)."""
        return terms.expiry(self.patent_type, self.filing_date)


class Borrower(BaseModel):
    """The enterprise asking for the loan."""

    model_config = FROZEN
    enterprise_id: str = Field(min_length=1, max_length=64)
    industry: Industry
    region: Region
    revenue_cny: float = Field(ge=0, le=1e12, description="Annual revenue, CNY.")
    employees: int = Field(ge=1, le=1_000_000)
    years_registered: float = Field(ge=0, le=100)
    rd_intensity: float = Field(default=0.05, ge=0, le=5, description="R&D spend / revenue.")
    high_tech: bool = False
    specialised_sme: bool = False
    is_sme: bool = True
    leverage: float = Field(ge=0, le=5, description="Liabilities / assets.")
    prior_overdue_count: int = Field(default=0, ge=0, le=1000)
    bad_credit_3y: bool = False


class LoanTerms(BaseModel):
    """The loan applied for."""

    model_config = FROZEN
    amount_cny: float = Field(ge=1, le=1e10, description="Principal, CNY (the data contract's range).")
    tenor_months: int = Field(ge=1, le=120)
    purpose: Purpose
    ip_share_of_collateral: Share = 1.0
    insured_share: Share = 0.0
    fund_cover_share: Share = Field(default=0.0, description="Share of the loss a compensation fund would bear.")
    guarantee_share: Share = 0.0
    annual_rate: float | None = Field(
        default=None,
        ge=0,
        le=0.36,
        description="Nominal annual interest rate the bank asks (0.0385 = 3.85%); None when not stated.",
    )
    repayment_type: RepaymentType | None = Field(
        default=None,
        description="How the principal falls due (scoring/book.py): bullet at maturity, equal_principal or "
        "equal_instalment monthly; None is bullet.",
    )

    @model_validator(mode="after")
    def _cover(self) -> LoanTerms:
        if self.insured_share + self.fund_cover_share + self.guarantee_share > 1 + 1e-9:
            raise ValueError("insured_share + fund_cover_share + guarantee_share exceeds 1")
        return self
