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


class ValuationAssumptions(BaseModel):
    """Income-approach and liquidation assumptions."""

    model_config = FROZEN
    royalty_ranges: dict[str, tuple[Share, Share]]
    tax_rate: Share
    discount_rate: float = Field(gt=0, le=1)
    max_economic_life_years: float = Field(gt=0, le=30)
    attributable_revenue_share: Share
    liquidation_factor: Share
    disposal_cost_share: Share
    lgd_floor: Share = 0.0


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


class ReasonText(BaseModel):
    """A reason code with its English and Chinese texts."""

    model_config = FROZEN
    code: str = ""
    en: str
    zh: str

    def text(self, lang: Lang) -> str:
        """The text in ``lang``."""
        return self.zh if lang == "zh" else self.en


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
    """Pricing parameters of pledge-financing guarantee insurance."""

    model_config = FROZEN
    risk_loading: float = Field(ge=0, le=5)
    expense_ratio: float = Field(ge=0, lt=1)
    min_premium_rate: Share
    max_premium_rate: Share


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
    """Both insurance products."""

    model_config = FROZEN
    guarantee: GuaranteeInsurance
    enforcement: EnforcementInsurance


class ScoringConfig(BaseModel):
    """Everything scoring needs besides models."""

    model_config = FROZEN
    ltv: LtvPolicy
    valuation: ValuationAssumptions
    decision: DecisionPolicy
    reasons: ReasonCatalogue
    insurance: InsuranceConfig
    grades: GradeScale

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
    )
