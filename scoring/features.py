"""Model inputs built from contract-shaped facts.

One implementation serves training (whole tables) and requests (one row): every
builder takes a mapping of column name to numpy array, the way a pandas frame
hands its columns out, and returns a float matrix in the manifest's feature
order.  Categorical features are integer codes into the vocabularies of
:mod:`scoring.vocab`; unknown or missing values become NaN, which LightGBM
treats as missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

from scoring import terms, vocab
from scoring.vocab.arrays import AnyArray, DateArray, FloatArray, IndexArray

Columns = Mapping[str, AnyArray]  # contract columns by name, as a frame hands them out
FeatureKind = Literal["numeric", "categorical", "bool"]
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class FeatureSpec:
    """A model input: name, kind, vocabulary for categoricals, monotone direction."""

    name: str
    kind: FeatureKind = "numeric"
    categories: tuple[str, ...] | None = None
    monotone: int = 0


def _cat(name: str, categories: tuple[str, ...]) -> FeatureSpec:
    return FeatureSpec(name, "categorical", categories)


VALUATION_FEATURES: tuple[FeatureSpec, ...] = (
    _cat("patent_type", vocab.PATENT_TYPES),
    _cat("ipc_section", vocab.IPC_SECTIONS),
    _cat("tech_field", vocab.TECH_FIELDS),
    _cat("industry", vocab.INDUSTRIES),
    _cat("owner_type", vocab.OWNER_TYPES),
    FeatureSpec("age_years"),
    FeatureSpec("remaining_life_years"),
    FeatureSpec("granted", "bool"),
    FeatureSpec("claims_count"),
    FeatureSpec("independent_claims"),
    FeatureSpec("family_size"),
    FeatureSpec("foreign_family_members"),
    FeatureSpec("forward_citations"),
    FeatureSpec("citations_per_year"),
    FeatureSpec("licences_count"),
    FeatureSpec("transfers_count"),
    FeatureSpec("prior_pledges_count"),
    FeatureSpec("litigation_count"),
    FeatureSpec("invalidation_requests"),
    FeatureSpec("annual_fees_paid_years"),
    FeatureSpec("fees_up_to_date", "bool"),
    FeatureSpec("strategic_emerging", "bool"),
    FeatureSpec("patent_award", "bool"),
    FeatureSpec("co_owned", "bool"),
    FeatureSpec("log_owner_revenue"),
)

# Model inputs that mean nothing for a patent type: a Chinese design has no claims (it is protected
# by its drawings or photographs).  They are NaN for that type, LightGBM's missing value, in training
# and in requests alike, and never given to a user as a reason for that type's value.
NOT_APPLICABLE: Mapping[str, frozenset[str]] = MappingProxyType(
    {"design": frozenset({"claims_count", "independent_claims"})}
)


def not_applicable(patent_type: str) -> frozenset[str]:
    """Names of the valuation inputs that do not apply to ``patent_type``."""
    return NOT_APPLICABLE.get(patent_type, frozenset())


PD_FEATURES: tuple[FeatureSpec, ...] = (
    _cat("industry", vocab.INDUSTRIES),
    _cat("region", vocab.REGIONS),
    _cat("purpose", vocab.LOAN_PURPOSES),
    FeatureSpec("log_revenue", monotone=-1),
    FeatureSpec("employees"),
    FeatureSpec("years_registered", monotone=-1),
    FeatureSpec("rd_intensity"),
    FeatureSpec("high_tech", "bool"),
    FeatureSpec("specialised_sme", "bool"),
    FeatureSpec("leverage", monotone=1),
    FeatureSpec("prior_overdue_count", monotone=1),
    FeatureSpec("bad_credit_3y", "bool", monotone=1),
    FeatureSpec("log_amount"),
    FeatureSpec("tenor_months", monotone=1),
    FeatureSpec("ltv_model", monotone=1),
    FeatureSpec("ip_share_of_collateral"),
    FeatureSpec("n_patents"),
    FeatureSpec("invention_share"),
    FeatureSpec("min_remaining_life_years"),
)

CLAIM_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("months_to_default"),
    FeatureSpec("appraisal_ratio"),
    FeatureSpec("patent_pledged_elsewhere", "bool"),
    FeatureSpec("working_days_to_file"),
    FeatureSpec("evidence_provided", "bool"),
    FeatureSpec("bank_prior_claims"),
    FeatureSpec("claim_to_principal"),
    FeatureSpec("log_principal"),
    FeatureSpec("ltv_model"),
)


# LGD inputs: what the pledged collateral is worth against the exposure, what kind of patents,
# how long they live, the borrower's industry and the loan's rate (recoveries are discounted at it);
# the economy as of the loan's date (real GDP growth last published, scoring.economy: a better
# economy, better recoveries) and the recovery experience of past disposals in the borrower's
# industry (scoring.lgd.ChannelHistory: a higher past LGD, a higher LGD).
LGD_FEATURES: tuple[FeatureSpec, ...] = (
    _cat("industry", vocab.INDUSTRIES),
    FeatureSpec("log_package_value"),
    FeatureSpec("coverage_model", monotone=-1),
    FeatureSpec("ip_share_of_collateral", monotone=1),
    FeatureSpec("n_patents"),
    FeatureSpec("invention_share"),
    FeatureSpec("min_remaining_life_years"),
    FeatureSpec("annual_rate"),
    FeatureSpec("tenor_months"),
    FeatureSpec("economy_gdp_growth", monotone=-1),
    FeatureSpec("industry_lgd_history", monotone=1),
)


def _days(a: DateArray, b: DateArray | np.datetime64) -> FloatArray:
    """Days from ``b`` to ``a`` as float; NaT gives NaN."""
    a64 = np.asarray(a, dtype="datetime64[D]")
    b64 = np.asarray(b, dtype="datetime64[D]")
    out: FloatArray = (a64 - b64).astype("timedelta64[D]").astype(np.float64)
    out[np.isnat(np.broadcast_to(a64, out.shape)) | np.isnat(np.broadcast_to(b64, out.shape))] = np.nan
    return out


def _num(cols: Columns, name: str) -> FloatArray:
    return np.asarray(cols[name], dtype=np.float64)


def encode_category(values: AnyArray, categories: Sequence[str]) -> FloatArray:
    """Map category labels to integer codes (float); unknown or missing → NaN."""
    index = {c: float(i) for i, c in enumerate(categories)}
    return np.array([index.get(v, np.nan) if isinstance(v, str) else np.nan for v in values], dtype=np.float64)


def remaining_life_years(patent_type: AnyArray, filing_date: DateArray, as_of: DateArray | np.datetime64) -> FloatArray:
    """Statutory life left at ``as_of`` in years (0 once expired); the term by type and filing date."""
    term = terms.term_years(patent_type, filing_date)
    age = (
        _days(np.broadcast_to(np.asarray(as_of, dtype="datetime64[D]"), np.shape(filing_date)), filing_date)
        / DAYS_PER_YEAR
    )
    return np.clip(term - age, 0.0, None)


def valuation_columns(
    patents: Columns, as_of: DateArray | np.datetime64, *, owner_revenue: FloatArray | None = None
) -> dict[str, FloatArray]:
    """Derive valuation inputs for patents at ``as_of``.

    Parameters
    ----------
    patents
        Contract ``patents`` columns (arrays of equal length).
    as_of
        Valuation date(s), datetime64[D] scalar or array.
    owner_revenue
        Revenue of the owner (CNY per year), NaN where unknown.

    Returns
    -------
    dict
        Feature name → float array, for :data:`VALUATION_FEATURES`.
    """
    n = len(patents["patent_id"])
    as_of_arr = np.broadcast_to(np.asarray(as_of, dtype="datetime64[D]"), (n,))
    age = _days(as_of_arr, patents["filing_date"]) / DAYS_PER_YEAR
    out = {
        s.name: encode_category(np.asarray(patents[s.name], dtype=object), s.categories or ())
        for s in VALUATION_FEATURES[:5]
    }
    out["age_years"] = age
    out["remaining_life_years"] = remaining_life_years(
        np.asarray(patents["patent_type"], dtype=object), patents["filing_date"], as_of_arr
    )
    out["granted"] = (np.asarray(patents["legal_status"], dtype=object) == "granted").astype(np.float64)
    for name in (
        "claims_count",
        "independent_claims",
        "family_size",
        "foreign_family_members",
        "forward_citations",
        "licences_count",
        "transfers_count",
        "prior_pledges_count",
        "litigation_count",
        "invalidation_requests",
        "annual_fees_paid_years",
        "fees_up_to_date",
        "strategic_emerging",
        "patent_award",
        "co_owned",
    ):
        out[name] = _num(patents, name)
    ptype = np.asarray(patents["patent_type"], dtype=object)
    for label, names in NOT_APPLICABLE.items():
        for name in names:
            out[name] = np.where(ptype == label, np.nan, out[name])
    out["citations_per_year"] = out["forward_citations"] / np.maximum(age, 0.5)
    rev = np.full(n, np.nan) if owner_revenue is None else np.asarray(owner_revenue, dtype=np.float64)
    out["log_owner_revenue"] = np.log1p(rev)
    return out


def package_summary(
    patent_type: AnyArray, remaining_life: FloatArray, group: IndexArray, n_groups: int
) -> dict[str, FloatArray]:
    """Per-loan collateral facts from the pledged patents of each loan.

    ``group`` gives each patent's loan index in ``0..n_groups-1``.
    """
    counts = np.bincount(group, minlength=n_groups).astype(np.float64)
    inv = np.bincount(
        group, weights=(np.asarray(patent_type, dtype=object) == "invention").astype(np.float64), minlength=n_groups
    )
    min_life = np.full(n_groups, np.inf)
    np.minimum.at(min_life, group, np.asarray(remaining_life, dtype=np.float64))
    min_life[np.isinf(min_life)] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(counts > 0, inv / counts, np.nan)
    return {"n_patents": counts, "invention_share": share, "min_remaining_life_years": min_life}


def pd_columns(
    enterprises: Columns, loans: Columns, collateral: Mapping[str, FloatArray], package_value: FloatArray
) -> dict[str, FloatArray]:
    """Derive PD inputs for loans.

    Parameters
    ----------
    enterprises
        Borrower columns aligned row by row with ``loans``.
    loans
        Contract ``loans`` columns.
    collateral
        Output of :func:`package_summary` aligned with ``loans``.
    package_value
        Model estimate (P50, CNY) of each loan's pledged package.

    Returns
    -------
    dict
        Feature name → float array, for :data:`PD_FEATURES`.
    """
    out = {
        "industry": encode_category(np.asarray(enterprises["industry"], dtype=object), vocab.INDUSTRIES),
        "region": encode_category(np.asarray(enterprises["region"], dtype=object), vocab.REGIONS),
        "purpose": encode_category(np.asarray(loans["purpose"], dtype=object), vocab.LOAN_PURPOSES),
        "log_revenue": np.log1p(_num(enterprises, "revenue_cny")),
    }
    for name in (
        "employees",
        "years_registered",
        "rd_intensity",
        "high_tech",
        "specialised_sme",
        "leverage",
        "prior_overdue_count",
        "bad_credit_3y",
    ):
        out[name] = _num(enterprises, name)
    amount = _num(loans, "amount_cny")
    out["log_amount"] = np.log(amount)
    out["tenor_months"] = _num(loans, "tenor_months")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ltv_model"] = np.where(package_value > 0, amount / package_value, np.nan)
    out["ip_share_of_collateral"] = _num(loans, "ip_share_of_collateral")
    out.update({k: np.asarray(v, dtype=np.float64) for k, v in collateral.items()})
    return out


def lgd_columns(
    enterprises: Columns,
    loans: Columns,
    collateral: Mapping[str, FloatArray],
    package_value: FloatArray,
    *,
    economy: FloatArray | None = None,
    history: FloatArray | None = None,
) -> dict[str, FloatArray]:
    """Derive LGD inputs for loans (:data:`LGD_FEATURES`).

    Parameters
    ----------
    enterprises
        Borrower columns aligned with ``loans`` (only ``industry`` is read).
    loans
        Contract ``loans`` columns; a missing ``annual_rate`` is NaN (LightGBM's missing).
    collateral
        Output of :func:`package_summary` aligned with ``loans``.
    package_value
        Model estimate (P50, CNY) of each loan's pledged package.
    economy
        Real GDP growth (%) last published on each loan's date (:func:`scoring.economy.growth_on`); NaN if None.
    history
        Shrunk mean realised LGD of past disposals in each loan's industry (:mod:`scoring.lgd`); NaN if None.
    """
    amount = _num(loans, "amount_cny")
    n = len(amount)
    rate = _num(loans, "annual_rate") if "annual_rate" in loans else np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "industry": encode_category(np.asarray(enterprises["industry"], dtype=object), vocab.INDUSTRIES),
            "log_package_value": np.log1p(np.maximum(package_value, 0.0)),
            "coverage_model": np.maximum(package_value, 0.0) / amount,
            "ip_share_of_collateral": _num(loans, "ip_share_of_collateral"),
            "annual_rate": rate,
            "tenor_months": _num(loans, "tenor_months"),
            "economy_gdp_growth": np.full(n, np.nan) if economy is None else np.asarray(economy, dtype=np.float64),
            "industry_lgd_history": np.full(n, np.nan) if history is None else np.asarray(history, dtype=np.float64),
        }
    out.update({k: np.asarray(v, dtype=np.float64) for k, v in collateral.items()})
    return out


def claim_columns(
    claims: Columns, loans: Columns, default_date: DateArray, package_value: FloatArray
) -> dict[str, FloatArray]:
    """Derive claim-review inputs; ``loans`` and ``default_date`` align with ``claims``."""
    months = _days(default_date, loans["origination_date"]) / (DAYS_PER_YEAR / 12)
    principal = _num(claims, "principal_outstanding_cny")
    amount = _num(loans, "amount_cny")
    with np.errstate(divide="ignore", invalid="ignore"):
        appraisal_ratio = np.where(package_value > 0, _num(loans, "appraised_value_cny") / package_value, np.nan)
        ltv_model = np.where(package_value > 0, amount / package_value, np.nan)
        ratio = np.where(principal > 0, _num(claims, "claimed_amount_cny") / principal, np.nan)
    return {
        "months_to_default": months,
        "appraisal_ratio": appraisal_ratio,
        "patent_pledged_elsewhere": _num(claims, "patent_pledged_elsewhere"),
        "working_days_to_file": _num(claims, "working_days_to_file"),
        "evidence_provided": _num(claims, "evidence_provided"),
        "bank_prior_claims": _num(claims, "bank_prior_claims"),
        "claim_to_principal": ratio,
        "log_principal": np.log1p(principal),
        "ltv_model": ltv_model,
    }


def to_matrix(columns: Columns, specs: Sequence[FeatureSpec]) -> FloatArray:
    """Stack feature columns into a C-contiguous float64 matrix in ``specs`` order."""
    return np.ascontiguousarray(np.column_stack([np.asarray(columns[s.name], dtype=np.float64) for s in specs]))
