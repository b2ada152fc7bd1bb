"""API schemas of outcomes and the regulator view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scoring.classification import check_classification
from scoring.types import Day, FieldError
from scoring.vocab import NplClass

NPL_CLASSES_BAD = ("substandard", "doubtful", "loss")
GroupBy = Literal["bank", "region", "industry", "patent_type", "vintage"]


class OutcomeCreate(BaseModel):
    """What happened to a booked loan, reported by its bank."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "loan_id": "00000000-0000-0000-0000-000000000000",
                    "as_of": "2026-11-27",
                    "status": "default",
                    "days_past_due": 120,
                    "npl_class": "substandard",
                    "default_date": "2026-10-01",
                }
            ]
        },
    )
    loan_id: str = Field(max_length=36)
    as_of: Day = Field(description="The day the report describes: not after today (Beijing), not before origination.")
    status: Literal["performing", "repaid", "default"]
    days_past_due: int = Field(ge=0, le=10_000, description="At most the days since origination; 0 when repaid.")
    npl_class: NplClass = Field(
        description="At least special_mention when overdue, substandard beyond 90 days past due, doubtful "
        "beyond 270, loss beyond 360 (asset classification rules 2023)."
    )
    default_date: Day | None = Field(default=None, description="Required with status default; not after as_of.")

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeCreate:
        if self.status == "default":
            if self.default_date is None:
                raise FieldError("default_date", "is required when status is default")
            if self.npl_class not in NPL_CLASSES_BAD:
                raise FieldError("npl_class", "a defaulted loan is classified substandard, doubtful or loss")
            if self.default_date > self.as_of:
                raise FieldError("default_date", f"{self.default_date} is after as_of {self.as_of}")
        elif self.default_date is not None:
            raise FieldError("default_date", "is only for status default")
        if self.status == "repaid" and self.days_past_due > 0:
            raise FieldError("days_past_due", "a repaid loan has nothing past due")
        check_classification(npl_class=self.npl_class, days_past_due=self.days_past_due)
        return self


class OutcomePublic(BaseModel):
    """A stored outcome report."""

    id: int
    loan_id: str
    as_of: date
    status: str
    days_past_due: int
    npl_class: str
    default_date: date | None
    reported_at: datetime


class TicketBands(BaseModel):
    """Loan counts and amounts by size band (CNY)."""

    under_10m: int
    from_10m_to_20m: int
    over_20m: int
    amount_under_10m: float
    amount_10m_to_20m: float
    amount_over_20m: float


class Distribution(BaseModel):
    """Summary of a distribution."""

    mean: float | None
    p10: float | None
    p50: float | None
    p90: float | None


class PortfolioGroup(BaseModel):
    """Statistics of one group of booked loans."""

    key: str
    loans: int
    amount_cny: float
    tickets: TicketBands
    average_pd: float | None
    expected_loss_cny: float
    balance_cny: float = Field(description="Outstanding principal today (scoring/book.py).")
    npl_count: int = Field(description="Loans with a balance classified substandard, doubtful or loss today.")
    npl_amount_cny: float = Field(description="Their outstanding balance today.")
    npl_rate: float | None = Field(
        description="NPL balance ÷ outstanding balance today (2023 classification measures); None without one."
    )
    collateral_p50_cny: float
    ltv: Distribution


class MonthPoint(BaseModel):
    """Originations of one month."""

    month: str
    loans: int
    amount_cny: float
    average_pd: float | None
    expected_loss_cny: float


class PortfolioReport(BaseModel):
    """Portfolio statistics grouped one way, with the monthly series."""

    group_by: str
    total: PortfolioGroup
    groups: list[PortfolioGroup]
    monthly: list[MonthPoint]


class FeatureDrift(BaseModel):
    """PSI of one input between the training reference and recent traffic."""

    feature: str
    psi: float
    band: Literal["stable", "watch", "act"]


class DriftReport(BaseModel):
    """Drift of one served model over a recent window."""

    model: str
    version: str
    since: datetime
    rows: int
    score_psi: float | None
    score_band: str | None
    features: list[FeatureDrift]
    alert: bool = Field(description="Some PSI is above 0.25 (act).")
    watch: list[str] = Field(description="Inputs in the 0.10–0.25 band.")
    note: str | None = None


class GradeRow(BaseModel):
    """Realised against expected default rate in one grade."""

    grade: str
    loans: int
    defaults: int
    expected_rate: float
    realised_rate: float | None
    binomial_p_value: float | None


class PerformanceReport(BaseModel):
    """PD model performance on matured loans with reported outcomes."""

    loans: int
    defaults: int
    auc: float | None
    by_grade: list[GradeRow]
    note: str | None = None


class ModelVersionInfo(BaseModel):
    """One stored model version as the inventory shows it."""

    name: str
    version: str
    task: str
    created_at: datetime
    created_by: str
    synthetic: bool
    aliases: list[str]
    metrics: dict[str, Any]
    data_fingerprint: str
    files: dict[str, str]


class AliasMove(BaseModel):
    """One recorded alias move."""

    alias: str
    from_version: str | None
    to_version: str
    actor: str
    reason: str
    forced: bool
    at: datetime
    action: str


class ModelInventory(BaseModel):
    """Every model, its versions and its alias history."""

    models: dict[str, list[ModelVersionInfo]]
    history: dict[str, list[AliasMove]]


class ModelCard(BaseModel):
    """A model card for one version."""

    name: str
    version: str
    purpose: str
    data: str
    intended_use: str
    known_limits: list[str]
    metrics: dict[str, Any]
    features: list[str]
    promoted: list[AliasMove]
    synthetic: bool
    shap_kernel: dict[str, Any] | None = Field(
        None,
        description="Per booster role, the exactness gate of the TreeSHAP kernel run at registration: "
        "supported (explanations from the kernel) or the reason they come from LightGBM's pred_contrib.",
    )
    target: str | None = Field(None, description="The column the model was trained to predict (generic models).")
    positive_label: str | None = Field(
        None, description="The target value the model's probability is of (generic models; docs/data-team.md)."
    )
    low_confidence: bool = Field(
        False, description="Gap to the oracle or test sample below the configured floors, recorded at registration."
    )
    low_confidence_reasons: list[str] = Field(default_factory=list)


Sha256Hex = Annotated[str, Field(pattern="^[0-9a-f]{64}$", description="A sha256 digest, lower-case hex.")]


class AuditCheckpoint(BaseModel):
    """A signed checkpoint of the audit chain: entry ``seq`` had ``hash`` at ``at``."""

    seq: int = Field(ge=1, description="Chain position of the entry the checkpoint anchors.")
    hash: Sha256Hex
    at: datetime = Field(description="When the checkpoint was written (UTC).")
    sig: str = Field(
        description="HMAC-SHA256 of the canonical JSON of seq, hash and at, under the service's audit key."
    )


class AuditCheck(BaseModel):
    """Result of recomputing the audit chain and checking it against the signed checkpoints."""

    ok: bool = Field(description="Chain intact, consistent with every checkpoint, and every checkpoint genuine.")
    entries: int = Field(description="Chained (sealed) entries checked.")
    first_broken_seq: int | None
    problem: str | None = Field(
        description="The first problem found: an altered, missing or rewritten entry, a "
        "truncated log, or a forged checkpoint."
    )
    pending: int = Field(default=0, description="Entries committed but not chained yet (chained within seconds).")
    checkpoint: AuditCheckpoint | None = Field(
        default=None, description="The latest validly signed checkpoint; the log must still pass through it."
    )
    checkpoints: int = Field(default=0, description="Validly signed checkpoints the chain was checked against.")


class PartyAmount(BaseModel):
    """Money by party (CNY)."""

    name: str
    role: str
    amount_cny: float


class FundStatistics(BaseModel):
    """One fund: pool against committed lines, claims, payouts and recoveries by party, utilisation."""

    fund_id: str
    name: str
    banks: int
    pool_share_cny: float = Field(description="Banks' shares of the pool (their deposits in the agreement).")
    committed_lines_cny: float
    pooled_loans: int
    pooled_amount_cny: float
    outstanding_cny: float = Field(description="Principal outstanding on active pooled loans (repaid ones release it).")
    line_utilisation: float | None = Field(description="Outstanding pooled principal / committed lines.")
    claims: dict[str, int] = Field(description="Claims by status: filed (all), pending, approved, rejected, …")
    claimed_loss_cny: float = Field(description="Losses of the claims not rejected (as the fund counts them).")
    paid_by_party: list[PartyAmount] = Field(description="What each party paid (the bank: bore) on approved claims.")
    recovered_by_party: list[PartyAmount]
    contributions_cny: float
    paid_cny: float
    recovered_cny: float
    balance_cny: float
    committed_cny: float
    fund_utilisation: float | None = Field(description="Net paid (paid − recovered) / contributions.")
    reconciled: bool


class RateStatistics(BaseModel):
    """Stated annual rates of the loans originated in a period (financing cost)."""

    loans_with_rate: int = Field(description="Loans whose assessment stated a rate; the others are not guessed.")
    mean: float | None
    amount_weighted_mean: float | None
    median: float | None


class OfficialIndicators(BaseModel):
    """The indicators the regulator publishes for a period (docs/regulator.md gives each definition)."""

    period: str
    start: date
    end: date = Field(description="The period's last day, or today while it runs.")
    cumulative_loans: int = Field(description="累计发放笔数: loans originated up to the end.")
    cumulative_amount_cny: float = Field(description="累计发放金额.")
    period_loans: int = Field(description="Loans originated in the period.")
    period_amount_cny: float
    balance_cny: float = Field(description="贷款余额 at the end (scoring/book.py).")
    npl_balance_cny: float
    npl_ratio: float | None = Field(description="NPL balance ÷ balance at the end.")
    enterprises_served: int = Field(description="惠企数: distinct borrowers with a loan originated up to the end.")
    period_enterprises: int = Field(description="Distinct borrowers with a loan originated in the period.")
    first_time_borrowers: int = Field(
        description="首贷户: borrowers whose first loan on this book was originated in the period (the service "
        "knows no loan outside it)."
    )
    rate: RateStatistics
    inclusive_loans: int = Field(description="Loans under ¥10m originated in the period (inclusive finance).")
    inclusive_share_of_loans: float | None
    inclusive_share_of_amount: float | None
    pledged_patents: int = Field(description="Distinct patents pledged to loans originated up to the end.")
    registrations: int = Field(description="Pledge registrations at CNIPA recorded with a date up to the end.")
    pledged_invention_patents: int = Field(description="Of the pledged patents, invention patents in force.")
    high_value_patents: int = Field(description="Pledged high-value invention patents (CNIPA's five criteria).")
    high_value_share: float | None = Field(description="High-value ÷ pledged invention patents in force.")
    unassessed_patents: int = Field(description="Pledged patents valued before the flag existed (not counted).")
