"""IP insurance priced from the same risk numbers: pledge-guarantee and patent-enforcement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from scoring.policy import EnforcementInsurance, GuaranteeInsurance
from scoring.types import Patent
from scoring.vocab import FROZEN


class LossSplit(BaseModel):
    """Shares of a default loss (after collateral recovery) among government, bank and insurer."""

    model_config = FROZEN
    government: float = Field(ge=0, le=1)
    bank: float = Field(ge=0, le=1)
    insurer: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> LossSplit:
        total = self.government + self.bank + self.insurer
        if abs(total - 1) > 1e-9:
            raise ValueError(f"government + bank + insurer must sum to 1 (got {total:.6g})")
        return self


class QuoteReason(BaseModel):
    """One driver of a premium, with its figure."""

    model_config = FROZEN
    code: str
    text: str
    value: float


class GuaranteeQuote(BaseModel):
    """Pledge-financing guarantee insurance (保证保险) quote."""

    model_config = FROZEN
    sum_insured: float = Field(description="EAD × insured share, CNY.")
    insurer_expected_loss: float = Field(description="PD × min(insurer's share of the loss, sum insured), CNY.")
    premium: float
    premium_rate: float = Field(description="Premium / sum insured.")
    expected_loss_ratio: float = Field(description="Insurer's expected loss / premium.")
    split: LossSplit
    reasons: list[QuoteReason]


class EnforcementQuote(BaseModel):
    """Patent-enforcement insurance quote for a package."""

    model_config = FROZEN
    tier: str
    patents: int
    base_premium: float
    litigation_loading: float
    premium: float
    limit: float = Field(description="Indemnity limit: limit multiple × premium before loading, CNY.")
    reasons: list[QuoteReason]


def quote_guarantee(
    *,
    pd: float,
    lgd_without_cover: float,
    ead: float,
    insured_share: float,
    split: LossSplit,
    params: GuaranteeInsurance,
) -> GuaranteeQuote:
    """Price guarantee insurance from PD and LGD.

    Parameters
    ----------
    pd
        Calibrated 12-month PD.
    lgd_without_cover
        LGD after collateral recovery, before any cover.
    ead
        Exposure at default, CNY.
    insured_share
        Share of the principal insured (sets the sum insured, a cap on the insurer's loss).
    split
        How the post-recovery loss is shared.
    params
        Loading, expense ratio and premium-rate bounds.

    Returns
    -------
    GuaranteeQuote
        Premium in CNY, its rate, and the insurer's expected loss ratio at that premium.
    """
    sum_insured = ead * insured_share
    loss_if_default = min(lgd_without_cover * ead * split.insurer, sum_insured)
    el = pd * loss_if_default
    raw = el * (1 + params.risk_loading) / (1 - params.expense_ratio)
    premium = min(max(raw, params.min_premium_rate * sum_insured), params.max_premium_rate * sum_insured)
    reasons = [
        QuoteReason(code="INS_PD", text="12-month probability of default", value=pd),
        QuoteReason(code="INS_LGD", text="Loss after collateral recovery, share of exposure", value=lgd_without_cover),
        QuoteReason(code="INS_SHARE", text="Insurer's share of the loss", value=split.insurer),
        QuoteReason(code="INS_LOADING", text="Risk loading and expenses", value=raw / el if el > 0 else 0.0),
    ]
    if premium != raw:
        bound = "minimum" if premium > raw else "maximum"
        reasons.append(
            QuoteReason(
                code="INS_RATE_BOUND",
                text=f"Premium set at the {bound} rate",
                value=premium / sum_insured if sum_insured else 0.0,
            )
        )
    return GuaranteeQuote(
        sum_insured=sum_insured,
        insurer_expected_loss=el,
        premium=premium,
        premium_rate=premium / sum_insured if sum_insured else 0.0,
        expected_loss_ratio=el / premium if premium else 0.0,
        split=split,
        reasons=reasons,
    )


def quote_enforcement(
    patents: Sequence[Patent], *, tier: Literal["basic", "enhanced"] | str, params: EnforcementInsurance
) -> EnforcementQuote:
    """Price patent-enforcement insurance: base + per patent, loaded for litigation history."""
    t = params.tiers[tier]
    base = t.base_premium + t.per_patent * len(patents)
    suits = sum(p.litigation_count for p in patents)
    loading = min(params.max_loading, params.litigation_loading_per_suit * suits / max(len(patents), 1))
    reasons = [
        QuoteReason(code="ENF_BASE", text=f"Base premium of the {tier} tier", value=t.base_premium),
        QuoteReason(code="ENF_PER_PATENT", text="Premium per patent covered", value=t.per_patent * len(patents)),
        QuoteReason(code="ENF_LITIGATION", text="Loading for past litigation per patent", value=loading),
    ]
    return EnforcementQuote(
        tier=tier,
        patents=len(patents),
        base_premium=base,
        litigation_loading=loading,
        premium=base * (1 + loading),
        limit=base * t.limit_multiple,
        reasons=reasons,
    )
