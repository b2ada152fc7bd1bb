"""Risk-based rate floor of a pledge loan, beside the rate the bank asks.

floor = funding cost + lifetime EL rate + cost of capital + operating cost, each an
annual rate of the principal (``scoring/config/pricing.yaml``, ``docs/valuation.md``):

- lifetime EL rate = lifetime PD × LGD (with cover) / (tenor in years): the expected loss
  over the loan's life, spread evenly over its years;
- cost of capital = capital requirement × risk weight × (hurdle rate − funding cost): the
  part of the loan funded by equity must earn the hurdle rather than the funding cost.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from scoring.policy import PricingConfig, PricingParams
from scoring.vocab import FROZEN
from scoring.vocab.lang import Lang
from scoring.vocab.shares import Probability, Share

ComponentCode = Literal["FUNDING_COST", "EXPECTED_LOSS", "COST_OF_CAPITAL", "OPERATING_COST"]
Verdict = Literal["RATE_BELOW_FLOOR", "RATE_COVERS_FLOOR", "NO_RATE_ASKED"]


class RateComponent(BaseModel):
    """One component of the floor, with its figure."""

    model_config = FROZEN
    code: ComponentCode
    text: str
    rate: float = Field(description="Annual rate of the principal.")


class PricingReason(BaseModel):
    """Whether the rate asked covers the floor."""

    model_config = FROZEN
    code: Verdict
    text: str
    value: float | None = Field(description="Rate asked − floor (None when no rate was asked).")


class RateFloor(BaseModel):
    """The risk-based floor, its components and the rate asked."""

    model_config = FROZEN
    floor_rate: float = Field(description="Σ components: the lowest annual rate that covers cost and risk.")
    components: list[RateComponent]
    asked_rate: float | None = Field(description="LoanTerms.annual_rate; None when not stated.")
    margin: float | None = Field(description="asked_rate − floor_rate; None when no rate was asked.")
    covers_risk: bool | None = Field(description="asked_rate ≥ floor_rate; None when no rate was asked.")
    lifetime_pd: Probability = Field(description="Cumulative PD over the tenor the EL component used.")
    lgd: Share = Field(description="LGD (with cover) the EL component used.")
    tenor_months: int
    reason: PricingReason


def rate_floor(
    *,
    lifetime_pd: float,
    lgd: float,
    tenor_months: int,
    asked_rate: float | None,
    params: PricingParams,
    texts: PricingConfig,
    lang: Lang = "en",
) -> RateFloor:
    """The risk-based rate floor of one loan.

    Parameters
    ----------
    lifetime_pd
        Cumulative probability of default over the tenor.
    lgd
        Loss given default with cover (share of EAD).
    tenor_months
        Loan tenor, months (the EL is spread over tenor / 12 years).
    asked_rate
        Nominal annual rate the bank asks; None when not stated.
    params, texts
        The institution's components and the reason texts.
    lang
        Language of the texts.

    Returns
    -------
    RateFloor
        Floor (annual rate), each component, and whether the asked rate covers it.
    """
    years = tenor_months / 12
    figures: dict[ComponentCode, float] = {
        "FUNDING_COST": params.funding_cost_rate,
        "EXPECTED_LOSS": lifetime_pd * lgd / years,
        "COST_OF_CAPITAL": params.capital_requirement
        * params.risk_weight
        * max(params.hurdle_rate - params.funding_cost_rate, 0.0),
        "OPERATING_COST": params.operating_cost_rate,
    }
    t = texts.texts
    components = [RateComponent(code=c, text=t[c].text(lang), rate=v) for c, v in figures.items()]
    floor = sum(figures.values())
    margin = None if asked_rate is None else asked_rate - floor
    verdict: Verdict = (
        "NO_RATE_ASKED" if margin is None else "RATE_BELOW_FLOOR" if margin < -1e-12 else "RATE_COVERS_FLOOR"
    )
    return RateFloor(
        floor_rate=floor,
        components=components,
        asked_rate=asked_rate,
        margin=margin,
        covers_risk=None if margin is None else verdict == "RATE_COVERS_FLOOR",
        lifetime_pd=lifetime_pd,
        lgd=lgd,
        tenor_months=tenor_months,
        reason=PricingReason(code=verdict, text=t[verdict].text(lang), value=margin),
    )
