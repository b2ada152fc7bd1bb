"""Cover from the named fund's rules, term-aware premiums and the rate floor, over real HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from scoring.cover import default_loss
from scoring.funds import FundRules
from scoring.payout import CapUsage, compute_payout
from scoring.vocab.money import to_fen
from service.client import NotFoundError, ValidationFailed
from tests.factories import FILED, application, claim_body, rule_body
from tests.service.fund_helpers import amounts, clock, file, new_fund, pool_loan
from tests.service.harness import Server

DEPOSIT = "100000000.00"


def _pooled(fund_id: str, **loan: Any) -> dict[str, Any]:
    """An application that names the fund, without the what-if shares."""
    return {
        **application(insured_share=0, fund_cover_share=0, **loan),
        "cover": {"fund_id": fund_id},
    }


def test_a_pooled_loans_cover_is_what_compute_payout_pays(server: Server) -> None:
    fund_id, _ = new_fund(server, "four_party_54_26_16_4", deposit=DEPOSIT)
    with server.client("bank_a") as c:
        a = c.assess(_pooled(fund_id, amount_cny=3_000_000, ip_share_of_collateral=0.8))
    cover = a.cover
    assert cover is not None and cover.basis == "fund_rules" and cover.fund is not None
    steps = cover.fund
    assert (steps.rules.fund_id, steps.rules.version) == (fund_id, 1)
    rules = FundRules.model_validate(rule_body("four_party_54_26_16_4")["rules"])
    expected = compute_payout(
        rules, default_loss(3_000_000, 0.8), usage=CapUsage(), available_fen=to_fen(Decimal(DEPOSIT))
    )
    assert steps.payout == expected  # to the fen: every base step, party and cap
    assert [s.step for s in expected.base_steps] == ["loss", "principal_only", "ip_share"]
    assert (
        steps.cover_fen == 3_000_000_00 * 8 // 10 * 74 // 100
    )  # fund 54% + insurer 16% + appraiser 4% of the IP share
    assert cover.share == pytest.approx(steps.cover_fen / 3_000_000_00)
    assert cover.insurer_basis == "fund_rules" and cover.insurer_share == pytest.approx(0.16 * 0.8)
    assert a.lgd.cover_share == pytest.approx(cover.share)
    assert a.lgd.with_cover == pytest.approx(a.lgd.without_cover * (1 - cover.share))
    assert a.expected_loss == pytest.approx(a.pd_tenor * a.lgd.with_cover * a.ead)  # lifetime EL


def test_usage_and_balance_already_recorded_cut_the_cover(server: Server) -> None:
    fund_id, _ = new_fund(server, "first_10m_50pct", deposit="10000000.00")
    borrower = f"E-{uuid.uuid4().hex[:8]}"
    with server.client("bank_a") as c:
        pid = pool_loan(server, c, fund_id, borrower_id=borrower)
        claim = file(
            server,
            c,
            fund_id,
            claim_body(pid, principal_outstanding_cny="9000000.00", claimed_amount_cny="9000000.00"),
        )
        reserved = to_fen(amounts(claim)["fund"])
        app = _pooled(fund_id, amount_cny=12_000_000)
        app["borrower"]["enterprise_id"] = borrower
        app["as_of"] = FILED.isoformat()  # the claim's year: its reservation counts against the year's caps
        a = c.assess(app)
    assert claim.eligible and reserved == 4_500_000_00
    steps = a.cover.fund if a.cover else None
    assert steps is not None
    assert steps.usage == CapUsage(borrower_year_fen=reserved, bank_year_fen=reserved, fund_year_fen=reserved)
    assert steps.available_fen == 10_000_000_00 - reserved
    # 50% of the first ¥10m would be ¥5m; the balance left (¥5.5m) does not bind, the borrower-year cap (¥20m) neither
    assert steps.payout.pool_payout_fen == 5_000_000_00
    rules = FundRules.model_validate(rule_body("first_10m_50pct")["rules"])
    usage = CapUsage(borrower_year_fen=reserved, bank_year_fen=reserved, fund_year_fen=reserved)
    again = compute_payout(rules, default_loss(12_000_000, 1), usage=usage, available_fen=10_000_000_00 - reserved)
    assert steps.payout == again


def test_the_what_if_is_labelled_and_refused_beside_a_fund(server: Server) -> None:
    fund_id, _ = new_fund(server, "city_40_60")
    four_id, _ = new_fund(server, "four_party_54_26_16_4")
    with server.client("bank_a") as c:
        a = c.assess(application())
        assert a.cover is not None and a.cover.basis == "what_if" and a.cover.fund is None
        assert a.cover.share == pytest.approx(0.6)  # the example loan's insured 0.2 + fund 0.4
        cases = [
            ({**application(), "cover": {"fund_id": fund_id}}, "loan.insured_share"),
            ({**_pooled(fund_id), "cover": {"fund_id": "no_such_fund"}}, "cover.fund_id"),
            ({**_pooled(fund_id), "cover": {"fund_id": fund_id, "rules_on": "2023-12-31"}}, "cover.rules_on"),
            ({**_pooled(four_id), "cover": {"fund_id": four_id, "insurer_share": 0.2}}, "cover.insurer_share"),
            ({**_pooled(fund_id), "cover": {"fund_id": fund_id, "rules_on": "2026-07-01"}}, "cover.rules_on"),
        ]
        for body, field in cases:
            with pytest.raises((ValidationFailed, NotFoundError)) as err:
                c.assess(body)
            assert err.value.field == field, (field, err.value)
        outside = c.assess({**_pooled(fund_id), "cover": {"fund_id": fund_id, "insurer_share": 0.3}})
    assert outside.cover is not None and outside.cover.insurer_basis == "policy"
    assert outside.cover.share == pytest.approx(0.7)


def test_a_36_month_premium_exceeds_a_12_month_one_on_the_same_borrower(server: Server) -> None:
    fund_id, _ = new_fund(server, "four_party_54_26_16_4")
    quotes = {}
    with server.client("bank_a", lang="zh") as c:
        for months in (12, 36):
            a = c.assess(_pooled(fund_id, tenor_months=months))
            q = c.quote({"quote": {"product": "pledge_guarantee", "assessment_id": a.id}})
            quotes[months] = (a, q.guarantee)
        with pytest.raises(ValidationFailed) as err:
            c.quote(
                {
                    "quote": {
                        "product": "pledge_guarantee",
                        "assessment_id": a.id,
                        "insured_share": 0.3,
                        "split": {"government": 0.4, "bank": 0.2, "insurer": 0.4},
                    }
                }
            )
        assert err.value.field == "quote.insured_share"
    (a12, g12), (a36, g36) = quotes[12], quotes[36]
    assert g12 is not None and g36 is not None
    assert a36.pricing is not None and a12.pricing is not None
    assert a36.pricing.lifetime_pd > a12.pricing.lifetime_pd
    assert g36.premium > g12.premium
    for a, g in ((a12, g12), (a36, g36)):
        assert a.pricing is not None and a.cover is not None
        assert g.share_basis == "fund_rules" and g.insurer_share == pytest.approx(0.16)
        assert g.term_months == a.pricing.tenor_months
        assert g.sum_insured == pytest.approx(0.16 * a.ead)
        el = a.pricing.lifetime_pd * min(a.lgd.without_cover * a.ead * 0.16, g.sum_insured)
        assert g.insurer_expected_loss == pytest.approx(el)
        years = a.pricing.tenor_months / 12
        raw_rate = el * 1.3 / 0.75 / g.sum_insured / years
        assert g.premium_rate == pytest.approx(min(max(raw_rate, 0.005), 0.08))
        assert g.premium == pytest.approx(g.premium_rate * g.sum_insured * years)
        assert g.subsidy is not None and g.subsidy.government_cny == pytest.approx(g.premium * 0.5)
        assert g.reasons[0].text == f"{a.pricing.tenor_months}个月保险期间内的累计违约概率"


def test_the_rate_floor_beside_the_rate_asked(server: Server) -> None:
    with server.client("bank_a", lang="zh") as c:
        none = c.assess(application())
        assert none.pricing is not None
        floor = none.pricing.floor_rate
        low = c.assess(application(annual_rate=round(floor - 0.005, 4)))
        high = c.assess(application(annual_rate=0.2))
    p = none.pricing
    assert (p.asked_rate, p.covers_risk, p.reason.code) == (None, None, "NO_RATE_ASKED")
    assert p.floor_rate == pytest.approx(sum(x.rate for x in p.components))
    el = next(x.rate for x in p.components if x.code == "EXPECTED_LOSS")
    assert el == pytest.approx(p.lifetime_pd * none.lgd.with_cover / (p.tenor_months / 12))
    assert [x.text for x in p.components] == [
        "资金成本",
        "贷款存续期预期损失（按年分摊）",
        "贷款占用资本的成本",
        "运营成本",
    ]
    assert low.pricing is not None and low.pricing.covers_risk is False
    assert low.pricing.reason.code == "RATE_BELOW_FLOOR" and "低于" in low.pricing.reason.text
    # the rate asked is a PD input (a dearer loan is a heavier burden), so each answer has its own floor
    assert high.pricing is not None and high.pricing.covers_risk
    assert high.pricing.margin == pytest.approx(0.2 - high.pricing.floor_rate)


def test_rules_on_picks_the_version_in_force(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    body = rule_body("city_40_60")
    body["effective_from"] = "2026-01-01"
    body["rules"]["parties"] = [
        {"name": "fund", "role": "pool", "share": 0.5},
        {"name": "bank", "role": "bank", "share": 0.5},
    ]
    body["rules"]["caps"] = {}
    with clock(server, date(2026, 1, 1)):
        mgr.add_rule_version(fund_id, body)
    with server.client("bank_a") as c:
        now = c.assess(_pooled(fund_id, amount_cny=1_000_000))
        then = c.assess(
            {**_pooled(fund_id, amount_cny=1_000_000), "cover": {"fund_id": fund_id, "rules_on": "2025-06-30"}}
        )
    assert now.cover is not None and then.cover is not None and now.cover.fund and then.cover.fund
    assert now.cover.fund.rules.version == 2 and now.cover.share == pytest.approx(0.5)
    assert then.cover.fund.rules.version == 1 and then.cover.share == pytest.approx(0.4)
