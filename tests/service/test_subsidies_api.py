"""Subsidy programmes over real HTTP on SQLite and PostgreSQL: applications judged and paid to the fen from the
subsidy account of the fund's ledger, which still balances, and the regulator's statistics."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.client import ConflictError, NotFoundError, PermissionDenied, ValidationFailed
from tests.service.fund_helpers import clock, fund_rows, new_fund
from tests.service.harness import Server

D = Decimal
PROGRAMMES = Path(__file__).resolve().parents[2] / "scoring" / "config" / "subsidies"
TODAY = date(2025, 4, 10)


def programme_body(name: str) -> dict[str, Any]:
    raw = yaml.safe_load((PROGRAMMES / f"{name}.yaml").read_text(encoding="utf-8"))
    return {"programme": raw["programme"], "effective_from": str(raw["effective_from"]), "rules": raw["rules"]}


INTEREST: dict[str, Any] = {
    "programme": "interest_half_lpr",
    "facts": {
        "enterprise_id": "E-GY-0001",
        "applicant": "bank",
        "is_sme": True,
        "pledge_registered": True,
        "region": "guiyang",
        "principal_cny": "2345678.91",
        "annual_rate": "0.0435",
        "period_start": "2025-01-01",
        "period_end": "2025-04-03",
    },
}
PREMIUM: dict[str, Any] = {
    "programme": "premium_30pct",
    "facts": {
        "enterprise_id": "E-GY-0002",
        "applicant": "enterprise",
        "is_sme": True,
        "pledge_registered": True,
        "fee_cny": "123456.78",
        "paid_on": "2025-04-01",
    },
}


def test_subsidies_are_judged_paid_from_their_own_account_and_counted_for_the_regulator(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60", deposit="1000000.00")
    for name in ("interest_half_lpr", "premium_30pct"):
        with clock(server, date(2024, 1, 1)):
            mgr.add_subsidy_programme(fund_id, programme_body(name))
    with server.client("bank_a", lang="zh") as bank, clock(server, TODAY):
        interest = bank.apply_for_subsidy(fund_id, INTEREST)
        wrong = bank.apply_for_subsidy(fund_id, {**PREMIUM, "facts": {**PREMIUM["facts"], "applicant": "bank"}})
        with pytest.raises(ValidationFailed) as e:  # a period that has not ended yet
            bank.apply_for_subsidy(fund_id, {**INTEREST, "facts": {**INTEREST["facts"], "period_end": "2025-04-11"}})
        assert e.value.field == "facts"
    with clock(server, TODAY):
        premium = mgr.apply_for_subsidy(fund_id, PREMIUM)  # the fund's office files the enterprise's own application
    assert interest.eligible and interest.amount_cny == D("9291.49")
    assert [s.amount_cny for s in interest.steps] == [D("26076.13"), D("9291.49"), D("9291.49")]
    assert interest.steps[1].reason == "贴息：¥2,345,678.91 × 3.10% × 0.5 × 92/360 = ¥9,291.49（不超过应付利息）"
    assert premium.eligible and premium.amount_cny == D("37037.03")
    assert not wrong.eligible and wrong.amount_cny == 0
    assert [c.reason for c in wrong.checks if not c.passed] == ["申请主体bank不符合要求（允许：enterprise）"]
    with pytest.raises(ConflictError):  # the subsidy account is empty: the compensation cash is not touched
        mgr.decide_subsidy(fund_id, interest.id, "pay")
    mgr.deposit(fund_id, {"amount_cny": "100000.00", "source": "provincial special fund 2025", "account": "subsidy"})
    assert mgr.decide_subsidy(fund_id, interest.id, "pay").status == "paid"
    assert mgr.decide_subsidy(fund_id, premium.id, "pay").status == "paid"
    with pytest.raises(ConflictError):
        mgr.decide_subsidy(fund_id, wrong.id, "pay")
    assert mgr.decide_subsidy(fund_id, wrong.id, "reject", "the premium subsidy is paid to the enterprise").status == (
        "rejected"
    )
    b = mgr.fund_balance(fund_id)
    assert (b.subsidy_contributions_cny, b.subsidies_paid_cny, b.subsidy_balance_cny) == (
        D("100000.00"),
        D("46328.52"),
        D("53671.48"),
    )
    assert (b.contributions_cny, b.balance_cny) == (D("1000000.00"), D("1000000.00"))
    assert b.reconciled and b.debits_cny == b.credits_cny
    lines = [(x.kind, x.account, x.debit_cny, x.credit_cny) for x in mgr.fund_ledger(fund_id).items]
    assert lines[-2:] == [
        ("subsidy", "subsidies_paid", D("37037.03"), 0),
        ("subsidy", "subsidy_cash", 0, D("37037.03")),
    ]
    with server.client("regulator") as reg:
        stats = reg.subsidy_statistics(fund_id)
    figures = {p.programme: (p.applications, p.eligible, p.paid, p.rejected, p.paid_cny) for p in stats.programmes}
    assert figures == {
        "interest_half_lpr": (1, 1, 1, 0, D("9291.49")),
        "premium_30pct": (2, 1, 1, 1, D("37037.03")),
    }
    assert stats.programmes[0].paid_by_region_cny == {"guiyang": D("9291.49")}
    assert stats.reconciled and stats.subsidies_paid_cny == D("46328.52")
    with server.client("bank_a") as bank, pytest.raises(PermissionDenied):
        bank.subsidy_statistics(fund_id)
    with server.client("bank_b") as other:
        assert other.list_subsidy_applications(fund_id) == []
    mgr.close()


def test_programme_versions_take_effect_today_or_later_and_bad_input_writes_nothing(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    before = fund_rows(server)
    with clock(server, TODAY):
        with pytest.raises(ValidationFailed) as e:
            mgr.add_subsidy_programme(fund_id, programme_body("premium_30pct"))  # dated 2024: backdated
        assert e.value.field == "effective_from"
        body = programme_body("premium_30pct") | {"effective_from": "2025-04-10"}
        with pytest.raises(ValidationFailed):
            mgr.add_subsidy_programme(fund_id, body | {"rules": {**body["rules"], "share": 1.5}})
        with server.client("bank_a") as bank, pytest.raises(NotFoundError) as missing:
            bank.apply_for_subsidy(fund_id, PREMIUM)  # no such programme yet
        assert missing.value.field == "programme"
    assert fund_rows(server) == before
    with clock(server, TODAY):
        v1 = mgr.add_subsidy_programme(fund_id, body)
        with pytest.raises(ValidationFailed) as e:  # a programme keeps its kind
            mgr.add_subsidy_programme(
                fund_id, body | {"effective_from": "2025-05-01", "rules": {**body["rules"], "kind": "appraisal_fee"}}
            )
        assert e.value.field == "rules.kind"
    assert v1.version == 1 and [v.programme for v in mgr.list_subsidy_programmes(fund_id)] == ["premium_30pct"]
    mgr.close()


def test_only_the_regulator_backdates_a_programme_and_never_under_a_filed_application(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    body = programme_body("premium_30pct")
    with server.client("regulator") as reg, clock(server, TODAY):
        with pytest.raises(ValidationFailed) as e:
            reg.add_subsidy_programme(fund_id, body)  # dated 2024-01-01, no reason
        assert e.value.field == "reason"
        v1 = reg.add_subsidy_programme(fund_id, body | {"reason": "the 2024 programme, entered late"})
        with server.client("bank_a") as bank:
            filed = bank.apply_for_subsidy(
                fund_id, PREMIUM | {"facts": {**PREMIUM["facts"], "applicant": "enterprise"}}
            )
        with pytest.raises(ConflictError) as refused:  # would re-judge the application filed today
            reg.add_subsidy_programme(
                fund_id,
                body
                | {
                    "effective_from": "2025-04-01",
                    "reason": "a cut from April",
                    "rules": {**body["rules"], "share": 0.1},
                },
            )
        assert refused.value.field == "effective_from"
    assert v1.effective_from == date(2024, 1, 1) and filed.version == 1 and filed.amount_cny == D("37037.03")
    mgr.close()
