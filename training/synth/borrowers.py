"""Borrowing enterprises: size, age, innovation and credit history."""

from __future__ import annotations

import numpy as np

from scoring.vocab import INDUSTRIES, REGIONS
from scoring.vocab.arrays import AnyArray, FloatArray
from training.synth.params import EnterpriseParams
from training.synth.sampling import lookup, pick, pick_rows, sigmoid, weights


def draw_enterprises(
    rng: np.random.Generator, p: EnterpriseParams, *, first_vintage_frac: FloatArray
) -> dict[str, AnyArray]:
    """Draw one row per enterprise.

    Parameters
    ----------
    rng
        The portfolio's random generator.
    p
        Enterprise parameters.
    first_vintage_frac
        Position (0 = first, 1 = last) of each enterprise's first loan among the
        vintages; the industry mix drifts with it.

    Returns
    -------
    dict
        Column arrays: ``industry`` and ``region`` as vocabulary indices, facts in
        contract units, and ``distress`` (latent, standard normal).
    """
    n = len(first_vintage_frac)
    first = weights(p.industry_mix_first, INDUSTRIES)
    last = weights(p.industry_mix_last, INDUSTRIES)
    industry = pick_rows(rng, first[None, :] + (last - first)[None, :] * first_vintage_frac[:, None])
    region = pick(rng, weights(p.region_mix, REGIONS), n)

    is_sme = rng.random(n) < p.sme_share
    shift = lookup(p.industry_revenue_log_shift, INDUSTRIES)[industry]
    z = rng.standard_normal(n)
    sme_rev = np.clip(p.sme_revenue_median_cny * np.exp(shift + p.sme_revenue_log_sd * z), *p.sme_revenue_bounds_cny)
    large_rev = np.maximum(
        p.large_revenue_median_cny * np.exp(p.large_revenue_log_sd * z), p.sme_revenue_bounds_cny[1] + 1e6
    )
    revenue = np.round(np.where(is_sme, sme_rev, large_rev), -3)
    employees = np.rint(revenue / p.revenue_per_employee_cny * np.exp(p.employees_log_sd * rng.standard_normal(n)))
    employees = np.where(is_sme, np.clip(employees, 1, 999), np.maximum(employees, 300)).astype(np.int64)

    years = p.years_registered_offset + rng.gamma(*p.years_registered_gamma, size=n)
    years = np.minimum(years, 60.0).round(1)
    log_rd = p.rd_intensity_log_sd * rng.standard_normal(n)
    rd = np.clip(p.rd_intensity_median * np.exp(log_rd), 0.001, 1.0).round(4)
    high_tech = rng.random(n) < sigmoid(p.high_tech_logit[0] + p.high_tech_logit[1] * log_rd)
    specialised = is_sme & (
        rng.random(n) < sigmoid(p.specialised_logit[0] + p.specialised_logit[1] * high_tech.astype(np.float64))
    )

    distress = rng.standard_normal(n)
    leverage = p.leverage_mean + p.leverage_distress_loading * distress + p.leverage_noise_sd * rng.standard_normal(n)
    leverage = np.clip(leverage, *p.leverage_bounds).round(3)
    overdue = rng.poisson(np.exp(p.overdue_log_rate[0] + p.overdue_log_rate[1] * distress))
    a, b, c = p.bad_credit_logit
    bad_credit = rng.random(n) < sigmoid(a + b * distress + c * (overdue > 0))
    return {
        "industry": industry,
        "region": region,
        "revenue_cny": revenue,
        "employees": employees,
        "years_registered": years,
        "rd_intensity": rd,
        "high_tech": high_tech,
        "specialised_sme": specialised,
        "is_sme": is_sme,
        "leverage": leverage,
        "prior_overdue_count": overdue.astype(np.int64),
        "bad_credit_3y": bad_credit,
        "distress": distress,
    }
