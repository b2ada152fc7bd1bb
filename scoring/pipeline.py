"""Compose the scoring steps: valuation of a package, and the full loan assessment."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from scoring.credit import CreditAssessment, assess_credit, pd_matrix
from scoring.models import LoadedModel
from scoring.pledge_checks import check_pledge
from scoring.policy import LtvCaps, ScoringConfig
from scoring.types import Borrower, LoanTerms, Patent
from scoring.valuation import PackageValuation, PatentValuation, valuation_matrix, value_package, value_patents

Lang = Literal["en", "zh"]


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


def run_valuation(model: LoadedModel, patents: Sequence[Patent], *, as_of: date, config: ScoringConfig,
                  caps: LtvCaps, lang: Lang = "en", pledgor: str | None = None, tenor_months: int | None = None,
                  pledged_in_service: Collection[str] = (), owner_revenue: float | None = None,
                  revenue_attributable: float | None = None) -> ValuationResult:
    """Value a package of patents and run every registration check.

    ``pledged_in_service`` holds ids of patents securing other active loans
    recorded by the service (double-pledge detection).
    """
    checks = [check_pledge(p, as_of=as_of, texts=config.reasons.checks, lang=lang, pledgor=pledgor,
                           tenor_months=tenor_months, pledged_in_service=p.patent_id in pledged_in_service)
              for p in patents]
    x = valuation_matrix(patents, as_of, owner_revenue)
    valuations = value_patents(model, patents, as_of=as_of, config=config, caps=caps, checks=checks, lang=lang,
                               owner_revenue=owner_revenue, revenue_attributable=revenue_attributable, x=x)
    return ValuationResult(patents=valuations, package=value_package(valuations, config), inputs=x)


def run_assessment(valuation_model: LoadedModel, pd_model: LoadedModel, *, borrower: Borrower,
                   loan: LoanTerms, patents: Sequence[Patent], as_of: date, config: ScoringConfig,
                   caps: LtvCaps, lang: Lang = "en", pledged_in_service: Collection[str] = ()) -> AssessmentResult:
    """Value the pledged patents, then score the loan on them."""
    valuation = run_valuation(valuation_model, patents, as_of=as_of, config=config, caps=caps, lang=lang,
                              pledgor=borrower.enterprise_id, tenor_months=loan.tenor_months,
                              pledged_in_service=pledged_in_service, owner_revenue=borrower.revenue_cny)
    x = pd_matrix(borrower, loan, patents, as_of, valuation.package.total_p50)
    credit = assess_credit(pd_model, borrower=borrower, loan=loan, patents=patents,
                           valuations=valuation.patents, package=valuation.package, as_of=as_of,
                           config=config, caps=caps, lang=lang, x=x)
    return AssessmentResult(valuation=valuation, credit=credit, inputs=x)
