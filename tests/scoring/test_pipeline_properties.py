"""Property tests: every application and valuation the API accepts is scored, with finite, consistent figures.

Hypothesis draws applications field by field from the request models' own
types and ranges (categories from their ``Literal``, numbers between their
bounds, dates between the Patent Law and ``as_of``), keeps those the request
model accepts, and runs the real pipeline on the trained champions.  A raise
here would be a 500 in the service; a NaN or an inverted quantile a wrong
number shown to a loan officer.
"""

from __future__ import annotations

import json
import math
import typing
from datetime import date, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from models_store import ModelStore
from scoring.models import LoadedModel
from scoring.patent_ids import application_number
from scoring.pipeline import run_assessment, run_valuation
from scoring.policy import ScoringConfig, load_scoring_config
from scoring.types import EARLIEST, Borrower, LoanTerms, Patent
from scoring.valuation import PatentValuation
from service.bundle import load_champion
from service.schemas.scoring import AssessmentRequest, ValuationContext, ValuationRequest
from tests.factories import Trained, business_today
from tests.field_bounds import bounds


def _field(info: Any) -> st.SearchStrategy[Any] | None:
    """A strategy for one scalar field from its type and bounds; None for ids and dates (drawn apart)."""
    kind = info.annotation
    args = typing.get_args(kind)
    if typing.get_origin(kind) is typing.Literal:
        return st.sampled_from(args)
    if kind is bool:
        return st.booleans()
    lo, hi, _ = bounds(info)
    if kind is int:
        return st.integers(int(lo if lo is not None else 0), int(hi if hi is not None else 1000))
    if kind is float:
        # log-uniform over wide ranges (amounts, revenue), plus the bounds themselves
        lo_f, hi_f = float(lo if lo is not None else 0.0), float(hi if hi is not None else 1e6)
        inner = st.floats(lo_f, hi_f, allow_nan=False, allow_infinity=False)
        if hi_f > 1000 * max(lo_f, 1.0):
            inner = st.one_of(inner, st.floats(math.log10(max(lo_f, 1.0)), math.log10(hi_f)).map(lambda e: 10**e))
        return st.one_of(st.just(lo_f), st.just(hi_f), inner).filter(lambda v: lo_f <= v <= hi_f)
    return None


def _model(model: type[BaseModel], **fixed: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    fields = {n: s for n, info in model.model_fields.items() if (s := _field(info)) is not None}
    return st.fixed_dictionaries({**fields, **fixed})


def _patents(draw: st.DrawFn, as_of: date) -> list[dict[str, Any]]:
    patents = []
    for i in range(draw(st.integers(1, 3))):
        filed = draw(st.dates(max(EARLIEST, as_of - timedelta(days=25 * 365)), as_of))
        p = draw(_model(Patent))
        # the cross-field rules of Patent, drawn rather than filtered (filtering most draws away is slow)
        granted = (
            draw(st.dates(filed, as_of))
            if p["legal_status"] == "granted"
            else draw(st.one_of(st.none(), st.dates(filed, as_of)))
        )
        p.update(
            patent_id=application_number(filed, p["patent_type"], i + 1),
            filing_date=filed.isoformat(),
            grant_date=granted.isoformat() if granted else None,
            owner_id="E-1",
            foreign_family_members=draw(st.integers(0, p["family_size"])),
        )
        if p["patent_type"] != "design":  # designs have no claims
            claims = draw(st.integers(1, 500))
            p.update(claims_count=claims, independent_claims=draw(st.integers(1, min(100, claims))))
        patents.append(p)
    return patents


@st.composite
def applications(draw: st.DrawFn) -> dict[str, Any]:
    as_of = draw(st.dates(date(1995, 1, 1), date(2150, 12, 31)))
    patents = _patents(draw, as_of)
    borrower = draw(_model(Borrower))
    borrower["enterprise_id"] = "E-1"
    loan = draw(_model(LoanTerms))
    left = 1.0  # the cover shares add up to at most 1
    for share in ("insured_share", "fund_cover_share", "guarantee_share"):
        loan[share] = draw(st.one_of(st.just(0.0), st.just(left), st.floats(0.0, left)))
        left = max(0.0, left - loan[share])
    return {"borrower": borrower, "loan": loan, "patents": patents, "as_of": as_of.isoformat()}


@st.composite
def valuation_requests(draw: st.DrawFn) -> dict[str, Any]:
    as_of = draw(st.dates(date(1995, 1, 1), date(2150, 12, 31)))
    context = draw(_model(ValuationContext))
    for name in ("revenue_attributable_cny", "owner_revenue_cny", "tenor_months"):
        if draw(st.booleans()):
            context[name] = None
    return {"patents": _patents(draw, as_of), "context": {**context, "as_of": as_of.isoformat()}}


@pytest.fixture(scope="module")
def champions(trained: Trained) -> tuple[LoadedModel, LoadedModel, ScoringConfig]:
    store = ModelStore(trained.models)
    return load_champion(store, "valuation"), load_champion(store, "pd"), load_scoring_config(None)


def test_every_accepted_application_gets_finite_consistent_figures(
    champions: tuple[LoadedModel, LoadedModel, ScoringConfig],
) -> None:
    valuation, pd_model, config = champions
    accepted: list[AssessmentRequest] = []

    @_examples(100)
    @given(body=applications())
    def check(body: dict[str, Any]) -> None:
        req = _accepted(AssessmentRequest, body, accepted)
        r = run_assessment(
            valuation,
            pd_model,
            borrower=req.borrower,
            loan=req.loan,
            patents=list(req.patents or []),
            as_of=req.as_of or business_today(),
            config=config,
            caps=config.ltv.for_institution("bank_a"),
        )
        _all_finite(r.model_dump())  # NaN or inf would be sent as null
        json.loads(r.model_dump_json())  # and it serialises
        credit, pkg = r.credit, r.valuation.package
        assert 0 < credit.pd < 1 and 0 <= credit.lgd.with_cover <= credit.lgd.without_cover <= 1
        assert 0 <= credit.expected_loss <= credit.expected_loss_without_cover <= credit.ead + 1e-6
        assert credit.ead == req.loan.amount_cny and credit.decision in ("approve", "refer", "decline")
        assert 0 < pkg.total_p10 <= pkg.total_p50 <= pkg.total_p90
        assert 0 <= pkg.liquidation_value <= pkg.total_p50 and 0 <= pkg.max_pledge_amount <= pkg.total_p50
        for v in r.valuation.patents:
            _explained_quantiles(v)
        c = credit.contributions
        assert c.base_value + sum(c.values.values()) == pytest.approx(c.output, abs=1e-9)
        assert 1 / (1 + math.exp(-c.output)) == pytest.approx(credit.pd, rel=1e-9)
        assert len(credit.reasons) <= 4

    check()
    assert len(accepted) >= 90  # nearly every drawn application is one the API accepts: the properties ran


def _examples(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )


M = TypeVar("M", bound=BaseModel)


def _accepted(model: type[M], body: dict[str, Any], accepted: list[M]) -> M:
    """The request as the API would validate it; a body the API answers with 422 is not this test's business."""
    try:
        req = model.model_validate(body)
    except ValidationError:
        assume(False)
        raise
    accepted.append(req)
    return req


def _explained_quantiles(v: PatentValuation) -> None:
    assert 0 < v.p10 <= v.p50 <= v.p90
    c = v.contributions
    assert c.base_value + sum(c.values.values()) == pytest.approx(c.output, abs=1e-9)
    assert c.output == pytest.approx(math.log(v.p50), abs=1e-9)  # the shown P50 is the explained one


def _all_finite(x: Any) -> None:
    if isinstance(x, dict):
        for v in x.values():
            _all_finite(v)
    elif isinstance(x, list):
        for v in x:
            _all_finite(v)
    elif isinstance(x, float):
        assert math.isfinite(x)


def test_every_accepted_valuation_gets_finite_ordered_explained_figures(
    champions: tuple[LoadedModel, LoadedModel, ScoringConfig],
) -> None:
    valuation, _, config = champions
    accepted: list[ValuationRequest] = []

    @_examples(60)
    @given(body=valuation_requests())
    def check(body: dict[str, Any]) -> None:
        req = _accepted(ValuationRequest, body, accepted)
        ctx = req.context
        r = run_valuation(
            valuation,
            req.patents,
            as_of=ctx.as_of or business_today(),
            config=config,
            caps=config.ltv.for_institution("bank_a"),
            tenor_months=ctx.tenor_months,
            owner_revenue=ctx.owner_revenue_cny,
            revenue_attributable=ctx.revenue_attributable_cny,
        )
        _all_finite(r.model_dump())
        for v in r.patents:
            _explained_quantiles(v)
            assert (v.stars is None) == (v.value_basis == "not_alive")
            assert v.stars is None or 1 <= v.stars <= 5
            if v.income_approach is not None:
                ia = v.income_approach
                assert 0 <= ia.value_low <= ia.value <= ia.value_high
        assert 0 <= r.package.liquidation_value <= r.package.total_p50

    check()
    assert len(accepted) >= 50


def _lives(p: Patent, as_of: date) -> bool:
    """Written out apart from scoring: granted, and the statutory term (by type and filing date) not over."""
    if p.patent_type == "design":
        years = 15 if p.filing_date >= date(2021, 6, 1) else 10
    else:
        years = 20 if p.patent_type == "invention" else 10
    try:
        end = p.filing_date.replace(year=p.filing_date.year + years)
    except ValueError:  # 29 February
        end = p.filing_date.replace(year=p.filing_date.year + years, day=28)
    return p.legal_status == "granted" and as_of < end


_CLEAN = {
    "ownership_dispute": False,
    "preservation_order": False,
    "currently_pledged": False,
    "co_owned": False,
    "fees_up_to_date": True,
}


@st.composite
def mixed_packages(draw: st.DrawFn) -> dict[str, Any]:
    """Valuation requests whose patents are often free of every other refusal ground, so life decides."""
    body = draw(valuation_requests())
    for p in body["patents"]:
        if draw(st.booleans()):
            p.update(_CLEAN)
            if draw(st.booleans()):
                p.update(legal_status="granted", grant_date=p["grant_date"] or p["filing_date"])
    return body


def test_max_pledge_never_counts_a_patent_that_does_not_live(
    champions: tuple[LoadedModel, LoadedModel, ScoringConfig],
) -> None:
    """Whatever the package, a patent that does not live (or fails a registration ground) adds nothing."""
    valuation, _, config = champions
    caps = config.ltv.for_institution("bank_a")
    seen = {"dead": 0, "alive": 0}

    @_examples(80)
    @given(body=mixed_packages())
    def check(body: dict[str, Any]) -> None:
        req = _accepted(ValuationRequest, body, [])
        as_of = req.context.as_of or business_today()
        r = run_valuation(valuation, req.patents, as_of=as_of, config=config, caps=caps, pledgor="E-1", tenor_months=12)
        counted = 0.0
        for p, v in zip(req.patents, r.patents, strict=True):
            failed = any(c.status == "fail" for c in v.checks)
            if not _lives(p, as_of) or failed:
                seen["dead"] += 1
                assert v.pledge_value_cny == 0 and v.value_basis != "pledgeable" and v.value_note is not None
            else:
                seen["alive"] += 1
                assert v.pledge_value_cny == v.p50 and v.value_basis == "pledgeable"
                counted += v.p50 * caps.cap(p.patent_type)
        assert r.package.max_pledge_amount == pytest.approx(counted, rel=1e-12, abs=1e-9)
        assert r.package.liquidation_value <= r.package.pledge_value_cny <= r.package.total_p50 + 1e-6
        assert (r.package.note is None) == (r.package.pledgeable_patents > 0)

    check()
    assert seen["dead"] >= 5 and seen["alive"] >= 5  # both kinds were drawn
