"""Typed configuration: LTV caps, valuation assumptions, decision policy, reasons, insurance.

Rules are data: every threshold here comes from a YAML file in
``scoring/config`` (or an override directory with files of the same names),
validated into frozen models once at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, model_validator

from scoring.grades import GradeScale, load_grade_scale
from scoring.vocab import FROZEN
from scoring.vocab.lang import Lang
from scoring.vocab.shares import Share

CONFIG_DIR = Path(__file__).parent / "config"
PRICING_TEXTS = (
    "FUNDING_COST",
    "EXPECTED_LOSS",
    "COST_OF_CAPITAL",
    "OPERATING_COST",
    "RATE_BELOW_FLOOR",
    "RATE_COVERS_FLOOR",
    "NO_RATE_ASKED",
)
INSURANCE_TEXTS = (
    "INS_PD",
    "INS_LGD",
    "INS_SHARE",
    "INS_TERM",
    "INS_LOADING",
    "INS_RATE_BOUND_MIN",
    "INS_RATE_BOUND_MAX",
    "INS_SUBSIDY",
    "ENF_BASE",
    "ENF_PER_PATENT",
    "ENF_LITIGATION",
)


def _texts_complete(texts: dict[str, ReasonText], codes: tuple[str, ...], where: str) -> None:
    missing = [c for c in codes if c not in texts]
    if missing:
        raise ValueError(f"{where}: no text for {missing}")


class LtvCaps(BaseModel):
    """Maximum loan-to-value by patent type, and the tenor cap."""

    model_config = FROZEN
    invention: Share
    utility_model: Share
    design: Share
    max_tenor_months: int = Field(ge=1, le=120)

    def cap(self, patent_type: str) -> float:
        """LTV cap for one patent type."""
        return float(getattr(self, patent_type))


class LtvPolicy(BaseModel):
    """Caps by institution, with a default."""

    model_config = FROZEN
    default: LtvCaps
    institutions: dict[str, LtvCaps] = Field(default_factory=dict)

    def for_institution(self, institution: str) -> LtvCaps:
        """The caps in force for ``institution``."""
        return self.institutions.get(institution, self.default)


class ReasonText(BaseModel):
    """A reason code with its English and Chinese texts."""

    model_config = FROZEN
    code: str = ""
    en: str
    zh: str

    def text(self, lang: Lang) -> str:
        """The text in ``lang``."""
        return self.zh if lang == "zh" else self.en


class RoyaltyPrior(BaseModel):
    """Royalty range of one national-economy industry (GB/T 4754), with where the figures come from."""

    model_config = FROZEN
    name_zh: str
    name_en: str
    range: tuple[Share, Share] = Field(description="Low and high royalty rate, share of net sales.")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> RoyaltyPrior:
        if self.range[0] > self.range[1]:
            raise ValueError(f"royalty range {self.range} is not low, high")
        return self


class RoyaltyPriors(BaseModel):
    """Royalty priors keyed to national-economy industries, and which industry each technology field uses."""

    model_config = FROZEN
    classification: str
    industries: dict[str, RoyaltyPrior]
    tech_fields: dict[str, str]

    @model_validator(mode="after")
    def _every_field_mapped(self) -> RoyaltyPriors:
        from scoring.vocab import TECH_FIELDS

        missing = [f for f in TECH_FIELDS if f not in self.tech_fields]
        if missing:
            raise ValueError(f"valuation.yaml: royalty.tech_fields misses {missing}")
        unknown = {c for c in self.tech_fields.values() if c not in self.industries}
        if unknown:
            raise ValueError(f"valuation.yaml: royalty.tech_fields names unknown industries {sorted(unknown)}")
        return self

    def for_field(self, tech_field: str) -> tuple[str, RoyaltyPrior]:
        """The industry code and royalty prior a technology field uses."""
        code = self.tech_fields[tech_field]
        return code, self.industries[code]


class TaxRates(BaseModel):
    """Enterprise income tax by the borrower's status."""

    model_config = FROZEN
    standard: Share
    high_tech: Share

    def rate(self, high_tech: bool) -> float:
        """The rate for a high and new technology enterprise, or the standard one."""
        return self.high_tech if high_tech else self.standard


PledgeBasis = Literal["p10", "p50", "income", "appraisal", "blend"]
PledgeFigure = Literal["p10", "p50", "income", "appraisal"]


class PledgeValuePolicy(BaseModel):
    """What a pledge counts as the collateral's value: one figure or a blend, and the fallback."""

    model_config = FROZEN
    basis: PledgeBasis = "p50"
    weights: dict[PledgeFigure, Share] = Field(default_factory=dict, description="Blend weights (basis blend).")
    fallback: Literal["p10", "p50"] = Field(default="p10", description="Used when the basis has no figure.")

    @model_validator(mode="after")
    def _weights(self) -> PledgeValuePolicy:
        if self.basis == "blend":
            if not self.weights or abs(sum(self.weights.values()) - 1) > 1e-9:
                raise ValueError("a blend's weights must be given and sum to 1")
        elif self.weights:
            raise ValueError(f"weights apply to basis blend only (basis is {self.basis})")
        return self


class PledgeValueConfig(BaseModel):
    """Pledge-value policy by institution, with a default."""

    model_config = FROZEN
    default: PledgeValuePolicy
    institutions: dict[str, PledgeValuePolicy] = Field(default_factory=dict)

    def for_institution(self, institution: str) -> PledgeValuePolicy:
        """The policy in force for ``institution``."""
        return self.institutions.get(institution, self.default)


VALUATION_TEXTS = (
    "VALUE_DIVERGENT",
    "PLEDGE_BASIS_FALLBACK",
    "BASIS_P10",
    "BASIS_P50",
    "BASIS_INCOME",
    "BASIS_APPRAISAL",
    "BASIS_BLEND",
)


class ValuationAssumptions(BaseModel):
    """Income-approach, reconciliation, pledge-value and liquidation assumptions (``valuation.yaml``)."""

    model_config = FROZEN
    royalty: RoyaltyPriors
    tax_rates: TaxRates
    discount_rate: float = Field(gt=0, le=1)
    max_economic_life_years: float = Field(gt=0, le=30)
    attributable_revenue_share: Share
    divergence_ratio: float = Field(gt=1, le=1000)
    pledge_value: PledgeValueConfig
    liquidation_factor: Share
    disposal_cost_share: Share
    lgd_floor: Share = 0.0
    texts: dict[str, ReasonText]

    @model_validator(mode="after")
    def _every_code_has_a_text(self) -> ValuationAssumptions:
        _texts_complete(self.texts, VALUATION_TEXTS, "valuation.yaml")
        return self


class DecisionRule(BaseModel):
    """If ``metric op value`` then ``decision`` with reason ``code``."""

    model_config = FROZEN
    metric: Literal[
        "pd",
        "ltv",
        "amount_over_max",
        "failed_checks",
        "warned_checks",
        "tenor_over_cap",
        "expected_loss_rate",
        "pledgeable_patents",
    ]
    op: Literal[">", ">=", "<", "<="]
    value: float
    decision: Literal["approve", "refer", "decline"]
    code: str


class DecisionPolicy(BaseModel):
    """Ordered rules; the first match decides, else ``default``."""

    model_config = FROZEN
    rules: tuple[DecisionRule, ...]
    default: Literal["approve", "refer", "decline"] = "approve"


class ReasonCatalogue(BaseModel):
    """Reason texts by model and feature, plus policy reasons by code."""

    model_config = FROZEN
    pd: dict[str, ReasonText]
    lgd: dict[str, ReasonText]
    valuation: dict[str, ReasonText]
    claim_review: dict[str, ReasonText]
    policy: dict[str, ReasonText]
    checks: dict[str, ReasonText]
    notes: dict[str, ReasonText] = Field(description="Remarks beside figures: why a value counts 0, who pledges.")
    contract_items: dict[str, ReasonText] = Field(
        description="The pledge contract's required contents by PledgeContract field, as the reasons name them."
    )


class GuaranteeInsurance(BaseModel):
    """Pricing parameters of pledge-financing guarantee insurance; the premium-rate bounds are annual."""

    model_config = FROZEN
    risk_loading: float = Field(ge=0, le=5)
    expense_ratio: float = Field(ge=0, lt=1)
    min_premium_rate: Share = Field(description="Annual premium rate floor, of the sum insured.")
    max_premium_rate: Share = Field(description="Annual premium rate cap, of the sum insured.")
    premium_subsidy_share: Share = Field(
        default=0.0,
        description="Share of the premium a government programme pays (保费补贴); the borrower pays the rest.",
    )


class EnforcementTier(BaseModel):
    """One tier of patent-enforcement insurance."""

    model_config = FROZEN
    base_premium: float = Field(ge=0)
    per_patent: float = Field(ge=0)
    limit_multiple: float = Field(gt=0)


class EnforcementInsurance(BaseModel):
    """Tiers and litigation loading of patent-enforcement insurance."""

    model_config = FROZEN
    tiers: dict[str, EnforcementTier]
    litigation_loading_per_suit: float = Field(ge=0)
    max_loading: float = Field(ge=0)


class InsuranceConfig(BaseModel):
    """Both insurance products, and the texts of their quotes' reasons by code."""

    model_config = FROZEN
    guarantee: GuaranteeInsurance
    enforcement: EnforcementInsurance
    texts: dict[str, ReasonText] = Field(description="Quote reason texts by code, in zh and en.")

    @model_validator(mode="after")
    def _every_code_has_a_text(self) -> InsuranceConfig:
        _texts_complete(self.texts, INSURANCE_TEXTS, "insurance.yaml")
        return self


class PricingParams(BaseModel):
    """The components of a risk-based rate floor, annual rates of the principal (``scoring/config/pricing.yaml``)."""

    model_config = FROZEN
    funding_cost_rate: float = Field(ge=0, le=0.2)
    capital_requirement: Share = Field(description="Capital held per unit of risk-weighted exposure.")
    risk_weight: float = Field(ge=0, le=2.5, description="Risk weight of the exposure.")
    hurdle_rate: float = Field(ge=0, le=0.5, description="Annual return the capital must earn.")
    operating_cost_rate: float = Field(ge=0, le=0.2)


class PricingConfig(BaseModel):
    """Rate-floor components by institution, with a default, and the texts of pricing reasons."""

    model_config = FROZEN
    default: PricingParams
    institutions: dict[str, PricingParams] = Field(default_factory=dict)
    texts: dict[str, ReasonText]

    @model_validator(mode="after")
    def _every_code_has_a_text(self) -> PricingConfig:
        _texts_complete(self.texts, PRICING_TEXTS, "pricing.yaml")
        return self

    def for_institution(self, institution: str) -> PricingParams:
        """The components in force for ``institution``."""
        return self.institutions.get(institution, self.default)


class ScoringConfig(BaseModel):
    """Everything scoring needs besides models."""

    model_config = FROZEN
    ltv: LtvPolicy
    valuation: ValuationAssumptions
    decision: DecisionPolicy
    reasons: ReasonCatalogue
    insurance: InsuranceConfig
    grades: GradeScale
    pricing: PricingConfig

    @model_validator(mode="after")
    def _every_feature_has_a_reason(self) -> ScoringConfig:
        from scoring.features import CLAIM_FEATURES, LGD_FEATURES, PD_FEATURES, VALUATION_FEATURES

        for model, specs in (
            ("pd", PD_FEATURES),
            ("lgd", LGD_FEATURES),
            ("valuation", VALUATION_FEATURES),
            ("claim_review", CLAIM_FEATURES),
        ):
            missing = [s.name for s in specs if s.name not in getattr(self.reasons, model)]
            if missing:
                raise ValueError(f"reasons.yaml: no {model} reason text for {missing}")
        from scoring.pledges import PledgeContract

        items = set(PledgeContract.model_fields) - set(self.reasons.contract_items)
        if items:
            raise ValueError(f"reasons.yaml: no contract_items text for {sorted(items)}")
        unknown = {r.code for r in self.decision.rules} - set(self.reasons.policy)
        if unknown:
            raise ValueError(f"decision.yaml: policy codes without reason text: {sorted(unknown)}")
        return self


def _read(name: str, override: Path | None) -> object:
    path = override / name if override is not None and (override / name).exists() else CONFIG_DIR / name
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_scoring_config(override_dir: str | Path | None = None) -> ScoringConfig:
    """Load and validate every configuration file (overrides first, then bundled)."""
    o = Path(override_dir) if override_dir else None
    grades_path = o / "grades.yaml" if o is not None and (o / "grades.yaml").exists() else None
    return ScoringConfig(
        ltv=LtvPolicy.model_validate(_read("ltv_caps.yaml", o)),
        valuation=ValuationAssumptions.model_validate(_read("valuation.yaml", o)),
        decision=DecisionPolicy.model_validate(_read("decision.yaml", o)),
        reasons=ReasonCatalogue.model_validate(_read("reasons.yaml", o)),
        insurance=InsuranceConfig.model_validate(_read("insurance.yaml", o)),
        grades=load_grade_scale(grades_path),
        pricing=PricingConfig.model_validate(_read("pricing.yaml", o)),
    )
