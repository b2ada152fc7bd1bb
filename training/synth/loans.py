"""Loan terms and rate, the true PD over the tenor, and when each loan defaulted."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scoring.classification import minimum_class
from scoring.vocab import INDUSTRIES, LOAN_PURPOSES, NPL_CLASSES, REGIONS
from scoring.vocab.arrays import AnyArray, BoolArray, DateArray, FloatArray, IndexArray, ObjectArray
from training.synth.params import LoanParams, OutcomeParams, PDParams, RateParams
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


def true_pd_logit(
    rng: np.random.Generator,
    p: PDParams,
    *,
    ent: dict[str, AnyArray],
    terms: dict[str, AnyArray],
    package_true: FloatArray,
    year: NDArray[np.int64],
) -> FloatArray:
    """Log-odds of the true 12-month PD before the rate's burden: borrower and loan facts plus a small latent part.

    ``ent`` holds the borrower's columns aligned with the loans; the LTV term
    uses the *true* package value (a model sees only an estimate of it).
    """
    n = len(year)
    true_ltv = terms["amount_cny"] / np.maximum(package_true, 1.0)
    macro = np.array([p.macro_by_year.get(int(y), 0.0) for y in range(year.min(), year.max() + 1)])
    return np.asarray(
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
        + p.latent_loan_sd * rng.standard_normal(n),
        dtype=np.float64,
    )


def loan_rates(
    rng: np.random.Generator, p: RateParams, *, logit: FloatArray, year: NDArray[np.int64], pooled: BoolArray
) -> dict[str, FloatArray]:
    """Nominal annual rate (LPR of the year + a spread by the bank's view of risk) and the subsidy.

    The bank sees the risk through noise (its own scorecard); a programme pays
    part of the LPR back to the borrower (贴息) on a share of pooled loans, so
    the borrower's net rate is lower while the loan's nominal rate is unchanged.
    """
    n = len(logit)
    lpr = np.array([p.lpr_by_year.get(int(y), p.lpr_by_year[max(p.lpr_by_year)]) for y in year.tolist()])
    view = logit + p.bank_view_noise_sd * rng.standard_normal(n)
    ref = float(np.log(p.reference_pd / (1 - p.reference_pd)))
    spread = np.clip(p.spread_at_reference + p.spread_per_logit * (view - ref), *p.spread_bounds)
    rate = np.round(lpr + spread, 4)
    subsidised = pooled & (rng.random(n) < p.subsidy_share_pooled)
    subsidy = np.where(subsidised, np.round(p.subsidy_of_lpr * lpr, 4), 0.0)
    return {"annual_rate": rate, "subsidy_rate": subsidy, "net_rate": rate - subsidy}


def true_pd(logit: FloatArray, p: RateParams, net_rate: FloatArray) -> FloatArray:
    """True 12-month PD: the facts' log-odds plus the burden of the rate the borrower pays."""
    return sigmoid(logit + p.burden_per_rate * (net_rate - p.burden_reference_rate))


def pd_over(pd_12m: FloatArray, months: FloatArray, shape: float) -> FloatArray:
    """Cumulative PD over ``months``: H(t) = −ln(1 − PD₁₂) (t / 12)^shape (Weibull proportional hazard)."""
    return np.asarray(1.0 - (1.0 - pd_12m) ** ((np.asarray(months, dtype=np.float64) / 12.0) ** shape))


def _npl_class(rng: np.random.Generator, p: OutcomeParams, default: BoolArray, dpd: NDArray[np.int64]) -> IndexArray:
    """Class of each loan: at least the 2023 floor of its days past due (90/270/360), sometimes one worse."""
    floor = np.array([NPL_CLASSES.index(minimum_class(int(d))) for d in dpd.tolist()], dtype=np.intp)
    worse = rng.random(len(dpd)) < p.npl_misclass_share
    bad = np.minimum(floor + worse, len(NPL_CLASSES) - 1)
    current = np.where(
        (dpd > 30) | (rng.random(len(dpd)) < p.special_mention_share_current),
        NPL_CLASSES.index("special_mention"),
        NPL_CLASSES.index("normal"),
    )
    return np.where(default, np.maximum(bad, SUBSTANDARD), current)


def draw_outcomes(
    rng: np.random.Generator,
    p: OutcomeParams,
    *,
    pd_12m: FloatArray,
    tenor_months: NDArray[np.int64],
    origination: DateArray,
    inflated: BoolArray,
    observed_until: np.datetime64,
) -> dict[str, AnyArray]:
    """Default over the tenor (Weibull hazard through the 12-month PD), its date, days past due and class.

    ``default`` is a default within the tenor on or before ``observed_until``
    (later ones are censored: not yet seen); ``default_12m`` one within 365 days.
    """
    n = len(pd_12m)
    h12 = -np.log1p(-pd_12m)
    months = 12.0 * (rng.exponential(1.0, n) / h12) ** (1.0 / p.hazard_shape)
    days = np.maximum(months * 365.25 / 12.0, p.earliest_default_days)
    early = inflated & (days <= 365) & (rng.random(n) < p.early_default_share_inflated)
    days = np.where(early, p.earliest_default_days + (90 - p.earliest_default_days) * rng.random(n), days)
    in_tenor = months <= tenor_months
    date = origination + np.rint(np.minimum(days, 40_000)).astype("timedelta64[D]")
    default = in_tenor & (date <= observed_until)
    default_date = np.where(default, date, np.datetime64("NaT"))
    late = rng.integers(p.late_payment_days[0], p.late_payment_days[1] + 1, n)
    current_dpd = np.where(rng.random(n) < p.late_payment_share, late, 0)
    since = (observed_until - np.where(default, date, observed_until)).astype("timedelta64[D]").astype(np.int64)
    default_dpd = 91 + np.minimum(np.rint(rng.gamma(*p.default_dpd_gamma, n)), since)
    dpd = np.where(default, np.minimum(default_dpd, 1000), current_dpd).astype(np.int64)
    return {
        "default": default,
        "default_12m": in_tenor & (days <= 365),
        "default_months": months,
        "days_past_due": dpd,
        "npl_class": _npl_class(rng, p, default, dpd),
        "default_date": default_date,
        "observed_until": np.full(n, observed_until, dtype="datetime64[D]"),
    }
