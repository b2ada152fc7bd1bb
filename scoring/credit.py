"""Credit risk of a pledge loan: PD, grade, LGD with and without cover, EL, maximum loan, decision."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import date
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from scoring import features as F
from scoring.explain import Contributions, Reason, top_reasons
from scoring.lgd import LgdEstimate, estimate_lgd, lgd_matrix
from scoring.lifetime import TermStructure, pd_over, term_structure_of
from scoring.models import Explanation, LoadedModel, sigmoid
from scoring.package import PackageValuation
from scoring.pledge_checks import PledgeCheck
from scoring.policy import DecisionPolicy, LtvCaps, ScoringConfig
from scoring.types import Borrower, LoanTerms, Patent
from scoring.vocab import FROZEN
from scoring.vocab.arrays import FloatArray
from scoring.vocab.lang import Lang

Decision = Literal["approve", "refer", "decline"]
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


class Lgd(BaseModel):
    """Loss given default, before and after fund, insurance and guarantee cover."""

    model_config = FROZEN
    without_cover: float = Field(ge=0, le=1, description="max(floor, the lgd model's estimate).")
    with_cover: float = Field(ge=0, le=1)
    collateral_recovery_cny: float = Field(description="Expected discounted net recovery, CNY.")
    cover_share: float = Field(ge=0, le=1, description="Share of the post-recovery loss others bear.")
    model: LgdEstimate | None = Field(
        default=None, description="The lgd model's estimate, reasons and version; None without an lgd model."
    )


class PolicyReason(BaseModel):
    """A decision-policy rule that fired."""

    model_config = FROZEN
    code: str
    text: str
    metric: str
    value: float
    threshold: float


class CreditAssessment(BaseModel):
    """Everything a loan officer needs to act on an application."""

    model_config = FROZEN
    pd: float = Field(ge=0, le=1, description="Calibrated 12-month probability of default.")
    pd_tenor: float = Field(ge=0, le=1, description="Cumulative probability of default over the loan's tenor.")
    term_structure: TermStructure = Field(description="How pd_tenor follows from pd (scoring.lifetime).")
    grade: str
    grade_expected_default_rate: float
    lgd: Lgd
    ead: float = Field(description="Exposure at default, CNY (full drawdown assumed).")
    expected_loss: float = Field(description="Lifetime PD (pd_tenor) × LGD (with cover) × EAD, CNY.")
    expected_loss_without_cover: float
    ltv: float = Field(description="Amount / pledge value (Σ P50 of the pledgeable patents); 1e9 when that is 0.")
    max_loan_amount: float = Field(description="Σ P50 × LTV cap per patent type of the pledgeable patents, CNY.")
    decision: Decision
    reasons: list[Reason] = Field(description="Up to four features that raised the PD most.")
    policy_reasons: list[PolicyReason]
    contributions: Contributions


def pd_matrix(
    borrower: Borrower, loan: LoanTerms, patents: Sequence[Patent], as_of: date, package_value: float
) -> FloatArray:
    """PD model inputs for one application (one row)."""
    as_of64 = np.datetime64(as_of, "D")
    life = F.remaining_life_years(
        np.array([p.patent_type for p in patents], dtype=object),
        np.array([np.datetime64(p.filing_date, "D") for p in patents]),
        as_of64,
    )
    summary = F.package_summary(
        np.array([p.patent_type for p in patents], dtype=object), life, np.zeros(len(patents), dtype=int), 1
    )
    ent = {k: np.array([v], dtype=object) for k, v in borrower.model_dump().items()}
    ln = {k: np.array([v], dtype=object) for k, v in loan.model_dump().items()}
    cols = F.pd_columns(ent, ln, summary, np.array([package_value], dtype=float))
    return F.to_matrix(cols, F.PD_FEATURES)


def loss_given_default(
    loan: LoanTerms,
    package: PackageValuation,
    *,
    floor: float = 0.0,
    estimate: LgdEstimate | None = None,
    cover_share: float | None = None,
) -> Lgd:
    """LGD without cover from the disposal model (or, without one, the liquidation value), then cover.

    With ``estimate`` (the ``lgd`` model, trained on disposal outcomes:
    price or failure, costs and time to cash discounted at the loan's rate),
    LGD without cover is ``max(floor, estimate.model_lgd)``.  Without it, the
    legacy haircut: only the patents that live and can be registered
    (``package.liquidation_value``), other collateral given no value.  The
    cover applies after the floor: ``cover_share`` is
    :attr:`scoring.cover.Cover.share` (the fund's rules or the what-if); None
    takes the loan's typed shares.
    """
    ead = loan.amount_cny
    if estimate is not None:
        gross = max(floor, estimate.model_lgd)
        recovery = (1 - estimate.model_lgd) * ead
    else:
        recovery = min(ead, package.liquidation_value)
        gross = max(floor, 1 - recovery / ead)
    typed = min(1.0, loan.insured_share + loan.fund_cover_share + loan.guarantee_share)
    cover = typed if cover_share is None else cover_share
    return Lgd(
        without_cover=gross,
        with_cover=gross * (1 - cover),
        collateral_recovery_cny=recovery,
        cover_share=cover,
        model=estimate,
    )


def _policy(
    policy: DecisionPolicy, metrics: dict[str, float], texts: ScoringConfig, lang: Lang
) -> tuple[Decision, list[PolicyReason]]:
    fired = [r for r in policy.rules if _OPS[r.op](metrics[r.metric], r.value)]
    decision: Decision = fired[0].decision if fired else policy.default
    reasons = [
        PolicyReason(
            code=r.code,
            text=texts.reasons.policy[r.code].text(lang),
            metric=r.metric,
            value=metrics[r.metric],
            threshold=r.value,
        )
        for r in fired
    ]
    return decision, reasons


def lgd_inputs(
    lgd_model: LoadedModel | None,
    *,
    borrower: Borrower,
    loan: LoanTerms,
    patents: Sequence[Patent],
    as_of: date,
    package: PackageValuation,
) -> FloatArray | None:
    """The lgd model's input row, or None where it is not asked.

    The model values what a disposal can sell: the pledgeable patents' P50.  With nothing pledgeable there
    is nothing to dispose of, and the legacy rule (the IP recovers nothing) holds rather than a model asked
    about a package it never saw; without a model, the legacy haircut.
    """
    if lgd_model is None or package.pledgeable_patents == 0:
        return None
    return lgd_matrix(
        lgd_model, borrower=borrower, loan=loan, patents=patents, as_of=as_of, package_value=package.pledgeable_p50
    )


def assess_credit(
    model: LoadedModel,
    *,
    borrower: Borrower,
    loan: LoanTerms,
    patents: Sequence[Patent],
    checks: Sequence[Sequence[PledgeCheck]],
    package: PackageValuation,
    as_of: date,
    config: ScoringConfig,
    caps: LtvCaps,
    lang: Lang = "en",
    x: FloatArray | None = None,
    cover_share: float | None = None,
    lgd_model: LoadedModel | None = None,
    lgd_x: FloatArray | None = None,
) -> CreditAssessment:
    """Score one pledge-loan application.

    Parameters
    ----------
    model
        The calibrated PD model (log-odds space).
    borrower, loan, patents
        The application's facts.
    checks, package
        The pledged patents' registration checks (one list per patent) and
        their package valuation (from :mod:`scoring.valuation`).
    as_of
        Application date.
    config, caps
        Scoring configuration and the institution's LTV caps.
    lang
        Language of reason texts.
    x
        The PD model's input row, when the caller already built it.
    cover_share
        Share of the loss at default others pay (:mod:`scoring.cover`); None
        takes the loan's typed shares.
    lgd_model
        The ``lgd`` model (disposal outcomes); None keeps the legacy haircut.
    lgd_x
        The lgd model's input row, when the caller already built it.

    Returns
    -------
    CreditAssessment
        PD (12 months and over the tenor), grade, LGD, EL (CNY, lifetime), maximum loan, decision and reasons.
    """
    if x is None:
        x = pd_matrix(borrower, loan, patents, as_of, package.total_p50)
    ex: Explanation = model.explain(x, space="log-odds")[0]
    pd = float(sigmoid(np.array([ex.output]))[0])
    structure = term_structure_of(model.manifest.get("extra"))
    pd_tenor = pd_over(pd, loan.tenor_months, structure)
    grade = config.grades.grade_of(pd)
    estimate = None
    if lgd_x is None:
        lgd_x = lgd_inputs(lgd_model, borrower=borrower, loan=loan, patents=patents, as_of=as_of, package=package)
    if lgd_model is not None and lgd_x is not None:
        estimate = estimate_lgd(
            lgd_model,
            lgd_x,
            floor=config.valuation.lgd_floor,
            texts=config.reasons.lgd,
            lang=lang,
            as_of=as_of,
        )
    lgd = loss_given_default(
        loan, package, floor=config.valuation.lgd_floor, estimate=estimate, cover_share=cover_share
    )
    ead = loan.amount_cny
    metrics = {
        "pd": pd,
        "ltv": ead / package.pledge_value_cny if package.pledge_value_cny > 0 else 1e9,
        "amount_over_max": ead / package.max_pledge_amount if package.max_pledge_amount > 0 else 1e9,
        "failed_checks": float(sum(c.status == "fail" for cs in (*checks, package.checks) for c in cs)),
        "warned_checks": float(sum(c.status == "warn" for cs in (*checks, package.checks) for c in cs)),
        "tenor_over_cap": float(max(0, loan.tenor_months - caps.max_tenor_months)),
        "expected_loss_rate": pd_tenor * lgd.with_cover,
        "pledgeable_patents": float(package.pledgeable_patents),
    }
    decision, policy_reasons = _policy(config.decision, metrics, config, lang)
    return CreditAssessment(
        pd=pd,
        pd_tenor=pd_tenor,
        term_structure=structure,
        grade=grade.grade,
        grade_expected_default_rate=grade.expected_default_rate,
        lgd=lgd,
        ead=ead,
        expected_loss=pd_tenor * lgd.with_cover * ead,
        expected_loss_without_cover=pd_tenor * lgd.without_cover * ead,
        ltv=metrics["ltv"],
        max_loan_amount=package.max_pledge_amount,
        decision=decision,
        reasons=top_reasons(ex, config.reasons.pd, lang=lang, k=4),
        policy_reasons=policy_reasons,
        contributions=Contributions.from_explanation(ex),
    )
