"""API schemas of valuations, assessments and their lists.

Request bodies reuse the frozen domain facts of :mod:`scoring.types`
(patents, borrower, loan terms) so the API, the data contract and the models
speak one vocabulary; responses compose the domain results.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scoring.cover import Cover
from scoring.credit import Lgd, PolicyReason
from scoring.explain import Contributions, Reason
from scoring.lifetime import TermStructure
from scoring.package import PackageValuation
from scoring.pledge_checks import add_months
from scoring.pledges import PatentPledge, PledgeContract
from scoring.pricing import RateFloor
from scoring.types import Borrower, Day, FieldError, LoanTerms, Patent
from scoring.valuation import PatentValuation
from scoring.vocab.shares import Share
from service.patent_ids import RequestPatent, RequestPatentId
from service.settings import BATCH_ITEMS_CEILING

MAX_PATENTS = 50
_STRICT = ConfigDict(extra="forbid")

EXAMPLE_PATENT: dict[str, Any] = {
    "patent_id": "CN202110123456.7",
    "patent_type": "invention",
    "ipc_section": "H",
    "tech_field": "electronics",
    "industry": "computing_power",
    "filing_date": "2021-03-15",
    "grant_date": "2023-06-20",
    "legal_status": "granted",
    "annual_fees_paid_years": 5,
    "fees_up_to_date": True,
    "claims_count": 12,
    "independent_claims": 2,
    "family_size": 3,
    "foreign_family_members": 1,
    "forward_citations": 8,
    "licences_count": 1,
    "owner_id": "E-GY-0001",
}
EXAMPLE_BORROWER: dict[str, Any] = {
    "enterprise_id": "E-GY-0001",
    "industry": "computing_power",
    "region": "guiyang",
    "revenue_cny": 48_000_000,
    "employees": 120,
    "years_registered": 6.5,
    "rd_intensity": 0.08,
    "high_tech": True,
    "specialised_sme": False,
    "leverage": 0.45,
    "prior_overdue_count": 0,
    "bad_credit_3y": False,
}
EXAMPLE_LOAN: dict[str, Any] = {
    "amount_cny": 3_000_000,
    "tenor_months": 24,
    "purpose": "rd",
    "insured_share": 0.2,
    "fund_cover_share": 0.4,
}

# The demo start's application (`iprisk serve` prints it as a curl request): the example borrower asking
# ¥1m over 24 months against three of its patents.  Measured on the bootstrapped synthetic models
# (2026-11-30): approve, maximum loan ¥1.86m, PD 0.9%, lifetime PD 1.8%.  The single example patent alone
# supports about ¥0.44m, so the ¥3m example loan above is declined; it stays as the schema example.
DEMO_PATENTS: list[dict[str, Any]] = [
    EXAMPLE_PATENT,
    {
        **EXAMPLE_PATENT,
        "patent_id": "CN201910587362.8",
        "ipc_section": "G",
        "tech_field": "software",
        "filing_date": "2019-08-02",
        "grant_date": "2021-11-16",
        "annual_fees_paid_years": 7,
        "claims_count": 18,
        "independent_claims": 3,
        "family_size": 5,
        "foreign_family_members": 2,
        "forward_citations": 21,
        "licences_count": 2,
    },
    {
        **EXAMPLE_PATENT,
        "patent_id": "CN202220314159.0",
        "patent_type": "utility_model",
        "filing_date": "2022-02-10",
        "grant_date": "2022-07-05",
        "annual_fees_paid_years": 4,
        "claims_count": 8,
        "independent_claims": 1,
        "family_size": 1,
        "foreign_family_members": 0,
        "forward_citations": 3,
        "licences_count": 0,
    },
]
DEMO_LOAN: dict[str, Any] = {**EXAMPLE_LOAN, "amount_cny": 1_000_000}


def _unique_ids(patents: list[Patent]) -> None:
    seen: set[str] = set()
    for i, p in enumerate(patents):
        if p.patent_id in seen:
            raise FieldError(f"patents.{i}.patent_id", f"{p.patent_id!r} appears twice")
        seen.add(p.patent_id)


PLEDGES_DESCRIPTION = (
    "Pledge facts by patent id, for patents the borrower does not pledge itself: a third party that owns "
    "the patent (Civil Code art. 440) with its consent on record. Patents not named here are pledged by the borrower."
)


CONTRACT_DESCRIPTION = (
    "What the pledge contract contains, item by item (the contents CNIPA requires); without it the "
    "contract check is shown as not_assessed."
)


def check_pledge_ids(pledges: dict[str, PatentPledge], patents: list[Patent], *, field: str) -> None:
    """Refuse pledge facts about a patent the request does not pledge (a typo would silently not apply)."""
    ids = {p.patent_id for p in patents}
    for key in pledges:
        if key not in ids:
            raise FieldError(f"{field}.{key}", f"no patent {key!r} among the pledged patents")


APPRAISAL_DESCRIPTION = (
    "An appraisal of the whole package the bank supplies, CNY: the pledge value where the institution's basis is "
    "appraisal or a blend with it (docs/valuation.md)."
)


class ValuationContext(BaseModel):
    """Optional facts that sharpen a valuation."""

    model_config = _STRICT
    as_of: Day | None = Field(default=None, description="Valuation date (default: today, Beijing time).")
    revenue_attributable_cny: float | None = Field(
        default=None, ge=0, le=1e11, description="Annual revenue the package supports, CNY."
    )
    owner_revenue_cny: float | None = Field(default=None, ge=0, le=1e12, description="Owner's annual revenue.")
    owner_high_tech: bool = Field(
        default=False,
        description="The owner is a high and new technology enterprise: the income approach uses 15% income tax, "
        "not 25%.",
    )
    appraised_value_cny: float | None = Field(default=None, ge=0, le=1e11, description=APPRAISAL_DESCRIPTION)
    pledgor_id: str | None = Field(
        default=None, max_length=64, description="The borrower, who pledges every patent `pledges` does not name."
    )
    tenor_months: int | None = Field(default=None, ge=1, le=120, description="Intended loan tenor.")
    pledges: dict[RequestPatentId, PatentPledge] = Field(
        default_factory=dict, max_length=MAX_PATENTS, description=PLEDGES_DESCRIPTION
    )
    contract: PledgeContract | None = Field(default=None, description=CONTRACT_DESCRIPTION)


class ValuationRequest(BaseModel):
    """One or more patents to value as a package."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "patents": [EXAMPLE_PATENT],
                    "context": {"owner_revenue_cny": 48_000_000, "pledgor_id": "E-GY-0001", "tenor_months": 24},
                }
            ]
        },
    )
    patents: list[RequestPatent] = Field(min_length=1, max_length=MAX_PATENTS)
    context: ValuationContext = Field(default_factory=ValuationContext)

    @model_validator(mode="after")
    def _consistent(self) -> ValuationRequest:
        _unique_ids(self.patents)
        check_pledge_ids(self.context.pledges, self.patents, field="context.pledges")
        if self.context.as_of is not None:  # without a date: checked on the request's day (service.usecases)
            check_dated(self.patents, self.context.as_of)
        return self


class Stored(BaseModel):
    """Identity and provenance of a stored result."""

    id: str
    created_at: datetime
    as_of: date
    model_versions: dict[str, str]
    synthetic_models: bool = Field(description="The models were trained on synthetic data.")
    low_confidence: bool = Field(
        default=False,
        description="A model used here is weak or thinly evidenced (its gap to the oracle or its test "
        "sample is beyond the floors recorded at training): treat the figures as advisory.",
    )
    low_confidence_reasons: list[str] = Field(
        default_factory=list, description="Why, one line per reason, each starting with the model's name."
    )


class ValuationResponse(Stored):
    """Per-patent values with reasons and checks, and the package figures."""

    patents: list[PatentValuation]
    package: PackageValuation

    @model_validator(mode="before")
    @classmethod
    def _stored_before_pledge_values(cls, data: Any) -> Any:
        """A result stored before pledge values existed (issue 11 B) reads back with them derived from its checks.

        Its other figures stay as they were computed then (its maximum pledge amount may count a
        patent that did not live); only the fields it lacks are filled, so it still validates.
        """
        package = data.get("package") if isinstance(data, dict) else None
        if not isinstance(package, dict) or "pledge_value_cny" in package:
            return data
        patents = [dict(p) for p in data.get("patents", [])]
        for p in patents:
            failed = {c["check"] for c in p.get("checks", []) if c.get("status") == "fail"}
            basis = "not_alive" if "legal_status" in failed else "not_registrable" if failed else "pledgeable"
            p.setdefault("value_basis", basis)
            p.setdefault("pledge_value_cny", p["p50"] if basis == "pledgeable" else 0.0)
            p.setdefault("value_note", None)
        counted = [p for p in patents if p["value_basis"] == "pledgeable"]
        package = {
            **package,
            "pledge_value_cny": sum(p["p50"] for p in counted),
            "pledgeable_patents": len(counted),
        }
        return {**data, "patents": patents, "package": package}


class CoverRequest(BaseModel):
    """The fund the loan will enter (and an insurer outside its rules): its rules, not typed shares, set the cover."""

    model_config = _STRICT
    fund_id: str = Field(min_length=1, max_length=64, description="The risk-compensation fund the loan will enter.")
    rules_on: Day | None = Field(
        default=None, description="Run the rule version in force on this day (default: the application date)."
    )
    insurer_share: Share | None = Field(
        default=None,
        description="Share of the loss at default an insurer outside the fund's rules bears (a guarantee policy); "
        "refused when the rules name an insurer, since they set its share.",
    )


TYPED_SHARES = ("insured_share", "fund_cover_share", "guarantee_share")


class AssessmentRequest(BaseModel):
    """Borrower, loan and pledged patents (or an earlier valuation of them)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "patents": [EXAMPLE_PATENT]},
                {
                    "borrower": EXAMPLE_BORROWER,
                    "loan": {"amount_cny": 3_000_000, "tenor_months": 36, "purpose": "rd", "annual_rate": 0.045},
                    "patents": [EXAMPLE_PATENT],
                    "appraised_value_cny": 12_000_000,
                    "cover": {"fund_id": "fund_guiyang"},
                },
            ]
        },
    )
    borrower: Borrower
    loan: LoanTerms
    patents: list[RequestPatent] | None = Field(default=None, min_length=1, max_length=MAX_PATENTS)
    valuation_id: str | None = Field(default=None, max_length=36, description="Use the patents of this valuation.")
    as_of: Day | None = Field(default=None, description="Application date (default: today, Beijing time).")
    pledges: dict[RequestPatentId, PatentPledge] = Field(
        default_factory=dict, max_length=MAX_PATENTS, description=PLEDGES_DESCRIPTION
    )
    contract: PledgeContract | None = Field(default=None, description=CONTRACT_DESCRIPTION)
    appraised_value_cny: float | None = Field(default=None, ge=0, le=1e11, description=APPRAISAL_DESCRIPTION)
    cover: CoverRequest | None = Field(
        default=None,
        description="The fund the loan will enter: LGD with cover runs that fund's rule version. Without it, "
        "loan.insured_share, fund_cover_share and guarantee_share are a what-if (cover.basis what_if).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> AssessmentRequest:
        if (self.patents is None) == (self.valuation_id is None):
            raise ValueError("give exactly one of patents or valuation_id")
        if self.cover is not None:
            for name in TYPED_SHARES:
                if getattr(self.loan, name) > 0:
                    raise FieldError(f"loan.{name}", "the fund named in cover sets the cover: leave the what-if at 0")
        if self.cover is not None and self.as_of is not None and self.cover.rules_on is not None:
            if self.cover.rules_on > self.as_of:
                raise FieldError("cover.rules_on", f"{self.cover.rules_on} is after as_of {self.as_of}")
        if self.patents is not None:
            _unique_ids(self.patents)
            check_pledge_ids(self.pledges, self.patents, field="pledges")
            if self.as_of is not None:  # without a date: checked on the request's day (service.usecases)
                check_dated(self.patents, self.as_of)
                check_tenor(self.patents, self.loan.tenor_months, self.as_of)
        return self


def check_dated(patents: list[Patent], as_of: date) -> None:
    """Refuse patent facts dated after the valuation or application date (the models never saw a negative age)."""
    for i, p in enumerate(patents):
        for name, when in (("filing_date", p.filing_date), ("grant_date", p.grant_date)):
            if when is not None and when > as_of:
                raise FieldError(
                    f"patents.{i}.{name}",
                    f"{when} is after as_of {as_of}: a patent is valued as of a day its facts are known",
                )


def check_tenor(patents: list[Patent], tenor_months: int, as_of: date) -> None:
    """Refuse a loan that runs past a pledged patent's statutory expiry."""
    maturity = add_months(as_of, tenor_months)
    for i, p in enumerate(patents):
        if maturity > p.expiry():
            raise FieldError(
                "loan.tenor_months",
                f"the loan ends {maturity}, after patents[{i}] ({p.patent_id}) expires {p.expiry()}",
            )


class AssessmentResponse(Stored):
    """PD, grade, LGD, EL, maximum loan, decision and the reasons behind them."""

    pd: float = Field(description="Calibrated 12-month probability of default.")
    pd_tenor: float = Field(description="Cumulative probability of default over the loan's tenor (EL uses it).")
    term_structure: TermStructure
    grade: str
    grade_expected_default_rate: float
    lgd: Lgd
    ead: float
    expected_loss: float
    expected_loss_without_cover: float
    ltv: float
    max_loan_amount: float
    decision: Literal["approve", "refer", "decline"]
    reasons: list[Reason]
    policy_reasons: list[PolicyReason]
    contributions: Contributions
    cover: Cover | None = Field(
        default=None, description="Who pays what share of a loss at default: the fund's rules or a what-if."
    )
    pricing: RateFloor | None = Field(
        default=None, description="Risk-based rate floor beside the rate asked (None: assessed before pricing)."
    )
    valuation_id: str | None
    valuation: ValuationResponse


class BatchRequest(BaseModel):
    """Several applications; each succeeds or fails on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"items": [{"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "patents": [EXAMPLE_PATENT]}]}]
        },
    )
    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=BATCH_ITEMS_CEILING,
        description="Assessment requests (see AssessmentRequest); at most `IPRISK_BATCH_MAX_ITEMS` (default 100).",
    )


class BatchItemError(BaseModel):
    """Why one item failed."""

    error: str
    detail: str
    field: str | None


class BatchItem(BaseModel):
    """Outcome of one batch item."""

    index: int
    status: Literal["ok", "error"]
    assessment: AssessmentResponse | None = None
    error: BatchItemError | None = None


class BatchResponse(BaseModel):
    """Per-item outcomes in request order."""

    succeeded: int
    failed: int
    results: list[BatchItem]


class Page(BaseModel):
    """A page of summaries."""

    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]
