"""Loan terms, the true 12-month PD, and what happened to each loan."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scoring.vocab import INDUSTRIES, LOAN_PURPOSES, NPL_CLASSES, REGIONS
from scoring.vocab.arrays import AnyArray, BoolArray, DateArray, FloatArray, IndexArray, ObjectArray
from training.synth.params import LoanParams, OutcomeParams, PDParams
from training.synth.sampling import interpolate, pick, sigmoid, weights

FUNDS = ("fund_guiyang", "fund_zunyi", "fund_province")
SUBSTANDARD = NPL_CLASSES.index("substandard")


def bank_ids(n_banks: int) -> ObjectArray:
    """``bank_01`` … identifiers."""
    return np.array([f"bank_{i + 1:02d}" for i in range(n_banks)], dtype=object)


def draw_terms(
    rng: np.random.Generator,
    p: LoanParams,
    *,
    vintage_frac: FloatArray,
    package_true: FloatArray,
    non_invention_share: FloatArray,
    revenue: FloatArray,
    region: IndexArray,
) -> dict[str, AnyArray]:
    """Bank, amount, tenor, appraisal and cover of each loan.

    The amount follows the bank's LTV policy applied to the appraised value;
    the appraisal is the true package value × a bias × noise, grossly
    inflated for a few loans.
    """
    n = len(vintage_frac)
    bank = pick(rng, np.asarray(p.bank_mix), n)
    ltv_target = (
        np.asarray(p.bank_ltv_median)[bank]
        * np.exp(p.ltv_log_sd * rng.standard_normal(n))
        * (1.0 - p.utility_ltv_discount * non_invention_share)
    )
    ltv_target = np.clip(ltv_target, *p.ltv_bounds)
    inflated = rng.random(n) < p.inflated_appraisal_share
    lo, hi = p.inflated_multiplier
    factor = p.appraisal_bias * np.exp(p.appraisal_noise_sd * rng.standard_normal(n))
    factor = np.where(inflated, factor * (lo + (hi - lo) * rng.random(n)), factor)
    appraised = np.maximum(np.round(package_true * factor, -2), 100.0)
    raw = np.minimum(ltv_target * appraised, p.amount_max_to_revenue * revenue)
    unit = p.amount_rounding_cny
    amount = np.where(raw >= p.amount_min_cny, np.round(raw / unit) * unit, np.maximum(np.round(raw, -3), 1000.0))
    tenors = np.array(list(p.tenor_months))
    tenor = tenors[pick(rng, np.array(list(p.tenor_months.values())), n)]
    purpose = pick(rng, weights(p.purpose_mix, LOAN_PURPOSES), n)
    lo_s, hi_s = p.mixed_ip_share_range
    ip_share = np.where(rng.random(n) < p.ip_only_share, 1.0, np.round(lo_s + (hi_s - lo_s) * rng.random(n), 2))
    insured = rng.random(n) < interpolate(p.insured_share_first_last, vintage_frac)
    lo_c, hi_c = p.insured_cover_range
    insured_share = np.where(insured, np.round(lo_c + (hi_c - lo_c) * rng.random(n), 2), 0.0)
    pooled = rng.random(n) < interpolate(p.pooled_share_first_last, vintage_frac)
    home = np.array([FUNDS.index(p.fund_by_region.get(r, "fund_province")) for r in REGIONS])[region]
    fund = np.where(
        (home != FUNDS.index("fund_province")) & (rng.random(n) >= p.home_fund_share),
        FUNDS.index("fund_province"),
        home,
    )
    return {
        "bank": bank,
        "amount_cny": amount,
        "tenor_months": tenor.astype(np.int64),
        "purpose": purpose,
        "appraised_value_cny": appraised,
        "ltv": np.round(amount / appraised, 4),
        "ip_share_of_collateral": ip_share,
        "insured_share": insured_share,
        "pooled": pooled,
        "fund": np.where(pooled, fund, -1),
        "inflated_appraisal": inflated,
    }


def true_pd(
    rng: np.random.Generator,
    p: PDParams,
    *,
    ent: dict[str, AnyArray],
    terms: dict[str, AnyArray],
    package_true: FloatArray,
    year: NDArray[np.int64],
) -> FloatArray:
    """True 12-month PD: logistic in borrower and loan facts plus a small latent part.

    ``ent`` holds the borrower's columns aligned with the loans; the LTV term
    uses the *true* package value (a model sees only an estimate of it).
    """
    n = len(year)
    true_ltv = terms["amount_cny"] / np.maximum(package_true, 1.0)
    macro = np.array([p.macro_by_year.get(int(y), 0.0) for y in range(year.min(), year.max() + 1)])
    logit = (
        p.intercept
        + p.leverage * (ent["leverage"] - 0.5)
        + p.log1p_overdue * np.log1p(ent["prior_overdue_count"])
        + p.bad_credit * ent["bad_credit_3y"]
        + p.log_years_registered * np.log(ent["years_registered"] / 8.0)
        + p.log_revenue * np.log(ent["revenue_cny"] / 30e6)
        + p.rd_intensity * (ent["rd_intensity"] - 0.045)
        + p.high_tech * ent["high_tech"]
        + p.specialised_sme * ent["specialised_sme"]
        + p.log_true_ltv * np.log(true_ltv / 0.3)
        + p.tenor_per_month * (terms["tenor_months"] - 12)
        + p.non_ip_collateral * (1.0 - terms["ip_share_of_collateral"])
        + np.array([p.industry[k] for k in INDUSTRIES])[ent["industry"]]
        + macro[year - year.min()]
        + p.latent_borrower_sd * ent["distress"]
        + p.latent_loan_sd * rng.standard_normal(n)
    )
    return sigmoid(logit)


def _npl_class(rng: np.random.Generator, p: OutcomeParams, default: BoolArray, dpd: NDArray[np.int64]) -> IndexArray:
    bucket = SUBSTANDARD + (dpd >= 180) + (dpd >= 360)
    shift = np.where(rng.random(len(dpd)) < p.npl_misclass_share, rng.choice([-1, 1], len(dpd)), 0)
    bad = np.clip(bucket + shift, SUBSTANDARD, len(NPL_CLASSES) - 1)
    current = np.where(
        (dpd > 30) | (rng.random(len(dpd)) < p.special_mention_share_current),
        NPL_CLASSES.index("special_mention"),
        NPL_CLASSES.index("normal"),
    )
    return np.where(default, bad, current)


def draw_outcomes(
    rng: np.random.Generator,
    p: OutcomeParams,
    *,
    pd_true: FloatArray,
    origination: DateArray,
    inflated: BoolArray,
    package_true: FloatArray,
) -> dict[str, AnyArray]:
    """Default within 12 months, its date, days past due, class and disposal price."""
    n = len(pd_true)
    default = rng.random(n) < pd_true
    lo, hi = p.default_day_range
    days = lo + (hi - lo) * rng.beta(*p.default_timing_beta, n)
    early = inflated & (rng.random(n) < p.early_default_share_inflated)
    days = np.where(early, lo + (90 - lo) * rng.random(n), days)
    default_date = np.where(default, origination + np.rint(days).astype("timedelta64[D]"), np.datetime64("NaT"))
    late = rng.integers(p.late_payment_days[0], p.late_payment_days[1] + 1, n)
    current_dpd = np.where(rng.random(n) < p.late_payment_share, late, 0)
    default_dpd = 90 + np.rint(rng.gamma(*p.default_dpd_gamma, n))
    dpd = np.where(default, np.minimum(default_dpd, 1000), current_dpd).astype(np.int64)
    disposal = package_true * p.disposal_haircut * np.exp(p.disposal_noise_sd * rng.standard_normal(n))
    sold = default & (rng.random(n) >= p.disposal_missing_share)
    return {
        "default_12m": default,
        "days_past_due": dpd,
        "npl_class": _npl_class(rng, p, default, dpd),
        "default_date": default_date,
        "disposal_price_cny": np.where(sold, np.round(disposal, -2), np.nan),
    }
