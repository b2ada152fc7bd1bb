"""The rule types real funds write, each as a worked example to the fen with its zh/en reasons.

Region and county, rate ceiling (LPR + x or absolute), loan size and tenor, the entry lag, the filing
trigger, bank tiers, pro-rata first X, net-loss settlement and pre-compensation settled later.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from scoring.calendar import chinese_calendar
from scoring.fund_checks import ClaimFacts, EntryFacts, RuleCheck, claim_checks, entry_checks
from scoring.fund_reasons import base_step_reason, cap_reason, check_reason, load_texts
from scoring.funds import FundRules, load_rule_version, lpr_on
from scoring.payout import CapUsage, LossFacts, Payout, compute_payout, share_recovery
from scoring.settlement import settle_advance
from scoring.vocab.money import to_cny, to_fen

EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "config" / "funds"
CAL = chinese_calendar()
TEXTS = load_texts()
PLENTY = to_fen(Decimal("1000000000"))
D = Decimal


def rules(name: str) -> FundRules:
    return load_rule_version(EXAMPLES / f"{name}.yaml")[1]


def fen(cny: str) -> int:
    return to_fen(Decimal(cny))


def amounts(p: Payout) -> dict[str, Decimal]:
    return {party.name: to_cny(party.amount_fen) for party in p.parties}


LOCAL = EntryFacts(
    borrower_id="E1",
    amount_cny=D("3000000"),
    origination_date=date(2025, 3, 3),
    tenor_months=24,
    purpose="rd",
    years_registered=4,
    region="guiyang",
    county="huaxi",
    annual_rate=D("0.0445"),
)


def by_rule(checks: list[RuleCheck]) -> dict[str, RuleCheck]:
    return {c.rule: c for c in checks}


def say(c: RuleCheck, lang: str = "en") -> str:
    return check_reason(c, TEXTS, "zh" if lang == "zh" else "en")


# --- entry rules ---------------------------------------------------------------------------------------


def test_local_example_passes_every_entry_rule_with_its_reason() -> None:
    checks = by_rule(entry_checks(rules("local_rate_size_lag"), LOCAL, entered_on=date(2025, 4, 2)))
    assert all(c.passed for c in checks.values())
    assert set(checks) >= {"region", "rate_ceiling", "loan_min", "loan_max", "tenor_min", "tenor_max", "entry_lag"}
    # the 1-year LPR on 3 March 2025 was 3.10%: ceiling 3.10% + 1.50% = 4.60%
    assert say(checks["rate_ceiling"]) == (
        "Annual rate 4.45% within the ceiling 4.60% (1-year LPR 3.10% on 2025-03-03 + 1.50%)"
    )
    assert say(checks["rate_ceiling"], "zh") == (
        "贷款年利率4.45%，未超过上限4.60%（2025-03-03一年期贷款市场报价利率3.10%加1.50%）"
    )
    assert say(checks["entry_lag"]) == (
        "Filed into the pool on 2025-04-02, 30 days after disbursement on 2025-03-03 (limit 30)"
    )
    assert say(checks["region"], "zh") == "借款人注册地贵阳市，属资金池覆盖范围（贵阳市、贵安新区）"


def test_each_entry_rule_fails_with_its_numbers() -> None:
    r = rules("local_rate_size_lag")
    bad = LOCAL.model_copy(
        update={"region": "zunyi", "annual_rate": D("0.046001"), "amount_cny": D("999999.99"), "tenor_months": 37}
    )
    failed = {c.rule: say(c) for c in entry_checks(r, bad, entered_on=date(2025, 4, 3)) if not c.passed}
    assert failed == {
        "region": "Borrower registered in zunyi, outside the fund's area (guiyang, guian_new_area)",
        "rate_ceiling": "Annual rate 4.6001% above the ceiling 4.60% (1-year LPR 3.10% on 2025-03-03 + 1.50%)",
        "loan_min": "Loan of ¥999,999.99, below the minimum ¥1,000,000.00",
        "tenor_max": "Tenor 37 months, longer than the maximum 36",
        "entry_lag": "Filed into the pool on 2025-04-03, 31 days after disbursement on 2025-03-03; the limit is 30",
    }
    big = LOCAL.model_copy(update={"amount_cny": D("10000000.01"), "tenor_months": 5})
    assert [c.rule for c in entry_checks(r, big) if not c.passed] == ["loan_max", "tenor_min"]


def test_a_migrated_entry_beyond_the_lag_is_waived_and_says_so() -> None:
    c = by_rule(entry_checks(rules("local_rate_size_lag"), LOCAL, entered_on=date(2025, 6, 1), migrated=True))
    assert c["entry_lag"].passed and c["entry_lag"].code == "ENTRY_LAG_WAIVED"
    assert say(c["entry_lag"], "zh") == "自原资金池迁移并附证明材料：放款后90天备案（期限30天）予以认可"


def test_missing_facts_are_not_reported_never_assumed() -> None:
    r = rules("local_rate_size_lag").model_copy(deep=True)
    r = FundRules.model_validate(
        {
            **r.model_dump(),
            "eligibility": {**r.eligibility.model_dump(), "counties": ["huaxi"], "clean_credit_years": 3},
        }
    )
    bare = LOCAL.model_copy(update={"region": None, "county": None, "annual_rate": None})
    failed = {c.rule: (say(c), say(c, "zh")) for c in entry_checks(r, bare) if not c.passed}
    assert failed == {
        "region": (
            "Borrower's registered region not reported; the fund covers guiyang, guian_new_area",
            "借款人注册地（市州）未报告，资金池覆盖贵阳市、贵安新区",
        ),
        "county": (
            "Borrower's registered county not reported; the fund covers huaxi",
            "借款人注册区县未报告，资金池覆盖huaxi",
        ),
        "rate_ceiling": ("Annual rate not reported; the ceiling is 4.60%", "贷款年利率未报告，上限为4.60%"),
        "clean_credit": (
            "Credit record not reported; the fund requires none bad in 3 years",
            "信用记录未报告，资金池要求3年内无不良记录",
        ),
    }


def test_credit_texts_say_only_what_was_reported() -> None:
    r = rules("city_40_60")
    clean = by_rule(entry_checks(r, LOCAL.model_copy(update={"credit_checked_years": 3.0})))["clean_credit"]
    assert clean.passed and say(clean, "zh") == "查询的3年内无不良信用记录（要求3年内无不良记录）"
    assert "年前有不良" not in say(clean, "zh")
    bad = by_rule(entry_checks(r, LOCAL.model_copy(update={"bad_credit_within_years": 3.0})))["clean_credit"]
    assert not bad.passed and say(bad) == "A bad credit record within the last 3 years; none allowed in 3"
    dated = by_rule(entry_checks(r, LOCAL.model_copy(update={"clean_credit_years": 2.0})))["clean_credit"]
    assert not dated.passed and say(dated, "zh") == "2年前有不良信用记录，未满足3年内无不良记录的要求"


def test_absolute_rate_ceiling_and_the_lpr_series() -> None:
    assert lpr_on(date(2024, 10, 20)) == D("0.0335") and lpr_on(date(2024, 10, 21)) == D("0.0310")
    assert lpr_on(date(2019, 8, 19)) is None
    base = rules("city_40_60").model_dump()
    r = FundRules.model_validate({**base, "eligibility": {"rate_ceiling": {"absolute": "0.06"}}})
    c = by_rule(entry_checks(r, LOCAL.model_copy(update={"annual_rate": D("0.0601")})))["rate_ceiling"]
    assert not c.passed and say(c) == "Annual rate 6.01% above the ceiling 6.00%"
    with pytest.raises(ValidationError, match="exactly one of lpr_plus or absolute"):
        FundRules.model_validate({**base, "eligibility": {"rate_ceiling": {"absolute": "0.06", "lpr_plus": "0.01"}}})
    with pytest.raises(ValidationError, match="trigger_days_overdue"):
        FundRules.model_validate({**base, "eligibility": {"filing_trigger": "days_overdue"}})


# --- the filing trigger --------------------------------------------------------------------------------

CLAIM = ClaimFacts(
    entered_on=date(2025, 3, 3),
    default_date=date(2025, 9, 1),
    filed_on=date(2025, 10, 10),
    npl_class="substandard",
    evidence_count=1,
)


def test_deadline_runs_from_the_npl_classification() -> None:
    r = rules("local_rate_size_lag")
    # classified on Friday 26 Sep 2025; 28 Sep (a make-up Sunday), 29, 30 Sep, 9, 10 Oct: 5 working days
    c = by_rule(claim_checks(r, CLAIM.model_copy(update={"npl_classified_on": date(2025, 9, 26)}), calendar=CAL))
    deadline = c["filing_deadline"]
    assert deadline.passed and deadline.params["days"] == "5"
    assert say(deadline) == "Filed 5 working days after the classification as non-performing on 2025-09-26 (limit 10)"
    assert say(deadline, "zh") == "2025-09-26列入不良后第5个工作日提交（期限10个工作日）"
    missing = by_rule(claim_checks(r, CLAIM, calendar=CAL))["filing_deadline"]
    assert not missing.passed and say(missing, "zh") == "列入不良日期未报告，无法起算申请期限"


def test_deadline_runs_from_n_days_overdue() -> None:
    r = rules("advance_then_settle")
    # overdue since 2 Jul 2025: 90 days overdue on 30 Sep 2025; 9 and 10 Oct are 2 working days later
    ok = by_rule(claim_checks(r, CLAIM.model_copy(update={"overdue_since": date(2025, 7, 2)}), calendar=CAL))
    assert ok["filing_deadline"].passed and ok["filing_deadline"].params["days"] == "2"
    early = by_rule(claim_checks(r, CLAIM.model_copy(update={"overdue_since": date(2025, 7, 20)}), calendar=CAL))
    assert not early["filing_deadline"].passed
    assert (
        say(early["filing_deadline"])
        == "Filed on 2025-10-10, before the overdue threshold on 2025-10-18: too early to claim"
    )


def test_net_loss_claims_need_the_disposal_reported() -> None:
    r = rules("net_loss_after_disposal")
    c = by_rule(claim_checks(r, CLAIM.model_copy(update={"court_accepted_on": date(2025, 9, 15)}), calendar=CAL))
    assert not c["disposal"].passed and say(c["disposal"], "zh") == "资金池按处置后净损失补偿，处置回收金额未报告"
    done = CLAIM.model_copy(update={"court_accepted_on": date(2025, 9, 15), "disposal_proceeds_fen": fen("1234567.89")})
    assert all(x.passed for x in claim_checks(r, done, calendar=CAL))


# --- payouts -------------------------------------------------------------------------------------------


def _loss(principal: str, **over: object) -> LossFacts:
    return LossFacts.model_validate({"principal_fen": fen(principal), "claimed_fen": fen(principal), **over})


def test_bank_tiers_by_year_and_by_performance() -> None:
    r = rules("bank_tiers_by_year")
    # 50% of 3,456,789.01 = 1,728,394.505 → 1,728,394.51, then the bank's tier
    first_year = compute_payout(
        r, _loss("3456789.01", bank_years_in_pool=0.5, bank_loss_rate=D(0)), usage=CapUsage(), available_fen=PLENTY
    )
    assert amounts(first_year) == {"fund": D("1000000.00"), "bank": D("2456789.01")}
    later = compute_payout(
        r, _loss("3456789.01", bank_years_in_pool=2.0, bank_loss_rate=D("0.01")), usage=CapUsage(), available_fen=PLENTY
    )
    assert amounts(later) == {"fund": D("1500000.00"), "bank": D("1956789.01")}
    lossy = compute_payout(
        r,
        _loss("3456789.01", bank_years_in_pool=2.0, bank_loss_rate=D("0.031")),
        usage=CapUsage(),
        available_fen=PLENTY,
    )
    assert amounts(lossy)["fund"] == D("1000000.00")
    tier = next(c for c in later.parties[0].caps if c.cap == "bank_tier")
    assert cap_reason("fund", tier, TEXTS, "en") == (
        "The bank's tier 1 (2.00 years in the pool at entry, loss rate 0.0100) allows at most ¥1,500,000.00 "
        "per loan: ¥1,728,394.51 → ¥1,500,000.00"
    )
    assert "合作银行第2档" in cap_reason("fund", first_year.parties[0].caps[0], TEXTS, "zh")
    unknown = compute_payout(r, _loss("3456789.01"), usage=CapUsage(), available_fen=PLENTY)
    assert amounts(unknown)["fund"] == D("1000000.00")  # standing unknown: the lowest tier, never a guess upward


def test_pro_rata_first_x_against_first_loss() -> None:
    r = rules("pro_rata_first_5m")
    # 3,456,789.01 × 5m / 8m = 2,160,493.13125 → 2,160,493.13; 40% = 864,197.252 → 864,197.25
    p = compute_payout(r, _loss("3456789.01", loan_fen=fen("8000000")), usage=CapUsage(), available_fen=PLENTY)
    assert p.covered_base_fen == fen("2160493.13")
    assert amounts(p) == {"fund": D("864197.25"), "bank": D("2592591.76")}
    assert base_step_reason(p.base_steps[-1], TEXTS, "en") == (
        "Only the first ¥5000000.00 of the ¥8000000.00 loan is covered, so the loss counts pro rata: ¥2,160,493.13"
    )
    first_loss = FundRules.model_validate(
        {**r.model_dump(), "covered": {**r.covered.model_dump(), "first_cny_mode": "first_loss"}}
    )
    q = compute_payout(first_loss, _loss("3456789.01", loan_fen=fen("8000000")), usage=CapUsage(), available_fen=PLENTY)
    assert amounts(q) == {"fund": D("1382715.60"), "bank": D("2074073.41")}
    small = compute_payout(r, _loss("3456789.01", loan_fen=fen("4000000")), usage=CapUsage(), available_fen=PLENTY)
    assert small.covered_base_fen == fen("3456789.01")  # a loan under ¥5m is covered whole


def test_net_loss_settlement_after_disposal() -> None:
    r = rules("net_loss_after_disposal")
    loss = _loss("3000000.00", interest_fen=fen("45678.90"), proceeds_fen=fen("1234567.89"))
    p = compute_payout(r, loss, usage=CapUsage(), available_fen=PLENTY)
    # proceeds pay principal first: 3,000,000.00 − 1,234,567.89 = 1,765,432.11 principal left, interest untouched
    assert [s.step for s in p.base_steps] == ["loss", "net_of_proceeds", "principal_only"]
    assert p.loss_fen == fen("1811111.01") and p.covered_base_fen == fen("1765432.11")
    # 50% of 1,765,432.11 = 882,716.055 → 882,716.06
    assert amounts(p) == {"fund": D("882716.06"), "bank": D("928394.95")}
    assert base_step_reason(p.base_steps[1], TEXTS, "zh") == "扣除处置回收1234567.89元（先抵本金）：¥1,811,111.01"


def test_pre_compensation_settled_on_the_disposal() -> None:
    r = rules("advance_then_settle")
    gross = compute_payout(r, _loss("3456789.01"), usage=CapUsage(), available_fen=PLENTY)
    # 40% of 3,456,789.01 = 1,382,715.60, cut to ¥1m per loan: the fund advances ¥1,000,000.00
    assert amounts(gross) == {"fund": D("1000000.00"), "bank": D("2456789.01")}
    paid = [(x.name, x.role, x.amount_fen) for x in gross.parties]
    final, shares = settle_advance(
        r,
        _loss("3456789.01", proceeds_fen=fen("1000000.00")),
        paid=paid,
        returned_before={},
        amount_fen=fen("1000000.00"),
        usage=CapUsage(),
    )
    # net 2,456,789.01 × 40% = 982,715.604 → 982,715.60: the fund gets back 17,284.40, the bank the rest
    assert amounts(final) == {"fund": D("982715.60"), "bank": D("1474073.41")}
    assert {s.name: to_cny(s.amount_fen) for s in shares} == {"fund": D("17284.40"), "bank": D("982715.60")}
    # pro rata to what was paid would have given the fund 289,285.81 of it
    pro_rata = share_recovery(paid, loss_fen=gross.loss_fen, recovered_before_fen=0, amount_fen=fen("1000000.00"))
    assert to_cny(pro_rata[0].amount_fen) == D("289285.81")
    # a second recovery settles on the cumulative proceeds: 1,500,000.00 in all → 40% of 1,956,789.01
    _, more = settle_advance(
        r,
        _loss("3456789.01", proceeds_fen=fen("1500000.00")),
        paid=paid,
        returned_before={s.name: s.cumulative_fen for s in shares},
        amount_fen=fen("500000.00"),
        usage=CapUsage(),
    )
    assert {s.name: to_cny(s.cumulative_fen) for s in more} == {"fund": D("217284.40"), "bank": D("1282715.60")}
