"""IP insurance priced from the same risk numbers: pledge-guarantee and patent-enforcement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from scoring.policy import InsuranceConfig
from scoring.types import Patent
from scoring.vocab import FROZEN
from scoring.vocab.lang import Lang


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


ShareBasis = Literal["fund_rules", "what_if"]


class PremiumSubsidy(BaseModel):
    """Who pays the premium: a government programme's share (configuration) and the borrower's rest."""

    model_config = FROZEN
    subsidy_share: float = Field(ge=0, le=1)
    government_cny: float
    borrower_cny: float


class GuaranteeQuote(BaseModel):
    """Pledge-financing guarantee insurance (保证保险) quote over the policy term."""

    model_config = FROZEN
    sum_insured: float = Field(description="What the insurer pays at default at most, CNY.")
    insurer_expected_loss: float = Field(
        description="Lifetime PD × min(insurer's share × EAD × LGD without cover, sum insured), CNY over the term."
    )
    premium: float = Field(description="Premium over the whole policy term, CNY.")
    premium_rate: float = Field(description="Annual premium rate: premium / sum insured / term in years.")
    expected_loss_ratio: float = Field(description="Insurer's expected loss / premium.")
    split: LossSplit | None = Field(default=None, description="The what-if split (share_basis what_if only).")
    term_months: int | None = Field(default=None, description="Policy term: the loan's tenor, months.")
    annual_premium: float | None = Field(default=None, description="Premium per year of the term, CNY.")
    lifetime_pd: float | None = Field(default=None, description="Cumulative PD over the term.")
    insurer_share: float | None = Field(default=None, description="Insurer's share of the loss at default.")
    share_basis: ShareBasis | None = Field(
        default=None,
        description="fund_rules: the insurer's share from the fund rule version the loan is pooled under; "
        "what_if: the split the caller typed.",
    )
    subsidy: PremiumSubsidy | None = None
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


def _reason(texts: InsuranceConfig, lang: Lang, code: str, value: float, **fmt: object) -> QuoteReason:
    return QuoteReason(code=code, text=texts.texts[code].text(lang).format(**fmt), value=value)


def quote_guarantee(
    *,
    lifetime_pd: float,
    lgd_without_cover: float,
    ead: float,
    term_months: int,
    insurer_share: float,
    sum_insured: float,
    config: InsuranceConfig,
    share_basis: ShareBasis,
    split: LossSplit | None = None,
    lang: Lang = "en",
) -> GuaranteeQuote:
    """Price guarantee insurance from the lifetime expected loss of the insurer's share.

    Parameters
    ----------
    lifetime_pd
        Cumulative probability of default over the policy term (the loan's tenor).
    lgd_without_cover
        LGD after collateral recovery, before any cover: recoveries are shared
        back pro rata, so the insurer keeps this part of what it paid.
    ead
        Exposure at default, CNY.
    term_months
        Policy term, months; the premium is quoted as an annual rate over it.
    insurer_share
        Insurer's share of the loss at default (from the fund's rules, or the what-if split).
    sum_insured
        The insurer's maximum payment, CNY.
    config
        Loading, expense ratio, annual premium-rate bounds, subsidy share and texts.
    share_basis, split
        Where ``insurer_share`` came from, and the what-if split when typed.
    lang
        Language of the reason texts.

    Returns
    -------
    GuaranteeQuote
        Premium over the term (CNY), its annual rate, the insurer's lifetime
        expected loss, and who pays the premium.
    """
    params = config.guarantee
    years = term_months / 12
    el = lifetime_pd * min(lgd_without_cover * ead * insurer_share, sum_insured)
    raw = el * (1 + params.risk_loading) / (1 - params.expense_ratio)
    raw_rate = raw / sum_insured / years if sum_insured else 0.0
    rate = min(max(raw_rate, params.min_premium_rate), params.max_premium_rate) if sum_insured else 0.0
    premium = rate * sum_insured * years
    reasons = [
        _reason(config, lang, "INS_PD", lifetime_pd, months=term_months),
        _reason(config, lang, "INS_LGD", lgd_without_cover),
        _reason(config, lang, "INS_SHARE", insurer_share),
        _reason(config, lang, "INS_TERM", float(term_months)),
        _reason(config, lang, "INS_LOADING", raw / el if el > 0 else 0.0),
    ]
    if sum_insured and rate != raw_rate:
        reasons.append(_reason(config, lang, "INS_RATE_BOUND_MIN" if rate > raw_rate else "INS_RATE_BOUND_MAX", rate))
    government = premium * params.premium_subsidy_share
    reasons.append(_reason(config, lang, "INS_SUBSIDY", params.premium_subsidy_share))
    return GuaranteeQuote(
        sum_insured=sum_insured,
        insurer_expected_loss=el,
        premium=premium,
        premium_rate=rate,
        expected_loss_ratio=el / premium if premium else 0.0,
        split=split,
        term_months=term_months,
        annual_premium=premium / years,
        lifetime_pd=lifetime_pd,
        insurer_share=insurer_share,
        share_basis=share_basis,
        subsidy=PremiumSubsidy(
            subsidy_share=params.premium_subsidy_share, government_cny=government, borrower_cny=premium - government
        ),
        reasons=reasons,
    )


def quote_enforcement(
    patents: Sequence[Patent], *, tier: Literal["basic", "enhanced"] | str, config: InsuranceConfig, lang: Lang = "en"
) -> EnforcementQuote:
    """Price patent-enforcement insurance: base + per patent, loaded for litigation history."""
    params = config.enforcement
    t = params.tiers[tier]
    base = t.base_premium + t.per_patent * len(patents)
    suits = sum(p.litigation_count for p in patents)
    loading = min(params.max_loading, params.litigation_loading_per_suit * suits / max(len(patents), 1))
    reasons = [
        _reason(config, lang, "ENF_BASE", t.base_premium, tier=tier),
        _reason(config, lang, "ENF_PER_PATENT", t.per_patent * len(patents)),
        _reason(config, lang, "ENF_LITIGATION", loading),
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
