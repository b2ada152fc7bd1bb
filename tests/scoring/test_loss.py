"""Loss over the loan's life: lifetime PD in EL, and LGD from the model trained on disposals."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pytest

from models_store import ModelStore
from scoring.lifetime import TermStructure, pd_over, term_structure_of
from scoring.models import LoadedModel
from scoring.pipeline import AssessmentResult, run_assessment
from scoring.policy import ScoringConfig, load_scoring_config
from scoring.types import Borrower, LoanTerms, Patent
from service.bundle import load_champion
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_PATENT
from tests.factories import TEST_SIGNING_KEY, Trained

AS_OF = date(2026, 6, 30)
Models = tuple[LoadedModel, LoadedModel, LoadedModel, ScoringConfig]


@pytest.fixture(scope="module")
def models(trained: Trained) -> Models:
    store = ModelStore(trained.models, signing_key=TEST_SIGNING_KEY.encode())
    return (
        load_champion(store, "valuation"),
        load_champion(store, "pd"),
        load_champion(store, "lgd"),
        load_scoring_config(None),
    )


def _assess(models: Models, **loan: Any) -> AssessmentResult:
    valuation, pd_model, lgd_model, config = models
    return run_assessment(
        valuation,
        pd_model,
        borrower=Borrower.model_validate(EXAMPLE_BORROWER),
        loan=LoanTerms.model_validate({"amount_cny": 3_000_000, "tenor_months": 24, "purpose": "rd", **loan}),
        patents=[Patent.model_validate(EXAMPLE_PATENT)],
        as_of=AS_OF,
        config=config,
        caps=config.ltv.for_institution("bank_a"),
        lgd_model=lgd_model,
    )


def test_ip_only_loan_lgd_and_el_follow_from_the_disposal_model_not_the_floor(models: Models) -> None:
    """A ¥3m loan secured only by patents: LGD is the lgd model's, above the floor, and EL is built on it."""
    credit = _assess(models, ip_share_of_collateral=1.0, annual_rate=0.05).credit
    lgd = credit.lgd
    assert lgd.model is not None
    assert lgd.model.model_version == models[2].version
    floor = models[3].valuation.lgd_floor
    assert not lgd.model.floor_applied and lgd.model.model_lgd > floor
    assert lgd.without_cover == lgd.model.model_lgd
    # SHAP reasons add up to the model's log-odds, and the estimate is its sigmoid.
    c = lgd.model.contributions
    assert c.base_value + sum(c.values.values()) == pytest.approx(c.output, abs=1e-9)
    assert 1 / (1 + math.exp(-c.output)) == pytest.approx(lgd.model.model_lgd, rel=1e-12)
    assert lgd.model.reasons and all(r.direction == "increases" for r in lgd.model.reasons)
    # Time to recovery, from the same model version's second booster (the generator: 4-24 months).
    assert lgd.model.months_to_recovery is not None and 4 <= lgd.model.months_to_recovery <= 24
    assert credit.expected_loss_without_cover == pytest.approx(credit.pd_tenor * lgd.model.model_lgd * 3_000_000)
    # More non-IP collateral recovers more: the model, not a constant, sets the LGD.
    mixed = _assess(models, ip_share_of_collateral=0.4, annual_rate=0.05).credit.lgd
    assert mixed.model is not None and mixed.model.model_lgd < lgd.model.model_lgd


def test_the_floor_applies_when_the_model_goes_below_it(models: Models) -> None:
    valuation, pd_model, lgd_model, config = models
    high = config.model_copy(update={"valuation": config.valuation.model_copy(update={"lgd_floor": 0.99})})
    credit = _assess((valuation, pd_model, lgd_model, high), ip_share_of_collateral=1.0).credit
    assert credit.lgd.model is not None and credit.lgd.model.floor_applied
    assert credit.lgd.without_cover == 0.99


def test_36_month_loan_has_a_higher_el_than_a_12_month_loan_on_the_same_borrower(models: Models) -> None:
    short = _assess(models, tenor_months=12, annual_rate=0.05).credit
    long = _assess(models, tenor_months=36, annual_rate=0.05).credit
    assert short.pd_tenor == pytest.approx(short.pd, rel=1e-12)  # the lifetime PD of a 12-month loan is its PD
    assert long.pd_tenor > long.pd
    assert long.expected_loss > short.expected_loss
    assert long.expected_loss == pytest.approx(long.pd_tenor * long.lgd.with_cover * long.ead)
    structure = long.term_structure
    assert long.pd_tenor == pytest.approx(pd_over(long.pd, 36, structure), rel=1e-12)


def test_pd_models_carry_a_fitted_term_structure(models: Models) -> None:
    structure = term_structure_of(models[1].manifest.get("extra"))
    assert structure.method == "weibull_proportional_hazard"
    assert 0.3 < structure.shape < 3.0
    assert structure.n_events is not None and structure.n_events > 0


def test_lifetime_pd_is_the_weibull_term_structure() -> None:
    ts = TermStructure(shape=0.9)
    assert pd_over(0.05, 12, ts) == pytest.approx(0.05)
    assert pd_over(0.05, 36, ts) == pytest.approx(1 - 0.95 ** (3**0.9))
    assert pd_over(0.05, 0, ts) == 0.0
    assert pd_over(1.0, 24, ts) == 1.0
    months = np.array([6, 12, 18, 24, 30, 36])
    values = [pd_over(0.08, float(m), ts) for m in months]
    assert all(np.diff(values) > 0)
    old = term_structure_of({})  # a PD model trained before term structures: a constant hazard
    assert old.shape == 1.0 and pd_over(0.05, 24, old) == pytest.approx(1 - 0.95**2)
