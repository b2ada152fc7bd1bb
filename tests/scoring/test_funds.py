"""Fund rules, payouts, claw-backs, eligibility and working days: worked examples asserted to the fen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from scoring.calendar import (
    CalendarOverrides,
    HolidayCalendar,
    add_working_days,
    build_calendar,
    chinese_calendar,
    is_working_day,
    load_overrides,
    working_days_between,
)
from scoring.fund_checks import BankStanding, ClaimFacts, EntryFacts, bank_checks, claim_checks, entry_checks
from scoring.fund_reasons import base_step_reason, cap_reason, check_reason, load_texts, party_reason
from scoring.funds import FundRules, load_rule_version
from scoring.payout import CapUsage, LossFacts, Payout, compute_payout, share_recovery
from scoring.vocab.money import to_cny, to_fen

EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "config" / "funds"
CAL = chinese_calendar()
TEXTS = load_texts()
PLENTY = to_fen(Decimal("1000000000"))


def rules(name: str) -> FundRules:
    return load_rule_version(EXAMPLES / f"{name}.yaml")[1]


def fen(cny: str) -> int:
    return to_fen(Decimal(cny))


def loss(principal: str, *, claimed: str | None = None, interest: str = "0", ip_share: str = "1") -> LossFacts:
    return LossFacts(
        principal_fen=fen(principal),
        interest_fen=fen(interest),
        ip_share=Decimal(ip_share),
        claimed_fen=fen(claimed or principal),
    )


def amounts(p: Payout) -> dict[str, Decimal]:
    return {party.name: to_cny(party.amount_fen) for party in p.parties}


def binding(p: Payout) -> dict[str, list[str]]:
    return {party.name: [c.cap for c in party.caps if c.binding] for party in p.parties}


# --- worked examples ---------------------------------------------------------------------------------


def test_40_60_split_principal_only() -> None:
    p = compute_payout(
        rules("city_40_60"), loss("3456789.01", interest="12345.67"), usage=CapUsage(), available_fen=PLENTY
    )
    assert p.loss_fen == fen("3469134.68")
    assert [s.step for s in p.base_steps] == ["loss", "principal_only"]
    assert p.covered_base_fen == fen("3456789.01")
    # 40% of 3,456,789.01 = 1,382,715.604 → half up to the fen
    assert amounts(p) == {"fund": Decimal("1382715.60"), "bank": Decimal("2086419.08")}
    bank = p.parties[1]
    assert to_cny(bank.share_amount_fen) == Decimal("2074073.41")  # its 60%, plus the uncovered interest
    assert p.pool_payout_fen + p.bank_borne_fen == p.loss_fen
    assert binding(p) == {"fund": [], "bank": []}


def test_40_60_per_loan_cap_and_balance_cap() -> None:
    r = rules("city_40_60")
    big = compute_payout(r, loss("12500000.00"), usage=CapUsage(), available_fen=PLENTY)
    assert amounts(big) == {"fund": Decimal("4000000.00"), "bank": Decimal("8500000.00")}
    assert binding(big)["fund"] == ["per_loan"]
    poor = compute_payout(r, loss("3456789.01"), usage=CapUsage(), available_fen=fen("1000000.00"))
    assert amounts(poor) == {"fund": Decimal("1000000.00"), "bank": Decimal("2456789.01")}
    assert binding(poor)["fund"] == ["balance"]
    broke = compute_payout(r, loss("3456789.01"), usage=CapUsage(), available_fen=0)
    assert amounts(broke)["fund"] == Decimal("0.00")


def test_54_26_16_4_split_on_the_ip_share() -> None:
    p = compute_payout(
        rules("four_party_54_26_16_4"), loss("1234567.89", ip_share="0.75"), usage=CapUsage(), available_fen=PLENTY
    )
    # base 1,234,567.89 × 0.75 = 925,925.9175 → 925,925.92
    assert p.covered_base_fen == fen("925925.92")
    assert amounts(p) == {
        "fund": Decimal("500000.00"),  # 499,999.9968
        "bank": Decimal("549382.70"),  # the rest of the 1,234,567.89 loss
        "insurer": Decimal("148148.15"),  # 148,148.1472
        "appraiser": Decimal("37037.04"),
    }  # 37,037.0368
    assert to_cny(p.parties[1].share_amount_fen) == Decimal("240740.74")
    assert sum(amounts(p).values()) == Decimal("1234567.89")


def test_50_percent_of_the_first_10m_with_year_caps() -> None:
    r = rules("first_10m_50pct")
    p = compute_payout(r, loss("12000000.00"), usage=CapUsage(), available_fen=PLENTY)
    assert p.covered_base_fen == fen("10000000.00")
    assert amounts(p) == {"fund": Decimal("5000000.00"), "bank": Decimal("7000000.00")}
    # the borrower already had ¥17m this year: ¥3m of room under the ¥20m cap
    p = compute_payout(r, loss("12000000.00"), usage=CapUsage(borrower_year_fen=fen("17000000")), available_fen=PLENTY)
    assert amounts(p) == {"fund": Decimal("3000000.00"), "bank": Decimal("9000000.00")}
    step = next(c for c in p.parties[0].caps if c.cap == "per_borrower_year")
    assert (step.used_fen, step.room_fen, step.before_fen, step.after_fen) == (
        fen("17000000"),
        fen("3000000"),
        fen("5000000"),
        fen("3000000"),
    )
    # the fund already paid ¥48.5m this year: ¥1.5m of room under the ¥50m cap
    p = compute_payout(r, loss("12000000.00"), usage=CapUsage(fund_year_fen=fen("48500000")), available_fen=PLENTY)
    assert amounts(p)["fund"] == Decimal("1500000.00")
    assert binding(p)["fund"] == ["per_fund_year"]
    # under ¥10m the whole principal counts; 50% of 6,543,210.99 = 3,271,605.495 → 3,271,605.50
    p = compute_payout(r, loss("6543210.99"), usage=CapUsage(), available_fen=PLENTY)
    assert amounts(p) == {"fund": Decimal("3271605.50"), "bank": Decimal("3271605.49")}


def test_provincial_plus_city_with_per_loan_caps() -> None:
    r = rules("provincial_city")
    p = compute_payout(r, loss("8000000.00"), usage=CapUsage(), available_fen=PLENTY)
    assert amounts(p) == {
        "provincial_fund": Decimal("1500000.00"),
        "city_fund": Decimal("1000000.00"),
        "bank": Decimal("5500000.00"),
    }
    assert binding(p) == {"provincial_fund": ["party_per_loan"], "city_fund": ["party_per_loan"], "bank": []}
    p = compute_payout(r, loss("2345678.90"), usage=CapUsage(), available_fen=PLENTY)
    assert amounts(p) == {
        "provincial_fund": Decimal("703703.67"),
        "city_fund": Decimal("469135.78"),
        "bank": Decimal("1172839.45"),
    }


def test_50_20_20_10_and_the_claimed_amount_cap() -> None:
    p = compute_payout(
        rules("fund_50_20_20_10"), loss("1000000.00", claimed="450000.00"), usage=CapUsage(), available_fen=PLENTY
    )
    assert amounts(p) == {
        "fund": Decimal("450000.00"),
        "bank": Decimal("250000.00"),
        "insurer": Decimal("200000.00"),
        "appraiser": Decimal("100000.00"),
    }
    assert binding(p)["fund"] == ["claimed"]


def test_claw_back_pro_rata_to_what_each_party_paid() -> None:
    p = compute_payout(
        rules("four_party_54_26_16_4"), loss("1234567.89", ip_share="0.75"), usage=CapUsage(), available_fen=PLENTY
    )
    paid = [(x.name, x.role, x.amount_fen) for x in p.parties]
    first = share_recovery(paid, loss_fen=p.loss_fen, recovered_before_fen=0, amount_fen=fen("300000.00"))
    assert {s.name: to_cny(s.amount_fen) for s in first} == {
        "fund": Decimal("121500.00"),
        "bank": Decimal("133500.00"),
        "insurer": Decimal("36000.00"),
        "appraiser": Decimal("9000.00"),
    }
    # many small recoveries give exactly what one large one gives: rounding is on the cumulative total
    done, total = 0, {x.name: 0 for x in p.parties}
    for _ in range(7):
        for s in share_recovery(paid, loss_fen=p.loss_fen, recovered_before_fen=done, amount_fen=fen("0.03")):
            total[s.name] += s.amount_fen
        done += fen("0.03")
    once = share_recovery(paid, loss_fen=p.loss_fen, recovered_before_fen=0, amount_fen=done)
    assert total == {s.name: s.amount_fen for s in once}
    everything = share_recovery(paid, loss_fen=p.loss_fen, recovered_before_fen=0, amount_fen=p.loss_fen)
    assert {s.name: s.amount_fen for s in everything} == {x.name: x.amount_fen for x in p.parties}
    with pytest.raises(ValueError, match="at most the loss"):
        share_recovery(paid, loss_fen=p.loss_fen, recovered_before_fen=p.loss_fen, amount_fen=1)


def test_parties_always_sum_to_the_loss() -> None:
    r = rules("four_party_54_26_16_4")
    for principal in ("0.01", "0.07", "13.33", "999999.99", "87654321.09"):
        for ip in ("0.333333", "0.5", "1"):
            p = compute_payout(r, loss(principal, ip_share=ip), usage=CapUsage(), available_fen=fen("100"))
            assert sum(x.amount_fen for x in p.parties) == p.loss_fen
            assert 0 <= p.pool_payout_fen <= fen("100")


# --- rule sets are validated -------------------------------------------------------------------------


def _raw(parties: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "x", "parties": parties}


@pytest.mark.parametrize(
    ("parties", "problem"),
    [
        (
            [{"name": "fund", "role": "pool", "share": 0.4}, {"name": "bank", "role": "bank", "share": 0.5}],
            "sum to exactly 1",
        ),
        (
            [
                {"name": "fund", "role": "pool", "share": 0.54},
                {"name": "bank", "role": "bank", "share": 0.26},
                {"name": "insurer", "role": "co_payer", "share": 0.16},
                {"name": "appraiser", "role": "co_payer", "share": 0.05},
            ],
            "sum to exactly 1",
        ),
        ([{"name": "a", "role": "pool", "share": 0.5}, {"name": "b", "role": "pool", "share": 0.5}], "role 'pool'"),
        ([{"name": "a", "role": "pool", "share": 0.5}, {"name": "a", "role": "bank", "share": 0.5}], "unique"),
        ([{"name": "a", "role": "pool", "share": 1.5}, {"name": "b", "role": "bank", "share": -0.5}], "less than"),
        (
            [
                {"name": "a", "role": "pool", "share": 0.5},
                {"name": "b", "role": "bank", "share": 0.5, "cap_per_loan_cny": 10},
            ],
            "no cap",
        ),
    ],
)
def test_bad_rule_sets_are_refused(parties: list[dict[str, Any]], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        FundRules.model_validate(_raw(parties))


def test_float_shares_that_sum_to_one_in_decimal_are_accepted() -> None:
    # 0.54 + 0.26 + 0.16 + 0.04 is 1.0000000000000002 in binary floats, exactly 1 in decimal
    assert rules("four_party_54_26_16_4").pool.share == Decimal("0.54")


# --- eligibility ---------------------------------------------------------------------------------------

FACTS = EntryFacts(
    borrower_id="E1",
    amount_cny=Decimal("3000000"),
    origination_date=date(2025, 3, 3),
    tenor_months=24,
    purpose="rd",
    ip_share_of_collateral=Decimal("0.8"),
    is_sme=True,
    years_registered=4,
    credit_checked_years=3,
)


def test_entry_checks_pass_and_fail_with_reasons() -> None:
    r = rules("city_40_60")
    assert all(c.passed for c in entry_checks(r, FACTS))
    bad = FACTS.model_copy(
        update={
            "is_sme": False,
            "years_registered": 0.5,
            "clean_credit_years": 2.0,
            "purpose": "other",
            "pledge_registered": False,
        }
    )
    failed = {c.rule: check_reason(c, TEXTS, "en") for c in entry_checks(r, bad) if not c.passed}
    assert set(failed) == {"sme", "years_registered", "clean_credit", "purpose", "pledge_registered"}
    assert failed["years_registered"] == "Registered only 0.5 years; at least 1.0 required"
    assert "rd, industrialisation, ip_operation, working_capital" in failed["purpose"]
    low_ip = FACTS.model_copy(update={"ip_share_of_collateral": Decimal("0.4")})
    ip = next(c for c in entry_checks(rules("four_party_54_26_16_4"), low_ip) if c.rule == "ip_share")
    assert not ip.passed and check_reason(ip, TEXTS, "zh") == "知识产权占担保物比例仅40.00%，要求不低于50.00%"


def test_bank_commitments_first_year_multiple_line_and_suspension() -> None:
    r = rules("city_40_60")
    amount = fen("3000000")
    share, line = fen("2000000"), fen("15000000")
    # year one: 6 × ¥2m = ¥12m ≤ ¥15m; later: 10 × ¥2m = ¥20m > ¥15m
    year_one = BankStanding(cooperating=True, pool_share_fen=share, committed_line_fen=line, years_in_pool=0.5)
    assert all(c.passed for c in bank_checks(r, year_one, amount))
    later = year_one.model_copy(update={"years_in_pool": 2.0})
    short = {c.rule: check_reason(c, TEXTS, "en") for c in bank_checks(r, later, amount) if not c.passed}
    assert short == {
        "commitment": "Committed credit line ¥15,000,000.00 is below 10 × pool share ¥2,000,000.00 = ¥20,000,000.00"
    }
    full = year_one.model_copy(update={"outstanding_fen": fen("13000000")})
    assert [c.rule for c in bank_checks(r, full, amount) if not c.passed] == ["credit_line"]
    lossy = year_one.model_copy(update={"loss_rate": Decimal("0.06")})
    assert [c.code for c in bank_checks(r, lossy, amount) if not c.passed] == ["BANK_SUSPENDED"]
    assert [c.code for c in bank_checks(r, BankStanding(cooperating=False), amount)] == ["BANK_NOT_COOPERATING"]
    assert bank_checks(rules("first_10m_50pct"), BankStanding(cooperating=False), amount) == []


def test_claim_checks_deadline_in_working_days_across_a_holiday() -> None:
    r = rules("city_40_60")
    # default on Friday 27 Sep 2024; 1-7 Oct is the National Day holiday, Sunday 29 Sep and
    # Saturday 12 Oct are make-up working days
    claim = ClaimFacts(
        entered_on=date(2024, 5, 1),
        default_date=date(2024, 9, 27),
        filed_on=date(2024, 10, 11),
        npl_class="substandard",
        evidence_count=2,
    )
    checks = {c.rule: c for c in claim_checks(r, claim, calendar=CAL)}
    assert checks["filing_deadline"].passed and checks["filing_deadline"].params["days"] == "6"
    late = claim.model_copy(update={"filed_on": date(2024, 10, 17)})
    c = next(c for c in claim_checks(r, late, calendar=CAL) if c.rule == "filing_deadline")
    assert not c.passed and c.params["days"] == "11"
    bad = claim.model_copy(
        update={"npl_class": "special_mention", "evidence_count": 0, "entered_on": date(2024, 9, 27)}
    )
    failed = [c.rule for c in claim_checks(r, bad, calendar=CAL) if not c.passed]
    assert failed == ["entered_before_default", "npl_class", "evidence"]


# --- working days --------------------------------------------------------------------------------------


def test_chinese_calendar_holidays_and_make_up_days() -> None:
    assert not is_working_day(date(2024, 10, 1), CAL)  # National Day, a Tuesday
    assert is_working_day(date(2024, 10, 12), CAL)  # a Saturday worked in lieu
    assert not is_working_day(date(2024, 10, 13), CAL)
    assert working_days_between(date(2024, 9, 27), date(2024, 10, 11), CAL) == 6
    assert add_working_days(date(2024, 9, 27), 10, CAL) == date(2024, 10, 16)
    assert add_working_days(date(2024, 9, 27), 0, CAL) == date(2024, 9, 27)
    assert working_days_between(date(2024, 10, 11), date(2024, 9, 27), CAL) == 0


def test_overrides_from_data_win_over_the_package() -> None:
    plain = HolidayCalendar()
    assert working_days_between(date(2027, 2, 5), date(2027, 2, 12), plain) == 5  # no 2027 data: Mon-Fri
    cal = build_calendar(
        CAL.holidays,
        CAL.workdays,
        CalendarOverrides(
            holidays=(date(2027, 2, 8), date(2027, 2, 9), date(2024, 10, 12)), workdays=(date(2027, 2, 6),)
        ),
    )
    assert working_days_between(date(2027, 2, 5), date(2027, 2, 12), cal) == 4
    assert not is_working_day(date(2024, 10, 12), cal)
    assert load_overrides() == CalendarOverrides()


def test_every_code_has_both_texts() -> None:
    p = compute_payout(
        rules("first_10m_50pct"),
        loss("12000000.00", claimed="4000000.00"),
        usage=CapUsage(borrower_year_fen=1, bank_year_fen=1, fund_year_fen=1),
        available_fen=PLENTY,
    )
    for lang in ("en", "zh"):
        texts = [base_step_reason(s, TEXTS, lang) for s in p.base_steps]
        texts += [party_reason(x, p.covered_base_fen, TEXTS, lang) for x in p.parties]
        texts += [cap_reason(x.name, c, TEXTS, lang) for x in p.parties for c in x.caps]
        assert all("{" not in t for t in texts)
    assert cap_reason("fund", p.parties[0].caps[0], TEXTS, "en") == (
        "The fund pays no more than the ¥4,000,000.00 claimed: ¥5,000,000.00 → ¥4,000,000.00"
    )
    assert all(t.en and t.zh for t in TEXTS.values())


def test_working_day_count_matches_day_by_day_counting() -> None:
    start = date(2023, 12, 20)
    for span in (1, 2, 6, 7, 8, 13, 45, 400, 1000):
        end = date.fromordinal(start.toordinal() + span)
        slow = sum(is_working_day(date.fromordinal(start.toordinal() + i), CAL) for i in range(1, span + 1))
        assert working_days_between(start, end, CAL) == slow
        assert add_working_days(start, slow, CAL) <= end


def test_rounding_never_hands_out_more_than_the_loss() -> None:
    r = FundRules.model_validate(
        _raw(
            [
                {"name": "fund", "role": "pool", "share": 0.5},
                {"name": "insurer", "role": "co_payer", "share": 0.5},
                {"name": "bank", "role": "bank", "share": 0},
            ]
        )
    )
    p = compute_payout(r, loss("0.01"), usage=CapUsage(), available_fen=PLENTY)
    assert {x.name: x.amount_fen for x in p.parties} == {"fund": 1, "insurer": 0, "bank": 0}
