"""Income approach: relief from royalty over the remaining economic life.

The royalty range is the prior of the national-economy industry (GB/T 4754) the patent's
technology field maps to, with its source; the tax rate follows the borrower's status
(15% for a high and new technology enterprise, else 25%).  See ``docs/valuation.md``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scoring.policy import ValuationAssumptions
from scoring.types import Patent

DAYS_PER_YEAR = 365.25


class IncomeApproach(BaseModel):
    """Reference value by relief from royalty, with every assumption it used."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float = Field(description="Present value of royalties saved, CNY.")
    value_low: float = Field(description="At the low end of the royalty range, CNY.")
    value_high: float = Field(description="At the high end of the royalty range, CNY.")
    royalty_rate: float
    royalty_range: tuple[float, float]
    royalty_industry: str | None = Field(default=None, description="GB/T 4754 industry code of the royalty prior.")
    royalty_source: str | None = Field(default=None, description="Where the royalty range comes from.")
    discount_rate: float
    tax_rate: float
    tax_basis: Literal["high_tech", "standard"] | None = Field(
        default=None, description="high_tech: 15% for a high and new technology enterprise; standard: 25%."
    )
    remaining_economic_life_years: float
    revenue_used_cny: float = Field(description="Annual revenue attributable to this patent, CNY.")


def annuity_factor(rate: float, years: float) -> float:
    """Σ 1/(1+r)^t for t = 1..⌊years⌋, plus the fractional last year pro rata."""
    whole = int(years)
    factor = sum(1 / (1 + rate) ** t for t in range(1, whole + 1))
    return factor + (years - whole) / (1 + rate) ** (whole + 1)


def relief_from_royalty(
    patent: Patent,
    *,
    as_of: date,
    revenue: float | None,
    assumptions: ValuationAssumptions,
    high_tech: bool = False,
) -> IncomeApproach | None:
    """Value = Σₜ revenue × royalty × (1 − tax) / (1 + r)ᵗ over the remaining economic life.

    Parameters
    ----------
    patent
        The patent (its type sets the legal life, its field the royalty range).
    as_of
        Valuation date.
    revenue
        Annual revenue attributable to the patent, CNY; None gives no reference value.
    assumptions
        Royalty priors, tax rates, discount rate, economic-life cap.
    high_tech
        The owner is a high and new technology enterprise (lower income tax).

    Returns
    -------
    IncomeApproach or None
        None when no revenue is known.
    """
    if revenue is None:
        return None
    industry, prior = assumptions.royalty.for_field(patent.tech_field)
    low, high = prior.range
    tax = assumptions.tax_rates.rate(high_tech)
    legal_left = max(0.0, (patent.expiry() - as_of).days / DAYS_PER_YEAR)
    life = min(legal_left, assumptions.max_economic_life_years)
    factor = annuity_factor(assumptions.discount_rate, life) * (1 - tax) * revenue
    mid = (low + high) / 2
    return IncomeApproach(
        value=factor * mid,
        value_low=factor * low,
        value_high=factor * high,
        royalty_rate=mid,
        royalty_range=(low, high),
        royalty_industry=industry,
        royalty_source=prior.source,
        discount_rate=assumptions.discount_rate,
        tax_rate=tax,
        tax_basis="high_tech" if high_tech else "standard",
        remaining_economic_life_years=round(life, 3),
        revenue_used_cny=revenue,
    )
