"""Valuations, assessments, quotes and loans over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import uuid
from typing import Any

import httpx
import pytest

from scoring.grades import load_grade_scale
from service.client import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from service.schemas.scoring import DEMO_LOAN, DEMO_PATENTS, EXAMPLE_BORROWER, EXAMPLE_LOAN
from tests.factories import application, patent
from tests.service.harness import Server

SCALE = load_grade_scale()


def test_valuation_figures_and_explanations(server: Server) -> None:
    pats = [
        patent(),
        patent(
            patent_type="utility_model",
            filing_date="2022-01-10",
            grant_date="2022-09-01",
            tech_field="automotive_industrial",
            ipc_section="B",
        ),
    ]
    body = {
        "patents": pats,
        "context": {
            "as_of": "2026-06-30",
            "owner_revenue_cny": 48_000_000,
            "pledgor_id": "E-GY-0001",
            "tenor_months": 24,
        },
    }
    with server.client("bank_a") as c:
        v = c.value(body)
    assert v.model_versions == {"valuation": "1"} and v.synthetic_models
    for pv, p in zip(v.patents, pats, strict=True):
        assert pv.patent_id == p["patent_id"]
        assert 0 < pv.p10 <= pv.p50 <= pv.p90
        c_ = pv.contributions
        assert c_.space == "log CNY"
        assert math.isclose(c_.base_value + sum(c_.values.values()), math.log(pv.p50), abs_tol=1e-6)
        assert pv.stars is not None and 1 <= pv.stars <= 5 and 0 <= pv.legal_score <= 100
        assert {ch.check for ch in pv.checks} == {
            "registered_owner",
            "legal_status",
            "annual_fees",
            "ownership_dispute",
            "preservation_order",
            "debt_term",
            "co_owner_consent",
            "not_already_pledged",
            "invalidation",
            "same_day_invention",
        }
        assert all(ch.status == "pass" for ch in pv.checks)
        assert pv.value_basis == "pledgeable" and pv.pledge_value_cny == pv.p50 and pv.value_note is None
        ia = pv.income_approach
        assert ia is not None and ia.revenue_used_cny == pytest.approx(48_000_000 * 0.3 / 2)
        assert ia.value_low < ia.value < ia.value_high
        assert 1 <= len(pv.reasons) <= 4
    pkg = v.package
    assert pkg.total_p50 == pytest.approx(sum(p.p50 for p in v.patents))
    assert pkg.liquidation_value == pytest.approx(pkg.total_p50 * 0.55 * 0.9)
    assert pkg.max_pledge_amount == pytest.approx(v.patents[0].p50 * 0.25 + v.patents[1].p50 * 0.15)
    assert pkg.registrable and pkg.pledge_value_cny == pytest.approx(pkg.total_p50) and pkg.pledgeable_patents == 2
    assert [(c.check, c.status) for c in pkg.checks] == [("contract_contents", "not_assessed")]


def test_checks_fail_for_refusal_grounds(server: Server) -> None:
    bad = patent(
        legal_status="lapsed",
        fees_up_to_date=False,
        owner_id="E-OTHER",
        ownership_dispute=True,
        co_owned=True,
        co_owner_consent=False,
        invalidation_pending=True,
    )
    with server.client("bank_a") as c:
        v = c.value({"patents": [bad], "context": {"pledgor_id": "E-GY-0001", "tenor_months": 12}})
    status = {ch.check: ch.status for ch in v.patents[0].checks}
    assert status["registered_owner"] == "fail" and status["legal_status"] == "fail"
    assert status["annual_fees"] == "fail" and status["ownership_dispute"] == "fail"
    assert status["co_owner_consent"] == "fail" and status["invalidation"] == "warn"
    assert not v.package.registrable


def test_assessment_numbers_are_consistent(server: Server) -> None:
    with server.client("bank_a") as c:
        a = c.assess(application())
    assert 0 < a.pd < 1
    g = SCALE.grade_of(a.pd)
    assert (a.grade, a.grade_expected_default_rate) == (g.grade, g.expected_default_rate)
    assert a.ead == EXAMPLE_LOAN["amount_cny"]
    # EL is lifetime: the PD over the 24-month tenor, above the 12-month PD.
    assert a.pd_tenor > a.pd
    assert a.expected_loss == pytest.approx(a.pd_tenor * a.lgd.with_cover * a.ead)
    assert a.lgd.with_cover == pytest.approx(a.lgd.without_cover * (1 - 0.6))
    # LGD without cover is the lgd model's (or its floor), stored with the model version.
    assert a.lgd.model is not None and a.model_versions["lgd"] == a.lgd.model.model_version
    assert a.lgd.without_cover == max(a.lgd.model.model_lgd, a.lgd.model.floor)
    assert a.ltv == pytest.approx(a.ead / a.valuation.package.total_p50)
    assert a.max_loan_amount == pytest.approx(a.valuation.package.max_pledge_amount)
    logit = math.log(a.pd / (1 - a.pd))
    assert math.isclose(a.contributions.base_value + sum(a.contributions.values.values()), logit, abs_tol=1e-6)
    assert a.contributions.space == "log-odds"
    assert len(a.reasons) <= 4
    assert all(r.contribution > 0 and r.feature in a.contributions.values for r in a.reasons)
    assert a.model_versions == {"valuation": "1", "pd": "1", "lgd": "1"}
    assert a.decision in ("approve", "refer", "decline")


def test_decision_policy_declines_refused_pledge_and_refers_big_amounts(server: Server) -> None:
    app = application()
    app["patents"][0]["fees_up_to_date"] = False
    big = application(amount_cny=500_000_000)
    with server.client("bank_a") as c:
        declined = c.assess(app)
        over = c.assess(big)
    assert declined.decision == "decline"
    assert declined.policy_reasons[0].code == "POL_PLEDGE_REFUSED"
    assert over.decision == "decline" and over.policy_reasons[0].code == "POL_AMOUNT_FAR_OVER_CAP"


def test_reasons_in_both_languages(server: Server) -> None:
    app = application()
    app["borrower"].update(leverage=0.9, prior_overdue_count=4, bad_credit_3y=True)
    with server.client("bank_a", lang="en") as c:
        en = c.assess(app)
    with server.client("bank_a", lang="zh") as c:
        zh = c.assess(app)
    assert [r.code for r in en.reasons] == [r.code for r in zh.reasons]
    assert en.reasons and all(r.text.isascii() for r in en.reasons)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r.text) for r in zh.reasons)
    assert "PD_BAD_CREDIT" in {r.code for r in en.reasons} or "PD_LEVERAGE" in {r.code for r in en.reasons}


def test_stored_results_read_back_and_list(server: Server) -> None:
    with server.client("bank_a") as c:
        a = c.assess(application())
        v = c.value({"patents": [patent()]})
        assert c.get_assessment(a.id) == a
        assert c.get_valuation(v.id) == v
        page = c.list_assessments(limit=500)
        assert a.id in {i["id"] for i in page.items}
        assert page.total >= 1
        assert c.list_assessments(since=a.as_of.replace(year=2000), until=a.as_of.replace(year=2001)).total == 0


def test_assessment_from_an_earlier_valuation(server: Server) -> None:
    with server.client("bank_a") as c:
        v = c.value({"patents": [patent()]})
        a = c.assess({"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "valuation_id": v.id})
    assert a.valuation_id == v.id
    assert a.valuation.patents[0].patent_id == v.patents[0].patent_id


def test_tenant_isolation_on_every_read(server: Server) -> None:
    with server.client("bank_a") as a_client:
        a = a_client.assess(application())
        v = a_client.value({"patents": [patent()]})
        q = a_client.quote(
            {
                "quote": {
                    "product": "pledge_guarantee",
                    "assessment_id": a.id,
                    "insured_share": 0.3,
                    "split": {"government": 0.4, "bank": 0.2, "insurer": 0.4},
                }
            }
        )
        loan = a_client.book_loan({"assessment_id": a.id})
    with server.client("bank_b") as b:
        for call in (
            lambda: b.get_assessment(a.id),
            lambda: b.get_valuation(v.id),
            lambda: b.get_quote(q.id),
            lambda: b.get_loan(loan.id),
            lambda: b.close_loan(loan.id),
            lambda: b.assess({"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "valuation_id": v.id}),
        ):
            with pytest.raises(NotFoundError):
                call()
        assert a.id not in {i["id"] for i in b.list_assessments(limit=500).items}
        assert v.id not in {i["id"] for i in b.list_valuations(limit=500).items}
    with server.client("regulator") as r:
        assert r.get_assessment(a.id).id == a.id


def test_insurance_quotes(server: Server) -> None:
    with server.client("bank_a") as c:
        a = c.assess(application())
        q = c.quote(
            {
                "quote": {
                    "product": "pledge_guarantee",
                    "assessment_id": a.id,
                    "insured_share": 0.3,
                    "split": {"government": 0.4, "bank": 0.2, "insurer": 0.4},
                }
            }
        )
        e = c.quote(
            {
                "quote": {
                    "product": "patent_enforcement",
                    "tier": "enhanced",
                    "patents": [patent(litigation_count=2), patent()],
                }
            }
        )
    g = q.guarantee
    assert g is not None and a.pricing is not None
    assert g.share_basis == "what_if" and g.split is not None and g.split.insurer == 0.4
    assert g.sum_insured == pytest.approx(a.ead * 0.3)
    el = a.pricing.lifetime_pd * min(a.lgd.without_cover * a.ead * 0.4, g.sum_insured)
    assert g.insurer_expected_loss == pytest.approx(el)
    years = a.pricing.tenor_months / 12
    raw = el * 1.3 / 0.75
    assert g.premium == pytest.approx(min(max(raw, 0.005 * g.sum_insured * years), 0.08 * g.sum_insured * years))
    assert g.expected_loss_ratio == pytest.approx(el / g.premium)
    assert q.model_versions == a.model_versions
    en = e.enforcement
    assert en is not None
    assert en.base_premium == 4000 + 2 * 400
    assert en.litigation_loading == pytest.approx(0.1 * 2 / 2)
    assert en.premium == pytest.approx(4800 * 1.1)
    assert en.limit == pytest.approx(4800 * 30)


def test_double_pledge_is_flagged_without_naming_the_bank(server: Server) -> None:
    app = application()
    with server.client("bank_a") as a_client:
        a = a_client.assess(app)
        a_client.book_loan({"assessment_id": a.id})
        with pytest.raises(ConflictError):
            a_client.book_loan({"assessment_id": a.id})
    with server.client("bank_b") as b:
        v = b.value({"patents": app["patents"]})
        check = next(ch for ch in v.patents[0].checks if ch.check == "not_already_pledged")
        assert check.status == "fail" and check.code == "PLEDGE_DOUBLE"
        assert "bank_a" not in check.reason
        assessed = b.assess({**app, "borrower": EXAMPLE_BORROWER})
        assert assessed.decision == "decline"
        with pytest.raises(ConflictError):
            b.book_loan({"assessment_id": assessed.id})


def test_closing_a_loan_releases_its_patents(server: Server) -> None:
    app = application()
    with server.client("bank_a") as c:
        loan = c.book_loan({"assessment_id": c.assess(app).id})
        assert c.close_loan(loan.id).status == "closed"
        v = c.value({"patents": app["patents"]})
    check = next(ch for ch in v.patents[0].checks if ch.check == "not_already_pledged")
    assert check.status == "pass"


def test_batch_items_fail_alone(server: Server) -> None:
    good = application()
    bad_type = application()
    bad_type["patents"][0]["patent_type"] = "trademark"
    unknown_valuation = {"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "valuation_id": str(uuid.uuid4())}
    granted_before_filed = application()
    granted_before_filed["patents"][0]["grant_date"] = "2020-01-01"
    before = server.count("assessments")
    with server.client("bank_a") as c:
        out = c.assess_batch([good, bad_type, unknown_valuation, granted_before_filed])
    assert (out.succeeded, out.failed) == (1, 3)
    assert [r.status for r in out.results] == ["ok", "error", "error", "error"]
    assert out.results[1].error is not None and out.results[1].error.field == "items.1.patents.0.patent_type"
    assert out.results[2].error is not None and out.results[2].error.error == "NotFound"
    # a cross-field rule names the field it is about, inside the item
    assert out.results[3].error is not None and out.results[3].error.field == "items.3.patents.0.grant_date"
    assert out.results[3].error.detail == "patents.0.grant_date: 2020-01-01 is before filing_date 2021-03-15"
    assert server.count("assessments") == before + 1


def test_batch_over_the_limit_is_refused(server: Server) -> None:
    with server.client("bank_a") as c, pytest.raises(ValidationFailed) as info:
        c.assess_batch([application() for _ in range(6)])
    assert info.value.field == "items"


BAD_INPUTS = [
    ("patents.0.patent_type", lambda a: a["patents"][0].update(patent_type="trademark")),
    ("patents.0.grant_date", lambda a: a["patents"][0].update(grant_date="2020-01-01")),  # before filing
    ("loan.amount_cny", lambda a: a["loan"].update(amount_cny=-5)),
    ("loan.amount_cny", lambda a: a["loan"].update(amount_cny=0.5)),  # under the contract's 1 CNY
    ("loan.amount_cny", lambda a: a["loan"].update(amount_cny=1e15)),
    ("loan.tenor_months", lambda a: a["loan"].update(tenor_months="long")),
    ("borrower.surprise", lambda a: a["borrower"].update(surprise=1)),
    ("patents", lambda a: a.update(patents=[patent() for _ in range(51)])),
    # dates outside 1985-04-01 .. 2199-12-31 (the maturity of 9999-12-31 was a 422 saying "unreachable")
    ("as_of", lambda a: a.update(as_of="9999-12-31")),
    ("patents.0.filing_date", lambda a: a["patents"][0].update(filing_date="1985-03-31")),
    ("patents.0.grant_date", lambda a: a["patents"][0].update(grant_date="2200-01-01")),
    # facts dated after the application date (as_of 2026-06-30)
    ("patents.0.grant_date", lambda a: a["patents"][0].update(grant_date="2026-07-01")),
]


@pytest.mark.parametrize(("field", "mutate"), BAD_INPUTS)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(server: Server, field: str, mutate: Any) -> None:
    app = application()
    mutate(app)
    before = (server.count("assessments"), server.count("audit_log"))
    with server.client("bank_a") as c, pytest.raises(ValidationFailed) as info:
        c.assess(app)
    assert info.value.field is not None and info.value.field.startswith(field)
    assert info.value.errors and info.value.errors[0]["field"] == info.value.field
    assert (server.count("assessments"), server.count("audit_log")) == before


def test_a_valuation_dated_past_the_calendar_is_422_not_500(server: Server) -> None:
    before = server.count("valuations")
    with server.client("bank_a") as c, pytest.raises(ValidationFailed) as info:
        c.value({"patents": [patent()], "context": {"as_of": "9999-12-31"}})
    assert info.value.field == "context.as_of"
    assert server.count("valuations") == before


def test_patent_facts_after_the_valuation_date_are_422(server: Server) -> None:
    before = server.count("valuations")
    with server.client("bank_a") as c:
        with pytest.raises(ValidationFailed) as info:
            c.value(
                {
                    "patents": [patent(filing_date="2025-01-02", grant_date="2025-09-01")],
                    "context": {"as_of": "2025-06-30"},
                }
            )
        assert info.value.field == "patents.0.grant_date"
        assert info.value.detail.startswith("patents.0.grant_date: 2025-09-01 is after as_of 2025-06-30")
        v = c.value(
            {
                "patents": [patent(filing_date="2025-01-02", legal_status="pending", grant_date=None)],
                "context": {"as_of": "2025-06-30"},
            }
        )  # pending, filed before the date: fine
        # an assessment of that valuation dated before its filing is refused, naming as_of
        with pytest.raises(ValidationFailed) as info:
            c.assess({"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "valuation_id": v.id, "as_of": "2024-12-31"})
        assert info.value.field == "as_of" and "patents.0.filing_date: 2025-01-02 is after" in info.value.detail
    assert server.count("valuations") == before + 1


def test_tenor_past_patent_life_is_422(server: Server) -> None:
    app = application(tenor_months=120)
    app["patents"][0].update(filing_date="2008-01-01", grant_date="2010-01-01")
    with server.client("bank_a") as c, pytest.raises(ValidationFailed) as info:
        c.assess(app)
    assert info.value.field == "loan.tenor_months" and "the loan ends" in info.value.detail


def test_401_403_404_write_nothing(server: Server) -> None:
    before = (server.count("assessments"), server.count("valuations"), server.count("audit_log"))
    with httpx.Client(base_url=server.base_url) as raw:
        assert raw.post("/v1/assessments", json=application()).status_code == 401
        r = raw.post("/v1/assessments", json=application(), headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
    with server.client("regulator") as reg, pytest.raises(PermissionDenied):
        reg.assess(application())
    with server.client("fund_manager") as fm, pytest.raises(PermissionDenied):
        fm.value({"patents": [patent()]})
    with server.client("bank_a") as c, pytest.raises(NotFoundError):
        c.assess({"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "valuation_id": "missing"})
    assert (server.count("assessments"), server.count("valuations"), server.count("audit_log")) == before


def test_revoked_key_stops_working(server: Server) -> None:
    from service.client import IpriskClient
    from service.keys import new_key, revoke

    before = server.count("audit_log")
    plain, row = new_key(server.settings, role="bank", institution="bank_c")
    with IpriskClient(server.base_url, api_key=plain) as c:
        c.value({"patents": [patent()]})
        assert row.id is not None
        revoke(server.settings, row.id)
        with pytest.raises(AuthenticationError):
            c.value({"patents": [patent()]})
    assert server.count("audit_log") == before + 3  # key created, valuation, key revoked


def test_every_write_is_audited(server: Server) -> None:
    before = server.count("audit_log")
    with server.client("bank_a") as c:
        c.assess(application())
        c.value({"patents": [patent()]})
    assert server.count("audit_log") == before + 2


def _ops(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys['data_team']}"}


def test_metrics_by_route_template(server: Server) -> None:
    with server.client("bank_a") as c:
        a = c.assess(application())
        c.get_assessment(a.id)
    assert httpx.get(f"{server.base_url}/openapi.json").status_code == 200
    assert httpx.get(f"{server.base_url}/no/such/{uuid.uuid4()}").status_code == 404
    text = httpx.get(f"{server.base_url}/metrics", headers=_ops(server)).text
    assert 'iprisk_http_requests_total{method="GET",route="/v1/assessments/{assessment_id}",status="2xx"}' in text
    assert 'iprisk_http_requests_total{method="GET",route="/openapi.json",status="2xx"}' in text
    assert 'route="unmatched",status="4xx"' in text and "/no/such" not in text
    assert a.id not in text
    assert "iprisk_pd_bucket" in text
    assert 'iprisk_model_info{model="pd",version="1"} 1.0' in text
    # Which boosters the exact SHAP kernel explains (1) and which fall back to pred_contrib (0).
    assert 'iprisk_shap_kernel{model="valuation",role="p50"} 1.0' in text
    assert "iprisk_http_requests_in_flight 1.0" in text  # the scrape itself


def test_assessment_keeps_the_inputs_of_each_model_for_drift(server: Server) -> None:
    """One row each for the PD and lgd models, one per patent for the valuation model."""
    before = server.count("feature_snapshots")
    with server.client("bank_a") as c:
        c.assess(application())
    assert server.count("feature_snapshots") - before == 3


def test_the_demo_application_the_start_prints_is_accepted_and_not_declined(server: Server) -> None:
    """The curl request `iprisk serve` prints on a demo start: ¥1m against three patents, within the caps."""
    with server.client("bank_a") as c:
        a = c.assess({"borrower": EXAMPLE_BORROWER, "loan": DEMO_LOAN, "patents": DEMO_PATENTS})
    assert a.max_loan_amount >= DEMO_LOAN["amount_cny"], a.policy_reasons
    assert a.decision != "decline", (a.decision, a.policy_reasons)
    assert a.pd_tenor > a.pd  # 24 months: the lifetime PD is shown beside the 12-month one
