"""Collateral integrity over real HTTP (issue 11 B): only living, registrable patents count; third parties pledge."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scoring.pledge_checks import PledgeCheck
from service.client import ValidationFailed
from service.schemas.scoring import (
    EXAMPLE_BORROWER,
    EXAMPLE_LOAN,
    EXAMPLE_PATENT,
    AssessmentResponse,
    ValuationResponse,
)
from tests.patent_numbers import fresh_patent_id
from tests.service.harness import Server

AS_OF = "2026-06-30"
CONTEXT = {"as_of": AS_OF, "pledgor_id": "E-GY-0001", "tenor_months": 24}
CLAIM_CODES = {"VAL_CLAIMS", "VAL_INDEP_CLAIMS"}


def patent(**over: Any) -> dict[str, Any]:
    p = copy.deepcopy(EXAMPLE_PATENT)
    p.update(over)
    p["patent_id"] = fresh_patent_id(p["patent_type"])
    return {k: v for k, v in p.items() if v is not None}


def design(filed: str, granted: str) -> dict[str, Any]:
    return patent(
        patent_type="design",
        ipc_section="F",
        tech_field="consumer",
        filing_date=filed,
        grant_date=granted,
        claims_count=None,
        independent_claims=None,
        family_size=1,
        foreign_family_members=0,
    )


def ground(a: AssessmentResponse, check: str) -> PledgeCheck:
    """The first patent's registration check ``check``."""
    return next(ch for ch in a.valuation.patents[0].checks if ch.check == check)


def application(patents: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "patents": patents, "as_of": AS_OF, **extra}


def test_the_1999_invention_has_pledge_value_0_max_pledge_0_and_no_stars(server: Server) -> None:
    old = patent(filing_date="1999-03-15", grant_date="2001-06-20")
    with server.client("bank_a", lang="zh") as c:
        v = c.value({"patents": [old], "context": CONTEXT})
    pv, pkg = v.patents[0], v.package
    assert pv.p50 > 0 and pv.value_basis == "not_alive" and pv.pledge_value_cny == 0 and pv.stars is None
    assert pv.value_note is not None and pv.value_note.code == "VALUE_EXPIRED"
    assert pv.value_note.text == "专利已于2019-03-15届满：质押价值为0，不评星级；模型估值仅供参考"
    assert {c.code for c in pv.checks if c.status == "fail"} == {"STATUS_EXPIRED", "TERM_EXCEEDS"}
    assert pkg.max_pledge_amount == 0 and pkg.pledge_value_cny == 0 and pkg.liquidation_value == 0
    assert not pkg.registrable and pkg.note is not None and pkg.note.code == "NO_PLEDGEABLE_PATENT"
    assert pkg.total_p50 == pytest.approx(pv.p50)  # the model's estimate is still there, labelled


def test_a_2015_design_is_expired_in_2026_a_2022_design_alive_and_neither_explained_by_claims(server: Server) -> None:
    old, new = design("2015-03-01", "2015-09-01"), design("2022-03-01", "2022-09-01")
    with server.client("bank_a") as c:
        v = c.value({"patents": [old, new], "context": CONTEXT})
    expired, alive = v.patents
    status = {ch.check: ch for ch in expired.checks}["legal_status"]
    assert (status.status, status.code) == ("fail", "STATUS_EXPIRED") and "2025-03-01" in status.reason
    assert expired.value_basis == "not_alive" and expired.pledge_value_cny == 0 and expired.stars is None
    assert alive.value_basis == "pledgeable" and alive.pledge_value_cny == alive.p50 and alive.stars is not None
    assert all(ch.status == "pass" for ch in alive.checks)
    assert v.package.max_pledge_amount == pytest.approx(alive.p50 * 0.15)
    for pv in (expired, alive):
        assert pv.reasons and not {r.code for r in pv.reasons} & CLAIM_CODES


def test_a_design_with_claims_is_422_naming_the_field_and_writes_nothing(server: Server) -> None:
    bad = design("2022-03-01", "2022-09-01") | {"claims_count": 3}
    before = server.count("valuations")
    with server.client("bank_a") as c, pytest.raises(ValidationFailed) as info:
        c.value({"patents": [bad], "context": CONTEXT})
    assert info.value.field == "patents.0.claims_count" and "a design patent has no claims" in info.value.detail
    assert server.count("valuations") == before


FOUNDER = {"kind": "individual", "id": "P-FOUNDER-01", "name": "Zhang San"}


def _founders_patent() -> dict[str, Any]:
    return patent(owner_type="individual", owner_id="P-FOUNDER-01")


def test_a_third_party_pledge_with_consent_passes_and_without_fails(server: Server) -> None:
    p = _founders_patent()
    consent = {"given": True, "date": "2026-06-01", "reference": "consent letter 2026-017"}
    with server.client("bank_a") as c:
        own = c.assess(application([p]))  # as before: the borrower is not the owner
        ok = c.assess(application([p], pledges={p["patent_id"]: {"pledgor": {**FOUNDER, "consent": consent}}}))
        refused = c.assess(application([p], pledges={p["patent_id"]: {"pledgor": FOUNDER}}))
        variant = "zl " + p["patent_id"][2:].lower().replace(".", "")  # the same patent, written another way
        ok_by_variant = c.assess(application([p], pledges={variant: {"pledgor": {**FOUNDER, "consent": consent}}}))
    assert ground(ok_by_variant, "registered_owner").code == "THIRD_PARTY_CONSENT"
    assert ground(own, "registered_owner").code == "OWNER_MISMATCH" and own.decision == "decline"
    passed = ground(ok, "registered_owner")
    assert (passed.status, passed.code) == ("pass", "THIRD_PARTY_CONSENT")
    pv = ok.valuation.patents[0]
    assert [n.code for n in pv.notes] == ["THIRD_PARTY_PLEDGE"] and "Zhang San" in pv.notes[0].text
    assert pv.value_basis == "pledgeable" and ok.max_loan_amount > 0
    assert "POL_PLEDGE_REFUSED" not in {r.code for r in ok.policy_reasons}
    check = ground(refused, "registered_owner")
    assert (check.status, check.code) == ("fail", "THIRD_PARTY_NO_CONSENT")
    assert refused.decision == "decline" and refused.policy_reasons[0].code == "POL_PLEDGE_REFUSED"
    assert refused.max_loan_amount == 0  # the one patent does not count


def test_pledge_facts_for_a_patent_not_pledged_are_422(server: Server) -> None:
    other = fresh_patent_id()
    with server.client("bank_a") as c:
        with pytest.raises(ValidationFailed) as info:
            c.assess(application([patent()], pledges={other: {"pledgor": FOUNDER}}))
        assert info.value.field == f"pledges.{other}"
        with pytest.raises(ValidationFailed) as info:
            c.assess(application([patent()], pledges={"CN-NOT-HERE": {"pledgor": FOUNDER}}))
        assert info.value.field is not None and info.value.field.startswith("pledges.CN-NOT-HERE")


def test_dual_filing_and_contract_grounds_in_both_languages(server: Server) -> None:
    um = patent(
        patent_type="utility_model",
        ipc_section="B",
        tech_field="automotive_industrial",
        filing_date="2022-01-10",
        grant_date="2022-09-01",
        same_day_invention_status="pending",
        same_day_invention_id="CN202210012345.6",
    )
    contract = {"parties": True, "secured_claim": True, "debt_term": True, "patents": True, "scope": False}
    with server.client("bank_a", lang="zh") as c:
        refused = c.assess(application([um], contract=contract))
        declared = c.assess(application([um], pledges={um["patent_id"]: {"same_day_invention_declared": True}}))
    dual = ground(refused, "same_day_invention")
    assert (dual.status, dual.code) == ("fail", "DUAL_FILING_PENDING") and "一案双申" in dual.reason
    dual = ground(declared, "same_day_invention")
    assert (dual.status, dual.code) == ("warn", "DUAL_FILING_DECLARED")
    assert declared.decision in ("refer", "decline")
    assert "POL_PLEDGE_REFUSED" not in {r.code for r in declared.policy_reasons}
    (whole,) = refused.valuation.package.checks
    assert (whole.check, whole.status, whole.code) == ("contract_contents", "fail", "CONTRACT_INCOMPLETE")
    assert whole.reason.startswith("质押合同缺少：质押担保的范围")
    (unstated,) = declared.valuation.package.checks
    assert unstated.status == "not_assessed" and unstated.reason.startswith("未评估")
    assert refused.decision == "decline" and not refused.valuation.package.registrable


def test_an_assessment_on_patents_that_do_not_live_declines_saying_why(server: Server) -> None:
    lapsed = patent(legal_status="lapsed", fees_up_to_date=False)
    with server.client("bank_a") as c:
        a = c.assess(application([lapsed]))
    assert a.max_loan_amount == 0 and a.decision == "decline" and a.lgd.collateral_recovery_cny == 0
    codes = [r.code for r in a.policy_reasons]
    assert codes[:2] == ["POL_PLEDGE_REFUSED", "POL_NO_PLEDGEABLE_PATENT"]
    assert a.valuation.patents[0].value_note is not None and a.valuation.patents[0].value_note.code == "VALUE_LAPSED"


def test_a_valuation_stored_before_pledge_values_reads_back() -> None:
    """A response stored before issue 11 B lacks the new fields; reading it back derives them from its checks."""
    checks = [{"check": "legal_status", "status": "fail", "code": "STATUS_BAD", "reason": "Patent is lapsed"}]
    old_patent = {
        "patent_id": fresh_patent_id(),
        "p10": 1.0,
        "p50": 2.0,
        "p90": 3.0,
        "income_approach": None,
        "legal_score": 50,
        "technical_score": 50,
        "economic_score": 50,
        "stars": 3,
        "contributions": {"space": "log CNY", "base_value": 0.0, "output": 0.69, "values": {}},
        "reasons": [],
        "checks": checks,
        "ltv_cap": 0.25,
    }
    ok_patent = {
        **old_patent,
        "patent_id": fresh_patent_id(),
        "checks": [{**checks[0], "status": "pass", "code": "STATUS_OK"}],
    }
    stored = {
        "id": "v1",
        "created_at": "2026-01-01T00:00:00Z",
        "as_of": "2026-01-01",
        "model_versions": {"valuation": "1"},
        "synthetic_models": True,
        "patents": [old_patent, ok_patent],
        "package": {
            "total_p10": 2.0,
            "total_p50": 4.0,
            "total_p90": 6.0,
            "liquidation_value": 2.0,
            "max_pledge_amount": 1.0,
            "registrable": False,
        },
    }
    v = ValuationResponse.model_validate(stored)
    assert [p.value_basis for p in v.patents] == ["not_alive", "pledgeable"]
    assert [p.pledge_value_cny for p in v.patents] == [0.0, 2.0]
    assert (v.package.pledge_value_cny, v.package.pledgeable_patents) == (2.0, 1)
    assert v.package.max_pledge_amount == 1.0  # as computed then
