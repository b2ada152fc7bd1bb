"""Compose the scoring steps: valuation of a package, and the full loan assessment."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from scoring.credit import CreditAssessment, assess_credit, pd_matrix
from scoring.models import LoadedModel
from scoring.pledge_checks import Check, check_pledge
from scoring.policy import LtvCaps, ScoringConfig
from scoring.types import Borrower, LoanTerms, Patent
from scoring.valuation import (
    PackageValuation,
    PatentValuation,
    quantiles,
    valuation_matrix,
    value_package,
    value_patents,
)

Lang = Literal["en", "zh"]
# Ids of patents pledged for other active loans in the service, or the call that looks them up.
Pledged = Collection[str] | Callable[[], Collection[str]]
# The valuation booster whose SHAP explains each patent's value.
EXPLAINED_ROLE = "p50"


class ValuationResult(BaseModel):
    """Per-patent valuations and the package figures."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    patents: list[PatentValuation]
    package: PackageValuation
    inputs: np.ndarray = Field(exclude=True, description="Valuation model inputs, one row per patent.")


class AssessmentResult(BaseModel):
    """A loan assessment with the valuation it rests on."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    valuation: ValuationResult
    credit: CreditAssessment
    inputs: np.ndarray = Field(exclude=True, description="PD model input row.")


def _start_valuation(
    model: LoadedModel,
    patents: Sequence[Patent],
    *,
    as_of: date,
    config: ScoringConfig,
    caps: LtvCaps,
    lang: Lang,
    pledgor: str | None,
    tenor_months: int | None,
    pledged_in_service: Pledged,
    owner_revenue: float | None,
    revenue_attributable: float | None,
) -> tuple[PackageValuation, list[list[Check]], Callable[[], ValuationResult]]:
    """The package figures and checks at once; the call that finishes the valuation with its SHAP.

    Nothing in the package figures or the credit assessment needs the
    valuation's SHAP (the quantiles come from the boosters' raw scores).
    """
    x = valuation_matrix(patents, as_of, owner_revenue)
    pledged = pledged_in_service() if callable(pledged_in_service) else pledged_in_service
    checks = [
        check_pledge(
            p,
            as_of=as_of,
            texts=config.reasons.checks,
            lang=lang,
            pledgor=pledgor,
            tenor_months=tenor_months,
            pledged_in_service=p.patent_id in pledged,
        )
        for p in patents
    ]
    q = quantiles(model, x)
    package = value_package(q, [caps.cap(p.patent_type) for p in patents], checks, config)

    def finish() -> ValuationResult:
        valuations = value_patents(
            model,
            patents,
            q=q,
            contributions=model.contributions(x, EXPLAINED_ROLE),
            as_of=as_of,
            config=config,
            caps=caps,
            checks=checks,
            lang=lang,
            owner_revenue=owner_revenue,
            revenue_attributable=revenue_attributable,
        )
        return ValuationResult(patents=valuations, package=package, inputs=x)

    return package, checks, finish


def run_valuation(
    model: LoadedModel,
    patents: Sequence[Patent],
    *,
    as_of: date,
    config: ScoringConfig,
    caps: LtvCaps,
    lang: Lang = "en",
    pledgor: str | None = None,
    tenor_months: int | None = None,
    pledged_in_service: Pledged = (),
    owner_revenue: float | None = None,
    revenue_attributable: float | None = None,
) -> ValuationResult:
    """Value a package of patents and run every registration check.

    ``pledged_in_service`` holds ids of patents securing other active loans
    recorded by the service (double-pledge detection), or is a call that
    returns them.
    """
    _, _, finish = _start_valuation(
        model,
        patents,
        as_of=as_of,
        config=config,
        caps=caps,
        lang=lang,
        pledgor=pledgor,
        tenor_months=tenor_months,
        pledged_in_service=pledged_in_service,
        owner_revenue=owner_revenue,
        revenue_attributable=revenue_attributable,
    )
    return finish()


def run_assessment(
    valuation_model: LoadedModel,
    pd_model: LoadedModel,
    *,
    borrower: Borrower,
    loan: LoanTerms,
    patents: Sequence[Patent],
    as_of: date,
    config: ScoringConfig,
    caps: LtvCaps,
    lang: Lang = "en",
    pledged_in_service: Pledged = (),
) -> AssessmentResult:
    """Value the pledged patents, then score the loan on them."""
    package, checks, finish = _start_valuation(
        valuation_model,
        patents,
        as_of=as_of,
        config=config,
        caps=caps,
        lang=lang,
        pledgor=borrower.enterprise_id,
        tenor_months=loan.tenor_months,
        pledged_in_service=pledged_in_service,
        owner_revenue=borrower.revenue_cny,
        revenue_attributable=None,
    )
    x = pd_matrix(borrower, loan, patents, as_of, package.total_p50)
    credit = assess_credit(
        pd_model,
        borrower=borrower,
        loan=loan,
        patents=patents,
        checks=checks,
        package=package,
        as_of=as_of,
        config=config,
        caps=caps,
        lang=lang,
        x=x,
    )
    return AssessmentResult(valuation=finish(), credit=credit, inputs=x)
