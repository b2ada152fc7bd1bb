"""Funds as real funds run them, over real HTTP on SQLite and PostgreSQL: the new rule types paid to the fen,
a migrated pool judged under the versions in force on its entry dates, repayments that free a bank's line,
net-loss settlement and pre-compensation settled on a disposal, and a deposit reversed by a second key."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from service.client import ConflictError, PermissionDenied, ValidationFailed
from tests.factories import ENTERED, FILED, application, claim_body, facts, rule_body
from tests.service.fund_helpers import amounts, clock, file, fund_rows, manager_for, new_fund, pool_loan
from tests.service.harness import Server

D = Decimal

# rule set, loan facts, claim figures → expected payout by party, to the fen (docs/funds.md)
WORKED = [
    (
        "local_rate_size_lag",
        {"region": "guiyang", "annual_rate": "0.0445", "amount_cny": "3000000.00"},
        {"principal_outstanding_cny": "2345678.91", "npl_classified_on": "2025-09-26"},
        {"fund": D("1172839.46"), "bank": D("1172839.45")},
    ),
    (
        "bank_tiers_by_year",
        {},
        {"principal_outstanding_cny": "3456789.01"},
        {"fund": D("1500000.00"), "bank": D("1956789.01")},
    ),
    (
        "pro_rata_first_5m",
        {"amount_cny": "8000000.00"},
        {"principal_outstanding_cny": "3456789.01"},
        {"fund": D("864197.25"), "bank": D("2592591.76")},
    ),
    (
        "net_loss_after_disposal",
        {},
        {
            "principal_outstanding_cny": "3000000.00",
            "interest_outstanding_cny": "45678.90",
            "court_accepted_on": "2025-09-26",
            "disposal_proceeds_cny": "1234567.89",
        },
        {"fund": D("882716.06"), "bank": D("928394.95")},
    ),
]


@pytest.mark.parametrize(("rules", "loan", "figures", "expected"), WORKED, ids=[w[0] for w in WORKED])
def test_new_rule_types_pay_to_the_fen(
    server: Server, rules: str, loan: dict[str, Any], figures: dict[str, str], expected: dict[str, Decimal]
) -> None:
    fund_id, mgr = new_fund(server, rules)
    body = {"claimed_amount_cny": figures["principal_outstanding_cny"], **figures}
    with server.client("bank_a") as bank:
        claim = file(server, bank, fund_id, claim_body(pool_loan(server, bank, fund_id, **loan), **body))
    assert claim.eligible, [c.reason for c in claim.checks if not c.passed]
    assert amounts(claim) == expected and sum(expected.values()) == claim.payout.loss_cny
    approved = mgr.decide_claim(fund_id, claim.id, "approve")
    assert approved.paid_cny == expected["fund"] and mgr.fund_balance(fund_id).reconciled
    mgr.close()


def test_local_rules_refuse_entry_with_reasons_and_write_nothing(server: Server) -> None:
    fund_id, mgr = new_fund(server, "local_rate_size_lag")
    before = fund_rows(server)
    with server.client("bank_a", lang="zh") as bank, clock(server, ENTERED):
        with pytest.raises(ValidationFailed) as e:
            bank.register_pool_loan(fund_id, {"facts": facts(region="zunyi", annual_rate="0.05", amount_cny="3000000")})
        for text in ("不在资金池覆盖范围", "贷款年利率5.00%，超过上限4.60%"):
            assert text in str(e.value)
        with pytest.raises(ValidationFailed) as e:
            bank.register_pool_loan(fund_id, {"facts": facts(amount_cny="3000000")})
        assert "借款人注册地（市州）未报告" in str(e.value) and "贷款年利率未报告" in str(e.value)
    local = facts(region="guiyang", annual_rate="0.0445", amount_cny="3000000", origination_date="2025-01-30")
    late = {"facts": local, "entered_on": "2025-03-03", "entry_evidence": ["filing record"]}  # 32 days later
    with server.client("bank_a", lang="zh") as bank, clock(server, ENTERED):
        with pytest.raises(ValidationFailed) as e:
            bank.register_pool_loan(fund_id, late)
        assert "2025-01-30放款，2025-03-03才备案入池，间隔32天，超过30天的期限" in str(e.value)
        assert fund_rows(server) == before
        migrated = bank.register_pool_loan(fund_id, late | {"migrated_from": "city pool register 2025"})
    lag = next(c for c in migrated.checks if c.rule == "entry_lag")
    assert lag.passed and lag.reason == "自原资金池迁移并附证明材料：放款后32天备案（期限30天）予以认可"
    mgr.close()


def test_entry_date_is_bounded_and_evidenced(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    before = fund_rows(server)
    bad = [
        ({"entered_on": "2025-10-11"}, "entered_on"),  # after today
        ({"entered_on": "2025-02-28"}, "entered_on"),  # before disbursement on 2025-03-01
        ({"entered_on": "2025-03-03"}, "entry_evidence"),  # in the past without the filing record
        ({"migrated_from": "old register"}, "migrated_from"),  # a migration names its date
    ]
    with server.client("bank_a") as bank, clock(server, FILED):
        for extra, field in bad:
            with pytest.raises(ValidationFailed) as e:
                bank.register_pool_loan(fund_id, {"facts": facts(), **extra})
            assert e.value.field == field or field in str(e.value)
    assert fund_rows(server) == before
    mgr.close()


def test_migrated_pool_is_judged_under_the_versions_in_force_on_its_entry_dates(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")  # version 1 from 2024-01-01: any region
    local = rule_body("city_40_60", name="city area only from 2025", eligibility={"regions": ["guiyang"]})
    local["effective_from"] = "2025-01-01"
    with clock(server, date(2025, 1, 1)):
        mgr.add_rule_version(fund_id, local)
    evidence = {"entry_evidence": ["filing register p. 12"], "migrated_from": "2024 paper register"}
    with server.client("bank_a") as bank, clock(server, FILED):
        old = bank.register_pool_loan(
            fund_id,
            {"facts": facts(region="zunyi", origination_date="2024-05-06"), "entered_on": "2024-05-10", **evidence},
        )
        with pytest.raises(ValidationFailed) as e:  # entered in 2025: version 2 covers Guiyang only
            bank.register_pool_loan(fund_id, {"facts": facts(region="zunyi"), "entered_on": "2025-03-03", **evidence})
        assert "outside the fund's area" in str(e.value)
        new = bank.register_pool_loan(
            fund_id, {"facts": facts(region="guiyang"), "entered_on": "2025-03-03", **evidence}
        )
        claim = file(server, bank, fund_id, claim_body(old.id, principal_outstanding_cny="3456789.01"))
    assert (old.rule_version, old.entered_on, old.migrated_from) == (1, date(2024, 5, 10), "2024 paper register")
    assert new.rule_version == 2 and new.entry_evidence == ["filing register p. 12"]
    # the claim is judged under the version in force on its default date (2): the 2024 loan's region fails then
    assert claim.rule_version == 2 and not claim.eligible
    assert [c.rule for c in claim.checks if not c.passed] == ["region"]
    mgr.close()


def test_repayment_closes_the_loan_and_frees_the_banks_line(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60", banks=())
    mgr.set_fund_bank(
        fund_id, "bank_a", {"pool_share_cny": "2000000", "committed_line_cny": "20000000", "joined_on": "2024-01-01"}
    )
    with server.client("bank_a") as bank:
        first = pool_loan(server, bank, fund_id)  # ¥15m of the ¥20m line
        with clock(server, ENTERED), pytest.raises(ConflictError) as refused:
            bank.register_pool_loan(fund_id, {"facts": facts()})
        assert "above the committed line" in str(refused.value)
        with clock(server, FILED):
            part = bank.repay_pool_loan(fund_id, first, {"amount_cny": "5000000.00", "repaid_on": "2025-06-30"})
            assert (part.status, part.outstanding_cny) == ("active", D("10000000.00"))
            with pytest.raises(ValidationFailed) as e:
                bank.repay_pool_loan(fund_id, first, {"amount_cny": "10000000.01", "repaid_on": "2025-06-30"})
            assert e.value.field == "amount_cny"
            done = bank.repay_pool_loan(fund_id, first, {"amount_cny": "10000000.00", "repaid_on": "2025-09-30"})
            with pytest.raises(ConflictError):
                bank.repay_pool_loan(fund_id, first, {"amount_cny": "1.00", "repaid_on": "2025-09-30"})
            with pytest.raises(ConflictError):  # a repaid loan has nothing to claim
                bank.file_claim(fund_id, claim_body(first), idempotency_key=uuid.uuid4().hex)
        assert (done.status, done.closed_on, done.outstanding_cny) == ("repaid", date(2025, 9, 30), D(0))
        assert bank.list_fund_banks(fund_id)[0].outstanding_cny == 0
        assert pool_loan(server, bank, fund_id)  # the line is free again
    mgr.close()


def test_pre_compensation_is_settled_when_the_disposal_is_reported(server: Server) -> None:
    fund_id, mgr = new_fund(server, "advance_then_settle", deposit="10000000.00")
    with server.client("bank_a") as bank:
        body = {"principal_outstanding_cny": "3456789.01", "claimed_amount_cny": "3456789.01"}
        claim = file(
            server, bank, fund_id, claim_body(pool_loan(server, bank, fund_id), overdue_since="2025-07-02", **body)
        )
        assert claim.eligible and amounts(claim) == {"fund": D("1000000.00"), "bank": D("2456789.01")}
        mgr.decide_claim(fund_id, claim.id, "approve")
        with clock(server, FILED):
            rec = bank.report_recovery(fund_id, claim.id, {"amount_cny": "1000000.00", "recovered_on": "2025-10-09"})
    # settled on the net loss 2,456,789.01: the fund bears 982,715.60, so 17,284.40 comes back to it
    assert rec.clawed_back_cny == D("17284.40")
    assert {s.name: s.amount_cny for s in rec.shares} == {"fund": D("17284.40"), "bank": D("982715.60")}
    b = mgr.fund_balance(fund_id)
    assert (b.paid_cny, b.recovered_cny, b.balance_cny) == (D("1000000.00"), D("17284.40"), D("9017284.40"))
    assert b.reconciled
    mgr.close()


def test_a_mistaken_deposit_is_reversed_by_a_second_key_and_the_ledger_reconciles(server: Server) -> None:
    fund_id, asker = new_fund(server, "city_40_60", deposit="5000000.00")
    asker.deposit(fund_id, {"amount_cny": "5000000.00", "source": "provincial budget (posted twice)"})
    twice = asker.fund_ledger(fund_id).items[-1].txn_id
    asked = asker.request_correction(fund_id, {"txn_id": twice, "reason": "the allocation was posted twice"})
    assert asked.status == "pending" and asked.amount_cny == D("5000000.00")
    assert asker.fund_balance(fund_id).contributions_cny == D("10000000.00")  # nothing moves until approved
    with pytest.raises(PermissionDenied):
        asker.approve_correction(fund_id, asked.id)
    second = manager_for(server, fund_id)
    done = second.approve_correction(fund_id, asked.id)
    assert done.status == "approved" and done.approved_by_key != done.requested_by_key
    with pytest.raises(ConflictError):
        asker.request_correction(fund_id, {"txn_id": twice, "reason": "again"})
    lines = second.fund_ledger(fund_id).items
    assert [(x.kind, x.account, x.debit_cny, x.credit_cny) for x in lines[-2:]] == [
        ("reversal", "cash_available", 0, D("5000000.00")),
        ("reversal", "contributions", D("5000000.00"), 0),
    ]
    b = second.fund_balance(fund_id)
    assert (b.contributions_cny, b.balance_cny, b.available_cny) == (D("5000000.00"),) * 3
    assert b.reconciled and b.debits_cny == b.credits_cny and len(lines) == 6  # entries added, none edited
    with pytest.raises(ValidationFailed) as e:
        asker.request_correction(fund_id, {"txn_id": lines[-1].txn_id, "reason": "not a deposit"})
    assert e.value.field == "txn_id"
    asker.close()
    second.close()


def _booked(server: Server, bank: Any, *, bad_credit: bool, rate: str | None) -> str:
    """A loan booked from an assessment, its pledge registered; returns its id."""
    loan_terms: dict[str, Any] = {} if rate is None else {"annual_rate": rate}
    a = bank.assess(application(borrower={"bad_credit_3y": bad_credit}, **loan_terms))
    loan = bank.book_loan({"assessment_id": a.id, "origination_date": "2025-03-01"})
    bank.record_registrations(
        loan.id,
        {
            "status": "registered",
            "registration_number": "Y2025980001234",
            "registration_date": "2025-03-01",
            "term_start": "2025-03-01",
            "term_end": "2027-02-28",
        },
    )
    return str(loan.id)


def test_a_booked_loan_enters_with_truthful_facts_and_texts(server: Server) -> None:
    local = rule_body("local_rate_size_lag")
    local["rules"]["eligibility"] = {**local["rules"]["eligibility"], "clean_credit_years": 3, "counties": ["huaxi"]}
    fund_id, mgr = new_fund(server, local)
    with server.client("bank_a", lang="zh") as bank:
        clean = _booked(server, bank, bad_credit=False, rate="0.0445")
        bad = _booked(server, bank, bad_credit=True, rate=None)
        with clock(server, ENTERED):
            pooled = bank.register_pool_loan(fund_id, {"loan_id": clean, "county": "huaxi"})
            with pytest.raises(ValidationFailed) as e:
                bank.register_pool_loan(fund_id, {"loan_id": bad})
    reasons = {c.rule: c.reason for c in pooled.checks}
    assert pooled.facts.clean_credit_years is None and pooled.facts.credit_checked_years == 3
    assert reasons["clean_credit"] == "查询的3年内无不良信用记录（要求3年内无不良记录）"
    assert reasons["county"] == "借款人注册于区县huaxi，属资金池覆盖范围（huaxi）"
    assert reasons["rate_ceiling"] == "贷款年利率4.45%，未超过上限4.60%（2025-03-01一年期贷款市场报价利率3.10%加1.50%）"
    assert reasons["entry_lag"] == "2025-03-01放款，2025-03-03备案入池，间隔2天（期限30天）"
    text = str(e.value)
    assert "近3年内有不良信用记录，要求3年内无不良记录" in text  # a bad record: nothing said about when
    assert "借款人注册区县未报告" in text and "贷款年利率未报告" in text
    mgr.close()
