"""True value by relief from royalty, and the observed prices derived from it.

value = Σₜ Rₜ × royalty × (1 − tax) / (1 + r)ᵗ over the remaining economic
life L (≤ remaining legal life), with Rₜ = R₁ (1 − decay)ᵗ⁻¹, whole years
plus the fractional last year pro rata, exactly as the income approach
(:mod:`scoring.income`) computes it, with its discount rate.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from scoring.vocab import INDUSTRIES, LEGAL_STATUSES, PATENT_TYPES, PRICE_SOURCES, TECH_FIELDS
from scoring.vocab.arrays import AnyArray, BoolArray, DateArray, FloatArray, IndexArray
from training.synth.params import PriceParams, ValueParams
from training.synth.patents import statutory_terms
from training.synth.sampling import age_years, lookup, pick, weights, years_to_days

APPRAISAL = PRICE_SOURCES.index("appraisal")
TRANSFER = PRICE_SOURCES.index("transfer")
LICENCE = PRICE_SOURCES.index("licence")
DISPOSAL = PRICE_SOURCES.index("disposal")


def value_drivers(
    rng: np.random.Generator,
    p: ValueParams,
    pat: dict[str, AnyArray],
    *,
    owner_revenue: FloatArray,
    owner: IndexArray,
    high_tech: BoolArray,
) -> dict[str, FloatArray]:
    """Attributable revenue (CNY a year), royalty rate and tax rate of each patent.

    ``owner_revenue``, ``owner`` and ``high_tech`` describe the borrower
    exploiting each patent (its revenue, its index, its tax status).  A
    patent's attributable revenue is a share of its owner's revenue, and the
    shares of one owner's patents sum to at most ``attributable_share_cap``
    (scaled down together when they would not): no appraiser accepts a patent
    earning more than the business that exploits it.
    """
    q = pat["quality"]
    log_share = (
        np.log(p.attributable_share_median)
        + lookup(p.industry_revenue_log_shift, INDUSTRIES)[pat["industry"]]
        + p.revenue_quality_loading * q
        + p.revenue_noise_sd * rng.standard_normal(len(q))
    )
    share = np.exp(log_share)
    total = np.bincount(owner, weights=share)[owner]
    share = share * np.minimum(1.0, p.attributable_share_cap / total)
    lo = np.array([p.royalty_ranges[f][0] for f in TECH_FIELDS])[pat["tech_field"]]
    hi = np.array([p.royalty_ranges[f][1] for f in TECH_FIELDS])[pat["tech_field"]]
    royalty = (lo + (hi - lo) * ndtr(p.royalty_quality_loading * q)) * lookup(p.royalty_type_factor, PATENT_TYPES)[
        pat["patent_type"]
    ]
    tax = np.where(high_tech, p.high_tech_tax_rate, p.tax_rate)
    return {"revenue": share * owner_revenue, "royalty": royalty, "tax": tax}


def annuity_factors(rate: float, decay: float, years: FloatArray) -> FloatArray:
    """Σₜ (1 − decay)ᵗ⁻¹ / (1 + r)ᵗ over whole years, plus the fractional last year pro rata.

    With ``decay = 0`` this is :func:`scoring.income.annuity_factor`, vectorised:
    the truth discounts exactly as the income approach does.
    """
    whole = np.floor(years)
    a = (1.0 - decay) / (1.0 + rate)
    head = a * (1.0 - a**whole) / (1.0 - a) / (1.0 - decay)
    tail = (years - whole) * a ** (whole + 1) / (1.0 - decay)
    return np.asarray(head + tail, dtype=np.float64)


def true_value(
    p: ValueParams, pat: dict[str, AnyArray], drivers: dict[str, FloatArray], as_of: DateArray
) -> FloatArray:
    """Relief-from-royalty value (CNY) of each patent at ``as_of`` (datetime64[D])."""
    legal_left = statutory_terms(pat["patent_type"], pat["filing_date"]) - age_years(as_of, pat["filing_date"])
    cap = lookup(p.economic_life_cap_years, TECH_FIELDS)[pat["tech_field"]]
    life: FloatArray = np.clip(np.minimum(legal_left, cap), 0.25, None)
    annuity = annuity_factors(p.discount_rate, p.revenue_decay, life)
    status = np.take(lookup(p.status_factor, LEGAL_STATUSES), pat["legal_status"])
    return drivers["revenue"] * drivers["royalty"] * (1.0 - drivers["tax"]) * annuity * status


def observed_prices(
    rng: np.random.Generator,
    p: PriceParams,
    vp: ValueParams,
    pat: dict[str, AnyArray],
    drivers: dict[str, FloatArray],
    as_of: DateArray,
) -> dict[str, AnyArray]:
    """Observed prices, their source and date, and the true value they refer to.

    A price is ``true value at the price date × source bias × lognormal noise``.
    Every price is dated on or before the loan's origination (appraisals just
    before it; transfers, licences and earlier disposals up to a few years
    before), so no price reveals the loan's outcome.  Counts are made
    consistent with the source (a transfer price implies a transfer).

    Returns
    -------
    dict
        ``observed_price_cny`` (NaN when none), ``price_source`` (index, -1
        when none), ``price_date`` (NaT when none), ``true_value_cny`` (as of
        the price date when priced, else the origination date), updated
        ``transfers_count``/``licences_count``/``prior_pledges_count``.
    """
    n = len(as_of)
    priced = rng.random(n) < p.observed_share
    source = np.where(priced, pick(rng, weights(p.source_mix, PRICE_SOURCES), n), -1)
    lead_days = rng.integers(p.appraisal_lead_days[0], p.appraisal_lead_days[1] + 1, n)
    market = p.market_lead_years[0] + (p.market_lead_years[1] - p.market_lead_years[0]) * rng.random(n)
    max_lead = np.maximum(age_years(as_of, pat["filing_date"]) - 0.1, 0.0)
    lead = np.where(
        source == APPRAISAL, lead_days.astype("timedelta64[D]"), years_to_days(np.minimum(market, max_lead))
    )
    date = np.where(priced, as_of - lead, np.datetime64("NaT"))
    value_at = true_value(vp, pat, drivers, np.where(priced, date, as_of))
    bias = np.array([p.source_bias[s] for s in PRICE_SOURCES])[np.maximum(source, 0)]
    price = value_at * bias * np.exp(p.noise_sd * rng.standard_normal(n))
    disposal = source == DISPOSAL
    return {
        "observed_price_cny": np.where(priced, np.round(price, -2), np.nan),
        "price_source": source,
        "price_date": date,
        "true_value_cny": value_at,
        "transfers_count": np.where(
            (source == TRANSFER) | disposal, np.maximum(pat["transfers_count"], 1), pat["transfers_count"]
        ),
        "licences_count": np.where(source == LICENCE, np.maximum(pat["licences_count"], 1), pat["licences_count"]),
        "prior_pledges_count": np.where(
            disposal, np.maximum(pat["prior_pledges_count"], 1), pat["prior_pledges_count"]
        ),
    }
