"""Claim-review score: how likely a compensation claim is irregular, with exact TreeSHAP reasons.

The claim_review model learnt from the fund's past review findings; its
inputs are built by :func:`scoring.features.claim_columns` from the same facts
a fund sees in a claim and its loan, so a claim filed over the API is scored
exactly as the training rows were.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from scoring import features as F
from scoring.explain import Contributions, Reason, top_reasons
from scoring.models import Explanation, LoadedModel, sigmoid
from scoring.policy import ReasonText
from scoring.vocab import FROZEN
from scoring.vocab.arrays import FloatArray

SPACE = "log-odds"


class ClaimReviewFacts(BaseModel):
    """What the model sees of a claim and its loan (CNY, dates, counts)."""

    model_config = FROZEN
    origination_date: date
    default_date: date
    loan_amount_cny: float = Field(gt=0)
    appraised_value_cny: float | None = None
    package_value_cny: float | None = Field(default=None, description="Model (P50) value of the pledged patents.")
    principal_outstanding_cny: float = Field(ge=0)
    claimed_amount_cny: float = Field(ge=0)
    working_days_to_file: int = Field(ge=0)
    evidence_provided: bool
    patent_pledged_elsewhere: bool
    bank_prior_claims: int = Field(ge=0)


class ClaimReview(BaseModel):
    """Probability that the claim is irregular, and the contributions behind it."""

    model_config = FROZEN
    model_version: str
    probability: float = Field(ge=0, le=1)
    contributions: Contributions


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def claim_matrix(facts: ClaimReviewFacts) -> FloatArray:
    """One-row feature matrix in :data:`scoring.features.CLAIM_FEATURES` order."""
    claims = {
        "principal_outstanding_cny": np.array([facts.principal_outstanding_cny]),
        "claimed_amount_cny": np.array([facts.claimed_amount_cny]),
        "patent_pledged_elsewhere": np.array([float(facts.patent_pledged_elsewhere)]),
        "working_days_to_file": np.array([float(facts.working_days_to_file)]),
        "evidence_provided": np.array([float(facts.evidence_provided)]),
        "bank_prior_claims": np.array([float(facts.bank_prior_claims)]),
    }
    loans = {
        "origination_date": np.array([facts.origination_date], dtype="datetime64[D]"),
        "amount_cny": np.array([facts.loan_amount_cny]),
        "appraised_value_cny": np.array([_nan(facts.appraised_value_cny)]),
    }
    cols = F.claim_columns(
        claims, loans, np.array([facts.default_date], dtype="datetime64[D]"), np.array([_nan(facts.package_value_cny)])
    )
    return F.to_matrix(cols, F.CLAIM_FEATURES)


def review_claim(model: LoadedModel, facts: ClaimReviewFacts) -> ClaimReview:
    """Score one claim.

    Parameters
    ----------
    model
        The claim_review champion.
    facts
        The claim and its loan.

    Returns
    -------
    ClaimReview
        Probability the claim is irregular (needs a closer look) and exact
        TreeSHAP contributions in log-odds: ``base_value + Σ values == output``.
    """
    ex = model.explain(claim_matrix(facts), space=SPACE)[0]
    return ClaimReview(
        model_version=model.version,
        probability=float(sigmoid(np.array(ex.output))),
        contributions=Contributions.from_explanation(ex),
    )


def review_reasons(
    review: ClaimReview, texts: Mapping[str, ReasonText], *, lang: Literal["en", "zh"], k: int = 4
) -> list[Reason]:
    """The (at most ``k``) features that raised the irregularity score most, with their texts."""
    c = review.contributions
    ex = Explanation(space=c.space, base_value=c.base_value, contributions=dict(c.values), output=c.output)
    return top_reasons(ex, dict(texts), lang=lang, k=k)
