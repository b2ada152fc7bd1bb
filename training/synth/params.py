"""Every parameter of the synthetic portfolio, typed, with its source.

Each field carries a ``source`` (``json_schema_extra``): either the place in
``/work/shared/DESIGN.md`` (or a public convention) it comes from, or
``"assumption"`` with a short reason.  :func:`parameter_rows` flattens them for
``parameters.md`` and for a test that no parameter is left without a source.

Units: money in CNY (yuan), durations in years unless a name says months or
days, logit terms in log-odds of the 12-month PD (or of claim irregularity).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

import scoring.config

ASSUMPTION = "assumption"


def _p(default: Any, source: str, description: str) -> Any:
    """A documented parameter: default, source (or 'assumption') and meaning."""
    return Field(default, description=description, json_schema_extra={"source": source})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Bias of each observed price source relative to the true (fair) value at the
# price date.  Training divides observed prices by these factors.
PRICE_SOURCE_BIAS: dict[str, float] = {
    "appraisal": 1.15,  # appraisals commissioned by the borrower run high
    "transfer": 1.0,  # arm's-length assignment
    "licence": 1.0,  # capitalised licence royalties (licence-implied value)
    "disposal": 0.55,  # fire sale / auction after a default
}

# Royalty ranges (% of net sales → fraction) by royalty class; DESIGN.md.
ROYALTY_RANGES: dict[str, tuple[float, float]] = {
    "software": (0.05, 0.08),
    "pharma_biotech": (0.04, 0.06),
    "medical_devices": (0.03, 0.05),
    "consumer": (0.02, 0.05),
    "electronics": (0.02, 0.04),
    "chemicals_materials": (0.02, 0.04),
    "automotive_industrial": (0.01, 0.03),
    "semiconductors": (0.01, 0.02),
}

_A = ASSUMPTION
# The income approach's assumptions (scoring/config/valuation.yaml): the truth discounts as it does.
_INCOME: dict[str, Any] = yaml.safe_load(
    (Path(scoring.config.__file__).parent / "valuation.yaml").read_text(encoding="utf-8")
)
_DESIGN_BASES = "DESIGN.md (six industrial bases, provincial government 2024) + assumption for shares"


class EnterpriseParams(_Frozen):
    """Borrowing enterprises (one row per borrower)."""

    enterprises_per_loan: float = _p(
        0.8, _A + " (some borrowers take two or more loans)", "Enterprises generated per loan."
    )
    industry_mix_first: dict[str, float] = _p(
        {
            "resource_processing": 0.20,
            "new_energy_batteries": 0.08,
            "computing_power": 0.07,
            "baijiu": 0.15,
            "new_energy_comprehensive": 0.08,
            "advanced_equipment": 0.17,
            "other": 0.25,
        },
        _DESIGN_BASES,
        "Industry mix of borrowers whose first loan is in the first vintage.",
    )
    industry_mix_last: dict[str, float] = _p(
        {
            "resource_processing": 0.13,
            "new_energy_batteries": 0.16,
            "computing_power": 0.17,
            "baijiu": 0.11,
            "new_energy_comprehensive": 0.10,
            "advanced_equipment": 0.15,
            "other": 0.18,
        },
        _A + " (computing power and batteries grow, per the 2024 base strategy)",
        "Industry mix in the last vintage; linear in between.",
    )
    region_mix: dict[str, float] = _p(
        {
            "guiyang": 0.30,
            "zunyi": 0.15,
            "liupanshui": 0.06,
            "anshun": 0.06,
            "bijie": 0.07,
            "tongren": 0.05,
            "qiandongnan": 0.06,
            "qiannan": 0.08,
            "qianxinan": 0.07,
            "guian_new_area": 0.10,
        },
        "DESIGN.md (nine prefectures + Gui'an New Area) + assumption for shares (capital biggest)",
        "Region mix of borrowers.",
    )
    sme_share: float = _p(0.95, _A, "Share of borrowers that are SMEs.")
    sme_revenue_median_cny: float = _p(30e6, _A + " (SMEs mostly 5m-200m CNY)", "Median SME revenue.")
    sme_revenue_log_sd: float = _p(0.85, _A, "Log-sd of SME revenue.")
    sme_revenue_bounds_cny: tuple[float, float] = _p(
        (1e6, 399e6), "MIIT 2011 SME standard (industrial: revenue < 400m CNY)", "Clip of SME revenue."
    )
    large_revenue_median_cny: float = _p(800e6, _A, "Median revenue of non-SME borrowers.")
    large_revenue_log_sd: float = _p(0.6, _A, "Log-sd of non-SME revenue (floored at 400m).")
    industry_revenue_log_shift: dict[str, float] = _p(
        {
            "resource_processing": 0.2,
            "new_energy_batteries": 0.1,
            "computing_power": -0.1,
            "baijiu": 0.2,
            "new_energy_comprehensive": 0.1,
            "advanced_equipment": 0.0,
            "other": -0.15,
        },
        _A,
        "Industry shift of log revenue.",
    )
    revenue_per_employee_cny: float = _p(0.9e6, _A, "Median revenue per employee.")
    employees_log_sd: float = _p(0.45, _A, "Log-sd of employees given revenue.")
    years_registered_offset: float = _p(0.3, _A, "Minimum years registered.")
    years_registered_gamma: tuple[float, float] = _p((1.8, 5.0), _A, "Gamma (shape, scale) of years beyond it.")
    rd_intensity_median: float = _p(0.045, _A, "Median R&D spend / revenue.")
    rd_intensity_log_sd: float = _p(0.6, _A, "Log-sd of R&D intensity.")
    high_tech_logit: tuple[float, float] = _p(
        (-0.2, 1.8),
        _A + " (high-tech certification needs R&D >= 3-5% of revenue)",
        "Logit (intercept, slope on log(rd/median)) of high-tech status.",
    )
    specialised_logit: tuple[float, float] = _p(
        (-2.2, 1.6), _A, "Logit (intercept, high-tech effect) of 专精特新 status (SMEs)."
    )
    leverage_mean: float = _p(0.50, _A, "Mean liabilities / assets.")
    leverage_distress_loading: float = _p(0.11, _A, "Leverage per unit of latent distress.")
    leverage_noise_sd: float = _p(0.12, _A, "Idiosyncratic leverage noise.")
    leverage_bounds: tuple[float, float] = _p((0.03, 1.6), _A, "Clip of leverage.")
    overdue_log_rate: tuple[float, float] = _p(
        (-1.4, 0.75), _A, "Poisson log-rate (intercept, distress) of prior overdue episodes."
    )
    bad_credit_logit: tuple[float, float, float] = _p(
        (-3.3, 1.0, 0.8), _A, "Logit (intercept, distress, any prior overdue) of bad credit in 3 years."
    )


class PatentParams(_Frozen):
    """Pledged patents: facts as of the pledging loan's origination date."""

    patents_per_loan_probs: tuple[float, ...] = _p(
        (0.42, 0.28, 0.16, 0.08, 0.06), _A + " (mostly 1-3)", "P(1..5 patents pledged per loan)."
    )
    type_mix: dict[str, float] = _p(
        {"invention": 0.55, "utility_model": 0.40, "design": 0.05},
        _A + " (project brief)",
        "Patent type mix.",
    )
    same_industry_as_owner: float = _p(0.85, _A, "P(patent industry = borrower industry), else drawn at random.")
    tech_field_by_industry: dict[str, dict[str, float]] = _p(
        {
            "resource_processing": {
                "chemicals_materials": 0.6,
                "automotive_industrial": 0.3,
                "electronics": 0.1,
            },
            "new_energy_batteries": {
                "chemicals_materials": 0.45,
                "electronics": 0.3,
                "automotive_industrial": 0.2,
                "semiconductors": 0.05,
            },
            "computing_power": {"software": 0.5, "electronics": 0.3, "semiconductors": 0.2},
            "baijiu": {"consumer": 0.7, "chemicals_materials": 0.15, "automotive_industrial": 0.15},
            "new_energy_comprehensive": {
                "electronics": 0.35,
                "automotive_industrial": 0.4,
                "chemicals_materials": 0.2,
                "semiconductors": 0.05,
            },
            "advanced_equipment": {"automotive_industrial": 0.6, "electronics": 0.25, "software": 0.15},
            "other": {
                "pharma_biotech": 0.25,
                "medical_devices": 0.15,
                "consumer": 0.25,
                "software": 0.15,
                "electronics": 0.1,
                "chemicals_materials": 0.1,
            },
        },
        _A,
        "Royalty class (tech_field) by industrial base.",
    )
    ipc_by_tech_field: dict[str, dict[str, float]] = _p(
        {
            "software": {"G": 0.85, "H": 0.15},
            "pharma_biotech": {"A": 0.6, "C": 0.4},
            "medical_devices": {"A": 0.8, "G": 0.2},
            "consumer": {"A": 0.5, "C": 0.3, "B": 0.2},
            "electronics": {"H": 0.6, "G": 0.3, "F": 0.1},
            "chemicals_materials": {"C": 0.8, "B": 0.15, "D": 0.05},
            "automotive_industrial": {"B": 0.5, "F": 0.35, "E": 0.15},
            "semiconductors": {"H": 0.8, "G": 0.2},
        },
        _A + " (IPC sections by field)",
        "IPC section by royalty class.",
    )
    grant_lag_years: dict[str, tuple[float, float]] = _p(
        {"invention": (2.0, 4.0), "utility_model": (0.6, 1.4), "design": (0.3, 0.8)},
        _A + " (project brief: invention ~2-4y, utility ~1y, design ~0.5y)",
        "Uniform range of filing→grant.",
    )
    post_grant_age_gamma: dict[str, tuple[float, float]] = _p(
        {"invention": (2.0, 2.0), "utility_model": (1.5, 1.2), "design": (1.5, 1.5)},
        _A,
        "Gamma (shape, scale) of years from grant to the loan's origination.",
    )
    min_remaining_life_years: float = _p(
        3.5,
        "DESIGN.md (registration refused if the debt term runs past the patent's term; tenor <= 36m)",
        "Ages are capped so every pledged patent outlives a 36-month loan.",
    )
    pending_share_invention: float = _p(0.03, _A, "Share of invention patents still pending.")
    lapsed_share: float = _p(0.015, _A, "Share lapsed (fees unpaid).")
    invalidated_share: float = _p(0.005, _A, "Share invalidated.")
    unpaid_fees_share_granted: float = _p(0.005, _A, "Granted patents in the fee grace period.")
    citations_per_year: dict[str, float] = _p(
        {"invention": 0.8, "utility_model": 0.35, "design": 0.08},
        _A,
        "Median forward citations per year of age (q = 0).",
    )
    citations_quality_loading: float = _p(1.1, _A, "Log citation rate per unit quality.")
    citations_gamma_shape: float = _p(3.0, _A, "Gamma mixing shape (over-dispersion) of citations.")
    citations_age_cap_years: float = _p(10.0, _A, "Citation exposure stops growing after this age.")
    family_log_rate: dict[str, float] = _p(
        {"invention": -0.9, "utility_model": -2.5, "design": -3.0},
        _A,
        "Poisson log-rate of family members beyond 1 (q = 0).",
    )
    family_quality_loading: float = _p(0.7, _A, "Per unit quality.")
    foreign_logit: tuple[float, float] = _p((-1.2, 1.0), _A, "Logit (intercept, quality) that a member is foreign.")
    claims_median: dict[str, float] = _p(
        {"invention": 9.0, "utility_model": 6.0},
        _A + "; designs have no claims (DESIGN.md)",
        "Median claims count of inventions and utility models (designs have none: missing).",
    )
    claims_quality_loading: float = _p(0.3, _A, "Log claims per unit quality.")
    claims_log_sd: float = _p(0.25, _A, "Log-sd of claims given quality.")
    independent_log_rate: tuple[float, float] = _p((-1.2, 0.5), _A, "1 + Poisson(exp(a + b q)) independent claims.")
    licences_log_rate: tuple[float, float] = _p((-1.8, 0.9), _A, "Poisson log-rate (a, b·q) of licences.")
    transfers_log_rate: tuple[float, float] = _p((-1.7, 0.4), _A, "Poisson log-rate of transfers.")
    prior_pledges_log_rate: tuple[float, float] = _p((-1.6, 0.2), _A, "Poisson log-rate of earlier pledges.")
    litigation_log_rate: tuple[float, float] = _p((-3.3, 0.9), _A, "Poisson log-rate of infringement suits.")
    invalidation_log_rate: tuple[float, float] = _p((-3.6, 0.6), _A, "Poisson log-rate of invalidation requests.")
    strategic_logit: tuple[float, float] = _p((-0.5, 0.9), _A, "Logit (intercept, quality) of strategic emerging.")
    strategic_field_shift: dict[str, float] = _p(
        {
            "software": 0.5,
            "pharma_biotech": 0.5,
            "medical_devices": 0.3,
            "consumer": -0.8,
            "electronics": 0.3,
            "chemicals_materials": 0.0,
            "automotive_industrial": 0.0,
            "semiconductors": 0.8,
        },
        _A,
        "Field shift of the strategic-emerging logit.",
    )
    award_logit: tuple[float, float] = _p((-5.5, 1.3), _A, "Logit of a national patent award (inventions).")
    ownership_dispute_share: float = _p(0.01, _A, "Ownership dispute recorded.")
    preservation_order_share: float = _p(0.005, _A, "Court preservation order.")
    invalidation_pending_given_request: float = _p(0.3, _A, "P(pending) given >= 1 invalidation request.")
    co_owned_share: float = _p(0.08, _A, "Co-owned patents.")
    co_owner_consent_share: float = _p(0.85, _A, "Co-owners consented (given co-owned).")
    currently_pledged_share: float = _p(0.01, _A, "Already pledged elsewhere when this pledge is made.")
    owner_mismatch_share: float = _p(0.02, _A, "Pledged patent not registered to the borrower.")
    mismatch_owner_types: dict[str, float] = _p(
        {"university": 0.35, "research_institute": 0.25, "individual": 0.2, "enterprise": 0.2},
        _A,
        "Registered owner type when it is not the borrower.",
    )


class ValueParams(_Frozen):
    """True value by relief from royalty (DESIGN.md income approach)."""

    royalty_ranges: dict[str, tuple[float, float]] = _p(
        ROYALTY_RANGES, "DESIGN.md royalty ranges (% of net sales) by field", "Royalty range by tech_field."
    )
    royalty_quality_loading: float = _p(1.0, _A, "Position in the range = Φ(loading · q).")
    royalty_type_factor: dict[str, float] = _p(
        {"invention": 1.0, "utility_model": 0.55, "design": 0.35}, _A, "Royalty multiplier by patent type."
    )
    tax_rate: float = _p(
        0.25, "DESIGN.md (1 − tax); China's standard enterprise income tax rate", "Tax on royalty savings."
    )
    high_tech_tax_rate: float = _p(
        0.15,
        "public: Enterprise Income Tax Law art. 28: certified high-tech enterprises pay 15%",
        "Tax on royalty savings when the owner is a certified high-tech enterprise.",
    )
    discount_rate: float = _p(
        _INCOME["discount_rate"],
        "shared: scoring/config/valuation.yaml discount_rate: the income approach's own rate, read from it",
        "Annual discount rate r (the truth discounts as the income approach does).",
    )
    revenue_decay: float = _p(
        0.0,
        "shared: scoring/income.py: the income approach holds attributable revenue flat; the truth does the same",
        "Annual decline of attributable revenue.",
    )
    economic_life_cap_years: dict[str, float] = _p(
        {
            "software": 6.0,
            "pharma_biotech": 10.0,
            "medical_devices": 8.0,
            "consumer": 6.0,
            "electronics": 6.0,
            "chemicals_materials": 8.0,
            "automotive_industrial": 8.0,
            "semiconductors": 6.0,
        },
        "DESIGN.md (economic life <= remaining legal life) + assumption for caps (all <= the income "
        "approach's max_economic_life_years, 10)",
        "Remaining economic life cap; life = min(cap, remaining legal life).",
    )
    attributable_share_median: float = _p(
        _INCOME["attributable_revenue_share"],
        "shared: scoring/config/valuation.yaml attributable_revenue_share (the income approach's default share)",
        "Median share of the owner's revenue attributable to one patent (q = 0).",
    )
    attributable_share_cap: float = _p(
        0.8,
        _A + " (at least a fifth of a borrower's revenue comes from products no pledged patent covers)",
        "Cap on the sum of attributable revenue over a borrower's patents, as a share of its revenue.",
    )
    industry_revenue_log_shift: dict[str, float] = _p(
        {
            "resource_processing": 0.1,
            "new_energy_batteries": 0.3,
            "computing_power": 0.2,
            "baijiu": 0.2,
            "new_energy_comprehensive": 0.1,
            "advanced_equipment": 0.0,
            "other": -0.2,
        },
        _A,
        "Industry shift of log attributable revenue.",
    )
    revenue_quality_loading: float = _p(0.55, _A, "Log attributable revenue per unit quality.")
    revenue_noise_sd: float = _p(0.2, _A, "Unexplained log attributable revenue.")
    status_factor: dict[str, float] = _p(
        {"granted": 1.0, "pending": 0.6, "lapsed": 0.03, "invalidated": 0.02},
        _A + " (no exclusivity once lapsed/invalidated)",
        "Value multiplier by legal status.",
    )


class PriceParams(_Frozen):
    """Observed prices of patents (what a valuation model learns from)."""

    source_bias: dict[str, float] = _p(dict(PRICE_SOURCE_BIAS), _A, "Bias of each source vs true value.")
    observed_share: float = _p(0.60, _A, "Share of patents with an observed price.")
    source_mix: dict[str, float] = _p(
        {"appraisal": 0.55, "transfer": 0.20, "licence": 0.15, "disposal": 0.10},
        _A,
        "Mix of price sources among priced patents.",
    )
    noise_sd: float = _p(0.15, _A, "Log-sd of price noise around true value × bias.")
    appraisal_lead_days: tuple[int, int] = _p((0, 60), _A, "Appraisal dated this many days before origination.")
    market_lead_years: tuple[float, float] = _p(
        (0.1, 3.0), _A, "Transfer / licence / earlier-disposal prices dated this long before origination."
    )


class LoanParams(_Frozen):
    """Loan terms."""

    vintage_growth: float = _p(
        1.3,
        _A + " (fast growth of IP pledge financing; ¥486.9bn in 2022, DESIGN.md)",
        "Loan volume of each year relative to the previous.",
    )
    bank_mix: tuple[float, ...] = _p(
        (0.22, 0.18, 0.14, 0.12, 0.10, 0.09, 0.08, 0.07), _A, "Market share of bank_01..bank_08."
    )
    bank_ltv_median: tuple[float, ...] = _p(
        (0.25, 0.30, 0.35, 0.40, 0.30, 0.45, 0.22, 0.35),
        "DESIGN.md (practice 10-60%) + assumption per bank",
        "Median LTV policy of each bank.",
    )
    ltv_log_sd: float = _p(0.30, _A, "Log-sd of LTV around the bank's median.")
    ltv_bounds: tuple[float, float] = _p(
        (0.10, 0.60), "DESIGN.md (practice 10-60% of appraised value)", "Clip of target LTV."
    )
    utility_ltv_discount: float = _p(
        0.3,
        "DESIGN.md (one bank: invention ≤25%, utility ≤15%) + assumption",
        "LTV × (1 − discount × non-invention share of the package).",
    )
    appraisal_bias: float = _p(PRICE_SOURCE_BIAS["appraisal"], _A, "Loan appraisal / true package value.")
    appraisal_noise_sd: float = _p(0.15, _A, "Log-sd of loan appraisal noise.")
    inflated_appraisal_share: float = _p(0.04, _A, "Loans with a grossly inflated appraisal.")
    inflated_multiplier: tuple[float, float] = _p((2.0, 3.5), _A, "Uniform extra multiplier when inflated.")
    amount_rounding_cny: float = _p(10_000.0, _A, "Amounts are multiples of this.")
    amount_min_cny: float = _p(100_000.0, _A, "Smallest loan.")
    amount_max_to_revenue: float = _p(2.0, _A, "Banks lend at most this multiple of annual revenue.")
    tenor_months: dict[int, float] = _p(
        {12: 0.45, 18: 0.07, 24: 0.28, 30: 0.05, 36: 0.15},
        "DESIGN.md (one bank: tenor ≤ 3 years) + assumption",
        "Tenor mix.",
    )
    purpose_mix: dict[str, float] = _p(
        {"rd": 0.20, "industrialisation": 0.25, "ip_operation": 0.05, "working_capital": 0.45, "other": 0.05},
        _A,
        "Loan purpose mix.",
    )
    ip_only_share: float = _p(0.6, _A, "Loans secured by IP alone (ip_share_of_collateral = 1).")
    mixed_ip_share_range: tuple[float, float] = _p((0.3, 0.9), _A, "Uniform IP share of mixed collateral.")
    insured_share_first_last: tuple[float, float] = _p(
        (0.08, 0.30),
        "DESIGN.md (plan promotes IP insurance) + assumption",
        "Share of insured loans, first→last.",
    )
    insured_cover_range: tuple[float, float] = _p(
        (0.2, 0.4), "DESIGN.md (insurer 16-20% splits) + assumption", "Uniform insured share of loss."
    )
    pooled_share_first_last: tuple[float, float] = _p((0.4, 0.6), _A, "Share pooled in a fund, first→last.")
    fund_by_region: dict[str, str] = _p(
        {"guiyang": "fund_guiyang", "guian_new_area": "fund_guiyang", "zunyi": "fund_zunyi"},
        _A,
        "Home fund of a region; others use fund_province.",
    )
    home_fund_share: float = _p(0.8, _A, "P(home fund) for Guiyang/Gui'an/Zunyi pooled loans.")


class PDParams(_Frozen):
    """True 12-month PD: logistic in mostly observable facts."""

    intercept: float = _p(
        -4.3,
        _A + " (calibrated to a portfolio PD of ~4%; no national rate is published)",
        "Logit intercept at the reference borrower.",
    )
    leverage: float = _p(2.6, _A, "Per unit of leverage above 0.5.")
    log1p_overdue: float = _p(0.8, _A, "Per log(1 + prior overdue episodes).")
    bad_credit: float = _p(1.0, _A, "Bad credit in 3 years.")
    log_years_registered: float = _p(-0.45, _A, "Per log(years registered / 8).")
    log_revenue: float = _p(-0.40, _A, "Per log(revenue / 30m).")
    rd_intensity: float = _p(-1.5, _A + " (mild)", "Per unit of R&D intensity above 0.045.")
    high_tech: float = _p(-0.25, _A, "Certified high-tech.")
    specialised_sme: float = _p(-0.35, _A, "专精特新 status.")
    log_true_ltv: float = _p(0.6, _A, "Per log(amount / true package value / 0.3).")
    tenor_per_month: float = _p(0.02, _A, "Per month of tenor above 12.")
    non_ip_collateral: float = _p(-0.4, _A, "Per unit of (1 − ip_share_of_collateral).")
    industry: dict[str, float] = _p(
        {
            "resource_processing": 0.25,
            "new_energy_batteries": 0.3,
            "computing_power": 0.1,
            "baijiu": -0.3,
            "new_energy_comprehensive": 0.1,
            "advanced_equipment": 0.0,
            "other": 0.05,
        },
        _A,
        "Industry term.",
    )
    macro_by_year: dict[int, float] = _p(
        {
            2015: 0.0,
            2016: 0.0,
            2017: 0.0,
            2018: 0.05,
            2019: 0.0,
            2020: 0.35,
            2021: 0.1,
            2022: 0.3,
            2023: 0.2,
            2024: 0.25,
            2025: 0.2,
            2026: 0.15,
        },
        _A + " (COVID 2020/2022, later slowdown); years not listed get 0",
        "Vintage / macro term by origination year.",
    )
    latent_borrower_sd: float = _p(
        0.15,
        _A + " (kept small: models must be able to reach the oracle)",
        "Direct effect of latent distress (unobservable).",
    )
    latent_loan_sd: float = _p(0.10, _A, "Loan-level unobservable noise.")


class OutcomeParams(_Frozen):
    """Realised outcomes of each loan over its whole tenor."""

    hazard_shape: float = _p(
        0.9,
        _A + " (Weibull shape < 1: the hazard falls slowly once a loan has seasoned)",
        "Cumulative hazard H(t) = −ln(1 − PD₁₂) · (t / 12 months)^shape over the tenor.",
    )
    earliest_default_days: int = _p(15, _A, "No loan defaults sooner than this after origination.")
    early_default_share_inflated: float = _p(0.4, _A, "Inflated-appraisal defaults that come within 90 days.")
    late_payment_share: float = _p(0.12, _A, "Performing loans with some days past due.")
    late_payment_days: tuple[int, int] = _p((1, 60), _A, "Uniform dpd of late-paying performing loans.")
    special_mention_share_current: float = _p(0.02, _A, "Current loans still classed special mention.")
    default_dpd_gamma: tuple[float, float] = _p(
        (2.0, 60.0), _A, "Default dpd = 90 + Gamma(shape, scale), at most the days since default + 90."
    )
    npl_misclass_share: float = _p(
        0.15,
        "Asset classification rules 2023 (a bank may classify worse than the floor, never better) + assumption",
        "Defaults classed one step worse than their days-past-due floor (90/270/360).",
    )


class RateParams(_Frozen):
    """The loan's interest rate: LPR + a spread by the bank's view of risk; programme subsidies."""

    lpr_by_year: dict[int, float] = _p(
        {
            2015: 0.0435,
            2016: 0.0435,
            2017: 0.0435,
            2018: 0.0431,
            2019: 0.0415,
            2020: 0.0385,
            2021: 0.0380,
            2022: 0.0365,
            2023: 0.0345,
            2024: 0.0310,
            2025: 0.0300,
            2026: 0.0300,
        },
        "public: PBoC / NIFC 1-year LPR at each year end (2019-08 reform; before it the 1-year benchmark rate 4.35%); "
        "2026 assumed unchanged",
        "One-year loan prime rate by origination year.",
    )
    spread_at_reference: float = _p(
        0.015, _A + " (SME technology loans priced about 150 bp over LPR)", "Spread at the reference PD."
    )
    reference_pd: float = _p(0.04, _A + " (the portfolio PD)", "PD at which the spread is the reference spread.")
    spread_per_logit: float = _p(0.006, _A, "Spread per unit of the bank's risk logit above the reference.")
    spread_bounds: tuple[float, float] = _p((0.003, 0.06), _A, "Clip of the spread.")
    bank_view_noise_sd: float = _p(
        0.6, _A + " (a bank prices on its own, imperfect view of risk)", "Logit noise of the bank's view of the PD."
    )
    subsidy_share_pooled: float = _p(
        0.5,
        "DESIGN.md (provincial funds subsidise interest, 贴息) + assumption for the share",
        "Pooled loans whose programme pays an interest subsidy.",
    )
    subsidy_of_lpr: float = _p(
        0.5, _A + " (programmes typically pay half the LPR)", "Subsidy as a share of the LPR, paid to the borrower."
    )
    burden_per_rate: float = _p(
        6.0,
        _A + " (a dearer loan strains cash flow)",
        "12-month PD logit per unit of the rate the borrower pays net of subsidy, above the reference.",
    )
    burden_reference_rate: float = _p(
        0.042, _A + " (about the mean net rate, so the portfolio PD stays ~4%)", "Net rate at which the burden is 0."
    )


class DisposalParams(_Frozen):
    """What a bank recovers from a defaulted loan's collateral."""

    accrued_interest_months: float = _p(
        3.0,
        "90 days past due at default (asset classification rules 2023) + assumption of interest-only, "
        "bullet-principal loans (按月付息、到期还本)",
        "Months of unpaid interest in the exposure at default: EAD = amount × (1 + rate × months / 12).",
    )
    channel_mix: dict[str, float] = _p(
        {
            "negotiated_transfer": 0.30,
            "judicial_auction": 0.38,
            "exchange_listing": 0.10,
            "licensing": 0.10,
            "acquisition": 0.12,
        },
        "DESIGN.md (negotiated transfer, judicial auction, exchange listing, licensing, 收储) + assumption",
        "Disposal channel mix (pooled loans: acquisition ×2, renormalised).",
    )
    buyer_value_median: float = _p(
        0.55,
        "PRICE_SOURCE_BIAS disposal 0.55 + assumption: patents cut off from the defaulted business lose value",
        "Median value to a buyer / true value at default.",
    )
    buyer_value_log_sd: float = _p(0.5, _A, "Log-sd of the value to a buyer.")
    court_appraisal_log_sd: float = _p(0.2, _A, "Log-sd of the court-ordered appraisal around the true value.")
    auction_start_share: float = _p(
        0.7,
        "public: SPC provisions on online judicial auctions (2016) art. 10: the first reserve is at least 70% of the "
        "appraised value",
        "First-round reserve / court appraisal.",
    )
    round_price_cut: float = _p(
        0.2,
        "public: SPC provisions on online judicial auctions (2016) art. 26: a re-auction after 流拍 cuts the "
        "reserve by at most 20%",
        "Reserve cut after each failed round.",
    )
    max_auction_rounds: int = _p(
        3,
        "public: SPC provisions on auction and sale in civil enforcement (2004, amended 2020): after a second failed "
        "auction a sell-off (变卖) or delivery in lieu + assumption of one sell-off round",
        "Rounds before the disposal fails.",
    )
    bidder_show_prob: float = _p(0.55, _A + " (thin IP markets: 处置变现难)", "P(any bidder in a round).")
    economy_reference_growth: float = _p(
        5.0,
        _A + " (about the growth of 2023-2025 in scoring/config/economy.yaml: those years move nothing)",
        "Real GDP growth (%) at which the economy neither helps nor hurts a disposal.",
    )
    buyer_value_per_growth_point: float = _p(
        0.05,
        _A + " (moderate: 2020's 2.3% cuts buyers' value by about 13%, 2021's 8.1% adds about 17%)",
        "Log value to a buyer per point of growth above the reference; growth as last published on the "
        "default date (scoring/config/economy.yaml, scoring.economy.growth_on).",
    )
    success_logit_per_growth_point: float = _p(
        0.15,
        _A + " (buyers and licensees show up more in a good year; 2020: bidder P 0.55 → 0.45)",
        "Logit of P(a bidder shows), P(negotiated buyer), P(licensee) per point of growth above the reference.",
    )
    buyer_value_by_industry: dict[str, float] = _p(
        {
            "resource_processing": -0.15,
            "new_energy_batteries": 0.10,
            "computing_power": 0.15,
            "baijiu": -0.25,
            "new_energy_comprehensive": 0.0,
            "advanced_equipment": 0.0,
            "other": -0.05,
        },
        _A + " (patents tied to a brand or a local process find few outside buyers; platform technologies more)",
        "Log value to a buyer by the borrower's industry: how deep the market for its patents is.",
    )
    negotiated_success: float = _p(0.7, _A, "P(a negotiated transfer finds a buyer).")
    negotiated_price_range: tuple[float, float] = _p((0.75, 1.0), _A, "Negotiated price / value to the buyer.")
    licensing_success: float = _p(0.6, _A, "P(a licensee is found).")
    licensing_value_share: float = _p(0.5, _A, "Licence proceeds (capitalised) / value to the licensee.")
    acquisition_success: float = _p(0.9, _A + " (a platform or fund buys at a set price)", "P(收储 completes).")
    acquisition_price_range: tuple[float, float] = _p((0.25, 0.45), _A, "收储 price / court appraisal (uniform).")
    months_to_cash: dict[str, tuple[float, float]] = _p(
        {
            "negotiated_transfer": (4.0, 10.0),
            "judicial_auction": (8.0, 14.0),
            "exchange_listing": (5.0, 10.0),
            "licensing": (6.0, 24.0),
            "acquisition": (4.0, 8.0),
        },
        _A + " (litigation and enforcement take most of a year; DESIGN.md: disposal is slow)",
        "Uniform months from default to cash, before auction rounds.",
    )
    months_per_round: float = _p(
        2.0, _A + " (about 30 days' notice per round plus settlement)", "Months per extra round."
    )
    cost_share: dict[str, float] = _p(
        {
            "negotiated_transfer": 0.03,
            "judicial_auction": 0.06,
            "exchange_listing": 0.04,
            "licensing": 0.05,
            "acquisition": 0.01,
        },
        _A + " (legal, commission and registration fees)",
        "Variable costs / price obtained.",
    )
    fixed_cost_cny: dict[str, float] = _p(
        {
            "negotiated_transfer": 20_000.0,
            "judicial_auction": 60_000.0,
            "exchange_listing": 30_000.0,
            "licensing": 30_000.0,
            "acquisition": 15_000.0,
        },
        _A + " (litigation fees, court appraisal, lawyers)",
        "Fixed costs of a disposal, paid whether or not it succeeds.",
    )
    other_collateral_recovery: tuple[float, float] = _p(
        (0.5, 0.9),
        _A + " (property and guarantees recover most of what they secure)",
        "Uniform recovery / the part of EAD the non-IP collateral secures (1 − IP share).",
    )
    oracle_draws: int = _p(
        16, _A + " (Monte Carlo error of the mean below 0.02)", "Disposals simulated per loan for true_lgd."
    )


class ClaimParams(_Frozen):
    """Claims on defaulted pooled loans and the fund's review."""

    claim_share: float = _p(0.85, _A, "Defaulted pooled loans that file a claim.")
    principal_outstanding_range: tuple[float, float] = _p((0.6, 1.0), _A, "Outstanding / amount at default.")
    working_days_mean: float = _p(
        5.0,
        "DESIGN.md (claims filed within N working days, e.g. 10) + assumption",
        "Mean working days to file for a timely bank.",
    )
    bank_late_share: tuple[float, ...] = _p(
        (0.06, 0.08, 0.10, 0.12, 0.08, 0.20, 0.10, 0.15),
        _A,
        "Share of late (> 10 working days) claims by bank.",
    )
    late_days_range: tuple[int, int] = _p((11, 40), _A, "Working days to file when late.")
    evidence_missing_share: float = _p(0.07, _A, "Claims without collection / litigation evidence.")
    pledged_elsewhere_base: float = _p(0.02, _A, "P(pledged elsewhere) with no currently-pledged patent.")
    pledged_elsewhere_if_flag: float = _p(0.7, _A, "P(pledged elsewhere) when a patent was already pledged.")
    over_claim_share: float = _p(0.05, _A, "Claims asking more than the principal outstanding.")
    over_claim_range: tuple[float, float] = _p((1.05, 1.25), _A, "Claimed / outstanding when over-claiming.")
    irregular_intercept: float = _p(-2.9, _A + " (~15-20% of claims irregular)", "Logit intercept.")
    early_default_days: int = _p(90, _A, "A default within this many days is 'very soon'.")
    early_default: float = _p(1.8, _A, "Logit term: default very soon after origination.")
    inflated_ratio: float = _p(2.0, _A, "Appraised / true package value above which appraisal is 'far above'.")
    inflated_appraisal: float = _p(2.2, _A, "Logit term: appraisal far above true value.")
    pledged_elsewhere: float = _p(2.5, _A, "Logit term: a patent pledged twice.")
    late_filing_days: int = _p(10, "DESIGN.md (e.g. 10 working days)", "Filing later than this is late.")
    late_filing: float = _p(1.8, _A, "Logit term: late filing.")
    missing_evidence: float = _p(1.8, _A, "Logit term: no evidence.")
    over_claim: float = _p(1.5, _A, "Logit term: claimed above principal outstanding.")
    latent_sd: float = _p(0.3, _A, "Unobservable logit noise.")
    field_review_share: float = _p(0.3, _A, "Claims reviewed in the field (rest: desk).")
    detect_desk: float = _p(0.75, _A, "P(review finds irregular | irregular), desk review.")
    detect_field: float = _p(0.92, _A, "P(review finds irregular | irregular), field review.")
    false_positive: float = _p(0.02, _A, "P(review finds irregular | regular).")


class PortfolioParams(_Frozen):
    """All parameters of :func:`training.synth.generator.generate_portfolio`."""

    enterprise: EnterpriseParams = EnterpriseParams()
    patent: PatentParams = PatentParams()
    value: ValueParams = ValueParams()
    price: PriceParams = PriceParams()
    loan: LoanParams = LoanParams()
    pd: PDParams = PDParams()
    outcome: OutcomeParams = OutcomeParams()
    rate: RateParams = RateParams()
    disposal: DisposalParams = DisposalParams()
    claim: ClaimParams = ClaimParams()


DEFAULT = PortfolioParams()


def parameter_rows(params: PortfolioParams = DEFAULT) -> Iterator[tuple[str, str, Any, str]]:
    """Yield ``(group.name, description, value, source)`` for every parameter."""
    for group_name in PortfolioParams.model_fields:
        group = getattr(params, group_name)
        for name, info in type(group).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            yield (
                f"{group_name}.{name}",
                info.description or "",
                getattr(group, name),
                str(extra.get("source", "")),
            )


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render_parameter_table(params: PortfolioParams = DEFAULT) -> str:
    """Markdown tables of every parameter (value, meaning, source), one per group.

    ``parameters.md`` embeds this text verbatim; a test keeps the two in step.
    """
    lines: list[str] = []
    current = None
    for name, description, value, source in parameter_rows(params):
        group = name.split(".")[0]
        if group != current:
            lines += [
                "",
                f"### `{group}`",
                "",
                "| parameter | value | meaning | source |",
                "|---|---|---|---|",
            ]
            current = group
        lines.append(f"| `{name}` | {_fmt(value)} | {description} | {source} |")
    return "\n".join(lines).strip() + "\n"
