"""Compose the scoring steps: valuation of a package, and the full loan assessment."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from scoring.credit import CreditAssessment, assess_credit, lgd_inputs, pd_matrix
from scoring.models import LoadedModel
from scoring.package import PackageValuation, pledge_scale, value_bases, value_package
from scoring.pledge_checks import PledgeCheck, check_contract, check_pledge, pledge_notes
from scoring.pledges import PatentPledge, PledgeContract
from scoring.policy import LtvCaps, PledgeValuePolicy, ScoringConfig
from scoring.types import Borrower, LoanTerms, Patent
from scoring.valuation import PatentValuation, income_approaches, quantiles, valuation_matrix, value_patents
from scoring.vocab.arrays import FloatArray
from scoring.vocab.lang import Lang

# Ids of patents pledged for other active loans in the service, or the call that looks them up.
Pledged = Collection[str] | Callable[[], Collection[str]]
# Pledge facts by patent id; a patent without an entry is pledged by the borrower.
Pledges = Mapping[str, PatentPledge]
_NONE = PatentPledge()
# The valuation booster whose SHAP explains each patent's value.
EXPLAINED_ROLE = "p50"


class ValuationResult(BaseModel):
    """Per-patent valuations and the package figures."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    patents: list[PatentValuation]
    package: PackageValuation
    inputs: FloatArray = Field(exclude=True, description="Valuation model inputs, one row per patent.")


class Collateral(BaseModel):
    """What sets the pledge value besides the patents: the owner's tax status, the bank's appraisal, its policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    high_tech: bool = Field(default=False, description="The owner is a high and new technology enterprise.")
    appraisal: float | None = Field(default=None, ge=0, description="The bank's appraisal of the package, CNY.")
    policy: PledgeValuePolicy | None = Field(default=None, description="None: the configured default.")


class AssessmentResult(BaseModel):
    """A loan assessment with the valuation it rests on."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    valuation: ValuationResult
    credit: CreditAssessment
    inputs: FloatArray = Field(exclude=True, description="PD model input row.")
    lgd_inputs: FloatArray | None = Field(default=None, exclude=True, description="lgd model input row, if scored.")


def _start_valuation(
    model: LoadedModel,
    patents: Sequence[Patent],
    *,
    as_of: date,
    config: ScoringConfig,
    caps: LtvCaps,
    lang: Lang,
    pledgor: str | None,
    pledges: Pledges,
    contract: PledgeContract | None,
    tenor_months: int | None,
    pledged_in_service: Pledged,
    owner_revenue: float | None,
    revenue_attributable: float | None,
    collateral: Collateral,
) -> tuple[PackageValuation, list[list[PledgeCheck]], Callable[[], ValuationResult]]:
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
            third_party=pledges.get(p.patent_id, _NONE).pledgor,
            same_day_declared=pledges.get(p.patent_id, _NONE).same_day_invention_declared,
            tenor_months=tenor_months,
            pledged_in_service=p.patent_id in pledged,
        )
        for p in patents
    ]
    q = quantiles(model, x)
    bases = value_bases(patents, checks, as_of)
    whole = [check_contract(contract, texts=config.reasons.checks, items=config.reasons.contract_items, lang=lang)]
    caps_by_patent = [caps.cap(p.patent_type) for p in patents]
    incomes = income_approaches(
        patents,
        bases=bases,
        as_of=as_of,
        config=config,
        owner_revenue=owner_revenue,
        revenue_attributable=revenue_attributable,
        high_tech=collateral.high_tech,
    )
    package = value_package(
        q,
        caps_by_patent,
        checks,
        config,
        bases=bases,
        package_checks=whole,
        lang=lang,
        incomes=[None if i is None else i.value for i in incomes],
        appraisal=collateral.appraisal,
        policy=collateral.policy,
    )
    counted_p50 = sum(float(v) for v, b in zip(q[:, 1], bases, strict=True) if b == "pledgeable")

    def finish() -> ValuationResult:
        notes = [
            pledge_notes(
                borrower=pledgor,
                named=pledges.get(p.patent_id, _NONE).pledgor,
                texts=config.reasons.notes,
                lang=lang,
            )
            for p in patents
        ]
        valuations = value_patents(
            model,
            patents,
            q=q,
            contributions=model.contributions(x, EXPLAINED_ROLE),
            as_of=as_of,
            config=config,
            caps=caps,
            checks=checks,
            bases=bases,
            notes=notes,
            lang=lang,
            owner_revenue=owner_revenue,
            revenue_attributable=revenue_attributable,
            incomes=incomes,
            pledge_scale=pledge_scale(package.pledge_value_cny, counted_p50),
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
    pledges: Pledges | None = None,
    contract: PledgeContract | None = None,
    tenor_months: int | None = None,
    pledged_in_service: Pledged = (),
    owner_revenue: float | None = None,
    revenue_attributable: float | None = None,
    collateral: Collateral | None = None,
) -> ValuationResult:
    """Value a package of patents and run every registration check.

    ``pledgor`` is the borrower, who pledges every patent that ``pledges`` does
    not give another pledgor (a third party); ``contract`` says what the pledge
    contract contains (None: not assessed).  ``pledged_in_service`` holds ids
    of patents securing other active loans recorded by the service
    (double-pledge detection), or is a call that returns them.  ``collateral``
    sets the pledge value's basis (:class:`Collateral`).
    """
    _, _, finish = _start_valuation(
        model,
        patents,
        as_of=as_of,
        config=config,
        caps=caps,
        lang=lang,
        pledgor=pledgor,
        pledges=pledges or {},
        contract=contract,
        tenor_months=tenor_months,
        pledged_in_service=pledged_in_service,
        owner_revenue=owner_revenue,
        revenue_attributable=revenue_attributable,
        collateral=collateral or Collateral(),
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
    pledges: Pledges | None = None,
    contract: PledgeContract | None = None,
    pledged_in_service: Pledged = (),
    cover_share: float | None = None,
    appraisal: float | None = None,
    pledge_policy: PledgeValuePolicy | None = None,
    lgd_model: LoadedModel | None = None,
) -> AssessmentResult:
    """Value the pledged patents, then score the loan on them.

    ``cover_share`` is the share of a loss others pay (:mod:`scoring.cover`); ``appraisal``
    (the bank's, CNY) and ``pledge_policy`` set the pledge value (:class:`Collateral`); the LGD
    comes from ``lgd_model`` when given.
    """
    package, checks, finish = _start_valuation(
        valuation_model,
        patents,
        as_of=as_of,
        config=config,
        caps=caps,
        lang=lang,
        pledgor=borrower.enterprise_id,
        pledges=pledges or {},
        contract=contract,
        tenor_months=loan.tenor_months,
        pledged_in_service=pledged_in_service,
        owner_revenue=borrower.revenue_cny,
        revenue_attributable=None,
        collateral=Collateral(high_tech=borrower.high_tech, appraisal=appraisal, policy=pledge_policy),
    )
    # The PD model learned its ltv_model input on the model P50 of every pledged patent
    # (training.prepare.package_values), so it is given the same; what the collateral is
    # worth to the lender (pledgeable patents only) enters through the LGD and the maximum loan.
    x = pd_matrix(borrower, loan, patents, as_of, package.total_p50)
    lgd_x = lgd_inputs(lgd_model, borrower=borrower, loan=loan, patents=patents, as_of=as_of, package=package)
    scored = lgd_x is not None
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
        cover_share=cover_share,
        lgd_model=lgd_model if scored else None,
        lgd_x=lgd_x,
    )
    return AssessmentResult(valuation=finish(), credit=credit, inputs=x, lgd_inputs=lgd_x)
