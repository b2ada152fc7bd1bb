"""Pledged patents: legal, technical and economic facts as noisy signals of quality.

Every patent is drawn for one loan; its facts describe it as of that loan's
origination date.  A latent quality ``q ~ N(0, 1)`` drives the observable
signals (citations, family, claims, licences, ...) and, in
:mod:`training.synth.value`, the true value.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scoring.terms import term_years
from scoring.vocab import (
    INDUSTRIES,
    IPC_SECTIONS,
    LEGAL_STATUSES,
    OWNER_TYPES,
    PATENT_TYPES,
    TECH_FIELDS,
)
from scoring.vocab.arrays import AnyArray, DateArray, FloatArray, IndexArray
from training.synth.params import PatentParams
from training.synth.sampling import lookup, matrix, pick, pick_rows, sigmoid, weights, years_to_days

INVENTION, UTILITY, DESIGN = (PATENT_TYPES.index(t) for t in ("invention", "utility_model", "design"))
GRANTED, PENDING, LAPSED, INVALIDATED = (
    LEGAL_STATUSES.index(s) for s in ("granted", "pending", "lapsed", "invalidated")
)


def statutory_terms(ptype: IndexArray, filing_date: DateArray) -> FloatArray:
    """Statutory term in years of each patent, by type index and filing date (:mod:`scoring.terms`)."""
    return term_years(np.take(np.asarray(PATENT_TYPES, dtype=object), ptype), filing_date)


def _by_type(mapping: dict[str, tuple[float, float]], k: int) -> FloatArray:
    return np.array([mapping[t][k] for t in PATENT_TYPES], dtype=np.float64)


def _classify(rng: np.random.Generator, p: PatentParams, owner_industry: IndexArray) -> dict[str, AnyArray]:
    n = len(owner_industry)
    ptype = pick(rng, weights(p.type_mix, PATENT_TYPES), n)
    other = rng.integers(0, len(INDUSTRIES), n)
    industry = np.where(rng.random(n) < p.same_industry_as_owner, owner_industry, other)
    tech = pick_rows(rng, matrix(p.tech_field_by_industry, INDUSTRIES, TECH_FIELDS)[industry])
    ipc = pick_rows(rng, matrix(p.ipc_by_tech_field, TECH_FIELDS, IPC_SECTIONS)[tech])
    return {"patent_type": ptype, "industry": industry, "tech_field": tech, "ipc_section": ipc}


def _dates(rng: np.random.Generator, p: PatentParams, ptype: IndexArray, as_of: DateArray) -> dict[str, AnyArray]:
    """Filing/grant dates, legal status and fee history at ``as_of``."""
    n = len(ptype)
    lo, hi = _by_type(p.grant_lag_years, 0)[ptype], _by_type(p.grant_lag_years, 1)[ptype]
    lag = lo + (hi - lo) * rng.random(n)
    shape, scale = _by_type(p.post_grant_age_gamma, 0)[ptype], _by_type(p.post_grant_age_gamma, 1)[ptype]
    age = lag + rng.gamma(shape, scale)
    # The term depends on the filing date (designs filed before 2021-06-01: 10 years, from then 15).
    # Capping with the term of the uncapped filing date is enough: the cap only moves a filing date
    # later, so a design either keeps its 10 years or moves past 2021-06-01 into 15.
    age = np.minimum(age, statutory_terms(ptype, as_of - years_to_days(age)) - p.min_remaining_life_years)
    pending = (ptype == INVENTION) & (rng.random(n) < p.pending_share_invention)
    age = np.where(pending, 0.3 + (lag - 0.4) * rng.random(n), age)
    u = rng.random(n)
    status = np.full(n, GRANTED)
    status[~pending & (u < p.lapsed_share)] = LAPSED
    status[~pending & (u >= p.lapsed_share) & (u < p.lapsed_share + p.invalidated_share)] = INVALIDATED
    status[pending] = PENDING
    filing = as_of - years_to_days(age)
    grant = filing + years_to_days(np.minimum(lag, age))
    grant = np.where(pending, np.datetime64("NaT"), grant)
    # Fee years are counted from filing and paid from the grant year on, the
    # current year in advance.
    paid = np.floor(age) + 1 - np.floor(lag)
    paid = np.where(status == LAPSED, np.maximum(paid - rng.integers(1, 4, n), 0), paid)
    paid = np.where(pending, 0, np.clip(paid, 0, 20)).astype(np.int64)
    fees_ok = np.where(status == GRANTED, rng.random(n) >= p.unpaid_fees_share_granted, status == PENDING)
    return {
        "filing_date": filing,
        "grant_date": grant,
        "legal_status": status,
        "age_years": age,
        "annual_fees_paid_years": paid,
        "fees_up_to_date": fees_ok,
    }


def _poisson(rng: np.random.Generator, ab: tuple[float, float], q: FloatArray) -> NDArray[np.int64]:
    return rng.poisson(np.exp(ab[0] + ab[1] * q)).astype(np.int64)


def _signals(
    rng: np.random.Generator,
    p: PatentParams,
    ptype: IndexArray,
    tech: IndexArray,
    age: FloatArray,
    q: FloatArray,
) -> dict[str, AnyArray]:
    """Observable technical and economic facts, each a noisy function of quality."""
    n = len(q)
    rate = lookup(p.citations_per_year, PATENT_TYPES)[ptype] * np.minimum(age, p.citations_age_cap_years)
    mix = rng.gamma(p.citations_gamma_shape, 1.0 / p.citations_gamma_shape, n)
    citations = rng.poisson(rate * np.exp(p.citations_quality_loading * q) * mix)
    family = 1 + rng.poisson(np.exp(lookup(p.family_log_rate, PATENT_TYPES)[ptype] + p.family_quality_loading * q))
    foreign = rng.binomial(family - 1, sigmoid(p.foreign_logit[0] + p.foreign_logit[1] * q))
    claims = np.rint(
        lookup(p.claims_median, PATENT_TYPES)[ptype]
        * np.exp(p.claims_quality_loading * q + p.claims_log_sd * rng.standard_normal(n))
    )
    # Designs have no claims (protected by drawings or photographs): missing, as in the contract.
    claims = np.where(ptype == DESIGN, np.nan, np.clip(claims, 1, 500))
    independent = np.minimum(claims, 1 + _poisson(rng, p.independent_log_rate, q))
    strategic = rng.random(n) < sigmoid(
        p.strategic_logit[0] + p.strategic_logit[1] * q + lookup(p.strategic_field_shift, TECH_FIELDS)[tech]
    )
    award = (ptype == INVENTION) & (rng.random(n) < sigmoid(p.award_logit[0] + p.award_logit[1] * q))
    return {
        "forward_citations": citations.astype(np.int64),
        "family_size": family.astype(np.int64),
        "foreign_family_members": foreign.astype(np.int64),
        "claims_count": claims,
        "independent_claims": independent,
        "licences_count": _poisson(rng, p.licences_log_rate, q),
        "transfers_count": _poisson(rng, p.transfers_log_rate, q),
        "prior_pledges_count": _poisson(rng, p.prior_pledges_log_rate, q),
        "litigation_count": _poisson(rng, p.litigation_log_rate, q),
        "invalidation_requests": _poisson(rng, p.invalidation_log_rate, q),
        "strategic_emerging": strategic,
        "patent_award": award,
    }


def _flags(rng: np.random.Generator, p: PatentParams, out: dict[str, AnyArray]) -> dict[str, AnyArray]:
    """Facts the pledge-registration checks look at."""
    n = len(out["legal_status"])
    requests = np.where(
        out["legal_status"] == INVALIDATED,
        np.maximum(out["invalidation_requests"], 1),
        out["invalidation_requests"],
    )
    co_owned = rng.random(n) < p.co_owned_share
    return {
        "invalidation_requests": requests,
        "invalidation_pending": (requests > 0)
        & (out["legal_status"] != INVALIDATED)
        & (rng.random(n) < p.invalidation_pending_given_request),
        "co_owned": co_owned,
        "co_owner_consent": co_owned & (rng.random(n) < p.co_owner_consent_share),
        "ownership_dispute": rng.random(n) < p.ownership_dispute_share,
        "preservation_order": rng.random(n) < p.preservation_order_share,
        "currently_pledged": rng.random(n) < p.currently_pledged_share,
    }


def _owners(rng: np.random.Generator, p: PatentParams, borrower: IndexArray, n_enterprises: int) -> dict[str, AnyArray]:
    """Registered owner: the borrower, except a few mismatches."""
    n = len(borrower)
    mismatch = rng.random(n) < p.owner_mismatch_share
    kind = np.where(
        mismatch, pick(rng, weights(p.mismatch_owner_types, OWNER_TYPES), n), OWNER_TYPES.index("enterprise")
    )
    other = (borrower + rng.integers(1, max(n_enterprises, 2), n)) % max(n_enterprises, 1)
    owner = np.where(mismatch, other, borrower)
    return {
        "owner_type": kind,
        "owner_enterprise": owner,
        "owner_mismatch": mismatch,
        "owner_serial": rng.integers(1, 200, n),
    }


def draw_patents(
    rng: np.random.Generator,
    p: PatentParams,
    *,
    borrower: IndexArray,
    owner_industry: IndexArray,
    as_of: DateArray,
    n_enterprises: int,
) -> dict[str, AnyArray]:
    """Draw the pledged patents.

    Parameters
    ----------
    rng
        The portfolio's random generator.
    p
        Patent parameters.
    borrower
        Enterprise index of the borrower pledging each patent.
    owner_industry
        The borrower's industry index.
    as_of
        Origination date (datetime64[D]) of the loan each patent is pledged to.
    n_enterprises
        Number of enterprises (for mismatched owners).

    Returns
    -------
    dict
        Column arrays; categoricals as vocabulary indices, ``quality`` latent.
    """
    out = _classify(rng, p, owner_industry)
    out.update(_dates(rng, p, out["patent_type"], as_of))
    q = rng.standard_normal(len(borrower))
    out["quality"] = q
    out.update(_signals(rng, p, out["patent_type"], out["tech_field"], out["age_years"], q))
    out.update(_flags(rng, p, out))
    out.update(_owners(rng, p, borrower, n_enterprises))
    return out
