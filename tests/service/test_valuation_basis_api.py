"""Pledge value by the institution's basis, tax by status and the two values side by side, over real HTTP."""

from __future__ import annotations

import pytest

from service.client import IpriskClient
from service.keys import new_key
from tests.factories import AS_OF, application, patent
from tests.service.harness import Server


def _bank(server: Server, institution: str) -> IpriskClient:
    key = new_key(server.settings, role="bank", institution=institution)[0]
    return IpriskClient(server.base_url, api_key=key, timeout=60)


def test_a_blend_basis_sets_the_pledge_value_and_the_maximum(server: Server) -> None:
    body = {
        "patents": [patent(), patent(tech_field="software")],
        "context": {"as_of": AS_OF, "owner_revenue_cny": 20_000_000},
    }
    with server.client("bank_a") as default, _bank(server, "bank_conservative") as conservative:
        p50 = default.value(body)
        blend = conservative.value(body)
    base = p50.package.pledge_basis
    assert (
        base is not None and base.used == "p50" and p50.package.pledge_value_cny == pytest.approx(base.figures["p50"])
    )
    b = blend.package.pledge_basis
    assert b is not None and (b.configured, b.used) == ("blend", "blend") and b.weights == {"p10": 0.5, "income": 0.5}
    income = sum(v.income_approach.value for v in blend.patents if v.income_approach)
    assert b.figures["income"] == pytest.approx(income)
    value = 0.5 * blend.package.total_p10 + 0.5 * income
    assert blend.package.pledge_value_cny == pytest.approx(value)
    scale = value / blend.package.total_p50
    assert blend.package.max_pledge_amount == pytest.approx(sum(v.p50 * scale * v.ltv_cap for v in blend.patents))
    assert sum(v.pledge_value_cny for v in blend.patents) == pytest.approx(value)
    for v in blend.patents:
        ia, cmp = v.income_approach, v.comparison
        assert ia is not None and cmp is not None
        assert ia.tax_basis == "standard" and ia.tax_rate == 0.25 and ia.royalty_industry and ia.royalty_source
        assert cmp.model_value_cny == v.p50 and cmp.income_value_cny == ia.value
        assert cmp.divergent == (max(v.p50, ia.value) / min(v.p50, ia.value) > cmp.divergence_limit)
        assert (cmp.note is not None) == cmp.divergent


def test_an_appraisal_basis_drives_ltv_and_the_high_tech_tax(server: Server) -> None:
    app = {**application(amount_cny=1_000_000), "appraised_value_cny": 4_000_000}
    with _bank(server, "bank_appraised") as c:
        a = c.assess(app)
        missing = c.assess(application(amount_cny=1_000_000))
    pkg = a.valuation.package
    assert pkg.pledge_basis is not None and pkg.pledge_basis.used == "appraisal"
    assert pkg.pledge_value_cny == pytest.approx(4_000_000) and a.ltv == pytest.approx(0.25)
    assert a.max_loan_amount == pytest.approx(4_000_000 * 0.25)  # the invention cap of the default caps
    ia = a.valuation.patents[0].income_approach
    assert ia is not None and (ia.tax_basis, ia.tax_rate) == ("high_tech", 0.15)  # the example borrower is high-tech
    fallback = missing.valuation.package.pledge_basis
    assert fallback is not None and (fallback.configured, fallback.used) == ("appraisal", "p10")
    assert fallback.note is not None and fallback.note.code == "PLEDGE_BASIS_FALLBACK"
    assert missing.valuation.package.pledge_value_cny == pytest.approx(missing.valuation.package.total_p10)
