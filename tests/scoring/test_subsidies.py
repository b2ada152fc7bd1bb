"""Subsidy programmes: interest, premium and appraisal-fee subsidies as worked examples to the fen, with reasons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from scoring.fund_reasons import check_reason, load_texts, subsidy_step_reason
from scoring.subsidies import Subsidy, SubsidyFacts, SubsidyRules, compute_subsidy, subsidy_checks
from scoring.vocab.money import to_cny, to_fen

PROGRAMMES = Path(__file__).resolve().parents[2] / "scoring" / "config" / "subsidies"
TEXTS = load_texts()
D = Decimal
APPLIED = date(2025, 4, 10)


def programme(name: str, **over: Any) -> SubsidyRules:
    raw = yaml.safe_load((PROGRAMMES / f"{name}.yaml").read_text(encoding="utf-8"))
    return SubsidyRules.model_validate({**raw["rules"], **over})


INTEREST = SubsidyFacts(
    enterprise_id="E1",
    applicant="bank",
    is_sme=True,
    pledge_registered=True,
    principal_cny=D("2345678.91"),
    annual_rate=D("0.0435"),
    period_start=date(2025, 1, 1),
    period_end=date(2025, 4, 3),
)


def steps(s: Subsidy) -> dict[str, Decimal]:
    return {x.step: to_cny(x.amount_fen) for x in s.steps}


def test_interest_subsidy_half_the_lpr_to_the_fen() -> None:
    r = programme("interest_half_lpr")
    assert all(c.passed for c in subsidy_checks(r, INTEREST, applied_on=APPLIED))
    s = compute_subsidy(r, INTEREST)
    # 92 days, actual/360: interest 2,345,678.91 × 4.35% × 92/360 = 26,076.1305 → 26,076.13;
    # subsidy 2,345,678.91 × 3.10% (1-year LPR on 2025-01-01) × 0.5 × 92/360 = 9,291.4948 → 9,291.49
    assert steps(s) == {
        "interest_charged": D("26076.13"),
        "interest_basis": D("9291.49"),
        "cap_per_enterprise_year": D("9291.49"),
    }
    assert to_cny(s.amount_fen) == D("9291.49")
    assert subsidy_step_reason(s.steps[1], TEXTS, "en") == (
        "Subsidy: ¥2,345,678.91 × 3.10% × 0.5 × 92/360 = ¥9,291.49 (never above the interest charged)"
    )
    assert subsidy_step_reason(s.steps[0], TEXTS, "zh") == "应付利息：¥2,345,678.91 × 4.35% × 92/360 = ¥26,076.13"
    # the enterprise already had ¥299,000 this year: ¥1,000 of room under the ¥300,000 cap
    capped = compute_subsidy(r, INTEREST, enterprise_year_used_fen=to_fen(D("299000")))
    assert to_cny(capped.amount_fen) == D("1000.00")
    assert subsidy_step_reason(capped.steps[-1], TEXTS, "en") == (
        "At most ¥300,000.00 per enterprise a year; ¥299,000.00 already used leaves ¥1,000.00: ¥9,291.49 → ¥1,000.00"
    )


def test_interest_subsidy_on_the_rate_never_above_the_interest_charged() -> None:
    on_rate = programme("interest_half_lpr", basis="rate", share="0.3")
    # 26,076.1305 × 0.3 = 7,822.839 → 7,822.84
    assert to_cny(compute_subsidy(on_rate, INTEREST).amount_fen) == D("7822.84")
    whole = programme("interest_half_lpr", basis="rate", share="1")
    assert to_cny(compute_subsidy(whole, INTEREST).amount_fen) == D("26076.13")
    low_rate = INTEREST.model_copy(update={"annual_rate": D("0.01")})  # below half the LPR: only what was charged
    r = programme("interest_half_lpr", share="1")
    s = compute_subsidy(r, low_rate)
    assert steps(s)["interest_basis"] == steps(s)["interest_charged"] == D("5994.51")


def test_premium_and_appraisal_fee_subsidies_with_their_caps() -> None:
    premium = programme("premium_30pct")
    fee = SubsidyFacts(
        enterprise_id="E1",
        applicant="enterprise",
        is_sme=True,
        pledge_registered=True,
        fee_cny=D("123456.78"),
        paid_on=date(2025, 4, 1),
    )
    # 30% of 123,456.78 = 37,037.034 → 37,037.03
    assert to_cny(compute_subsidy(premium, fee).amount_fen) == D("37037.03")
    big = fee.model_copy(update={"fee_cny": D("200000")})
    assert steps(compute_subsidy(premium, big)) == {
        "fee_paid": D("200000.00"),
        "share": D("60000.00"),
        "cap_per_application": D("50000.00"),
    }
    appraisal = programme("appraisal_fee_50pct")
    local = fee.model_copy(update={"fee_cny": D("45678.90"), "region": "guiyang"})
    # 50% of 45,678.90 = 22,839.45, at most ¥20,000 per application
    assert to_cny(compute_subsidy(appraisal, local).amount_fen) == D("20000.00")
    # a second appraisal the same year: 15,000.00, but only ¥10,000 of the ¥30,000 enterprise-year cap is left
    second = local.model_copy(update={"fee_cny": D("30000")})
    s = compute_subsidy(appraisal, second, enterprise_year_used_fen=to_fen(D("20000")))
    assert to_cny(s.amount_fen) == D("10000.00")
    assert subsidy_step_reason(s.steps[-1], TEXTS, "zh") == (
        "同一企业每年最高¥30,000.00，已用¥20,000.00，剩余¥10,000.00：¥15,000.00 → ¥10,000.00"
    )


def test_guarantee_fee_subsidy_is_a_share_of_the_fee() -> None:
    r = SubsidyRules(name="guarantee fee 40%", kind="guarantee_fee", share=D("0.4"), sme_only=False)
    facts = SubsidyFacts(
        enterprise_id="E1",
        applicant="enterprise",
        pledge_registered=True,
        fee_cny=D("33333.33"),
        paid_on=date(2025, 4, 1),
    )
    # 40% of 33,333.33 = 13,333.332 → 13,333.33
    assert all(c.passed for c in subsidy_checks(r, facts, applied_on=APPLIED))
    assert to_cny(compute_subsidy(r, facts).amount_fen) == D("13333.33")


def test_eligibility_fails_with_reasons_and_missing_facts_are_not_reported() -> None:
    premium = programme("premium_30pct")
    bare = SubsidyFacts(enterprise_id="E1", applicant="bank")
    failed = {
        c.rule: check_reason(c, TEXTS, "zh") for c in subsidy_checks(premium, bare, applied_on=APPLIED) if not c.passed
    }
    assert failed == {
        "applicant": "申请主体bank不符合要求（允许：enterprise）",
        "sme": "企业是否为中小企业未报告",
        "pledge_registered": "质押登记情况未报告",
        "amount_facts": "以下数据未报告：fee_cny, paid_on",
    }
    r = programme("appraisal_fee_50pct", apply_within_days=30)
    outside = SubsidyFacts(
        enterprise_id="E1",
        applicant="bank",
        is_sme=True,
        pledge_registered=True,
        region="zunyi",
        fee_cny=D("1000"),
        paid_on=date(2025, 3, 1),
    )
    en = {c.rule: check_reason(c, TEXTS, "en") for c in subsidy_checks(r, outside, applied_on=APPLIED) if not c.passed}
    assert en == {
        "region": "Borrower registered in zunyi, outside the fund's area (guiyang, guian_new_area)",
        "deadline": "Applied 40 days after 2025-03-01; the limit is 30",
    }
    high = INTEREST.model_copy(update={"annual_rate": D("0.0601")})
    rate = next(c for c in subsidy_checks(programme("interest_half_lpr"), high, applied_on=APPLIED) if c.rule == "rate")
    assert not rate.passed and check_reason(rate, TEXTS, "en") == "Annual rate 6.01% above the ceiling 6.00%"


def test_programme_rules_are_validated() -> None:
    with pytest.raises(ValidationError, match="basis"):
        SubsidyRules.model_validate({"name": "x", "kind": "interest", "share": "0.5"})
    with pytest.raises(ValidationError, match="basis"):
        SubsidyRules.model_validate({"name": "x", "kind": "premium", "share": "0.5", "basis": "lpr"})
    with pytest.raises(ValidationError, match="max_rate"):
        SubsidyRules.model_validate({"name": "x", "kind": "premium", "share": "0.5", "max_rate": "0.05"})
    with pytest.raises(ValidationError, match="period_end"):
        SubsidyFacts.model_validate({**INTEREST.model_dump(), "period_end": date(2025, 1, 1)})
