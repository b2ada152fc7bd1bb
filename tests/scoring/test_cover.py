"""Cover from the fund rules that will pay it: the payout of a default at EAD, to the fen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from scoring.cover import RuleVersionRef, default_loss, fund_cover, what_if_cover
from scoring.credit import loss_given_default
from scoring.funds import FundRules, load_rule_version
from scoring.package import PackageValuation
from scoring.payout import CapUsage, LossFacts, compute_payout
from scoring.types import LoanTerms
from tests.factories import FUND_EXAMPLES

EXAMPLES = sorted(p.stem for p in FUND_EXAMPLES.glob("*.yaml"))


def _rules(name: str) -> tuple[date, FundRules]:
    return load_rule_version(FUND_EXAMPLES / f"{name}.yaml")


def _ref(name: str, rules: FundRules, on: date) -> RuleVersionRef:
    return RuleVersionRef(fund_id=name, version=1, effective_from=on, name=rules.name)


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize(
    ("ead", "ip_share", "usage", "available"),
    [
        (3_000_000.0, 1.0, CapUsage(), 10**12),
        (12_345_678.91, 0.6, CapUsage(borrower_year_fen=1_950_000_000, fund_year_fen=4_900_000_000), 10**12),
        (2_500_000.0, 1.0, CapUsage(), 33_333_33),  # the balance binds
    ],
)
def test_cover_is_what_compute_payout_pays_to_the_fen(
    name: str, ead: float, ip_share: float, usage: CapUsage, available: int
) -> None:
    on, rules = _rules(name)
    cover = fund_cover(
        rules, ref=_ref(name, rules, on), ead_cny=ead, ip_share=ip_share, usage=usage, available_fen=available
    )
    # the same default, built by hand as a claim of the whole principal would be
    principal = round(ead * 100)
    loss = LossFacts(
        principal_fen=principal, ip_share=Decimal(str(ip_share)), claimed_fen=principal, loan_fen=principal
    )
    expected = compute_payout(rules, loss, usage=usage, available_fen=available)
    steps = cover.fund
    assert steps is not None and cover.basis == "fund_rules"
    # every amount, party and cap step to the fen (the ip_share step's text may spell the share 1 or 1.0)
    assert steps.payout.model_dump(exclude={"base_steps"}) == expected.model_dump(exclude={"base_steps"})
    assert [s.amount_fen for s in steps.payout.base_steps] == [s.amount_fen for s in expected.base_steps]
    paid = expected.pool_payout_fen + sum(p.amount_fen for p in expected.parties if p.role == "co_payer")
    assert steps.cover_fen == paid and steps.outside_insurer_fen == 0
    assert cover.share == paid / expected.loss_fen
    assert steps.usage == usage and steps.available_fen == available


def test_caps_and_balance_cut_the_cover() -> None:
    on, rules = _rules("first_10m_50pct")
    ref = _ref("f", rules, on)
    free = fund_cover(rules, ref=ref, ead_cny=4_000_000, ip_share=1, usage=CapUsage(), available_fen=10**12)
    assert free.share == pytest.approx(0.5)
    big = fund_cover(rules, ref=ref, ead_cny=40_000_000, ip_share=1, usage=CapUsage(), available_fen=10**12)
    assert big.share == pytest.approx(5_000_000 / 40_000_000)  # 50% of the first ¥10m only
    used = fund_cover(
        rules,
        ref=ref,
        ead_cny=4_000_000,
        ip_share=1,
        usage=CapUsage(borrower_year_fen=1_900_000_000),
        available_fen=10**12,
    )
    assert used.fund is not None and used.fund.payout.pool_payout_fen == 100_000_000  # ¥20m − ¥19m used
    poor = fund_cover(rules, ref=ref, ead_cny=4_000_000, ip_share=1, usage=CapUsage(), available_fen=5_000_000)
    assert poor.share == pytest.approx(50_000 / 4_000_000)
    assert poor.fund is not None
    assert [c.cap for c in poor.fund.payout.parties[0].caps if c.binding] == ["balance"]


def test_insurer_share_from_the_rules_or_outside_them() -> None:
    on, four = _rules("four_party_54_26_16_4")
    c = fund_cover(four, ref=_ref("4", four, on), ead_cny=1_000_000, ip_share=1, usage=CapUsage(), available_fen=10**12)
    assert c.insurer_basis == "fund_rules"
    assert (c.insurer_share, c.share) == pytest.approx((0.16, 0.74))
    with pytest.raises(ValueError, match="insurer"):
        fund_cover(
            four, ref=_ref("4", four, on), ead_cny=1, ip_share=1, usage=CapUsage(), available_fen=1, insurer_share=0.2
        )
    on, gy = _rules("city_40_60")
    outside = fund_cover(
        gy,
        ref=_ref("g", gy, on),
        ead_cny=1_000_000,
        ip_share=1,
        usage=CapUsage(),
        available_fen=10**12,
        insurer_share=0.3,
    )
    assert outside.insurer_basis == "policy" and outside.insurer_share == pytest.approx(0.3)
    assert outside.fund is not None and outside.fund.outside_insurer_fen == 30_000_000
    assert outside.share == pytest.approx(0.7)
    # at most what the bank bears: the fund pays 40%, so an 80% policy pays 60%
    most = fund_cover(
        gy,
        ref=_ref("g", gy, on),
        ead_cny=1_000_000,
        ip_share=1,
        usage=CapUsage(),
        available_fen=10**12,
        insurer_share=0.8,
    )
    assert most.share == pytest.approx(1.0) and most.insurer_share == pytest.approx(0.6)


def test_what_if_is_labelled_and_lgd_uses_the_cover() -> None:
    loan = LoanTerms(amount_cny=1_000_000, tenor_months=12, purpose="rd", insured_share=0.2, fund_cover_share=0.4)
    w = what_if_cover(loan)
    assert w.basis == "what_if" and w.fund is None
    assert (w.share, w.insurer_share) == pytest.approx((0.6, 0.2))
    package = PackageValuation(
        total_p10=0, total_p50=0, total_p90=0, pledge_value_cny=0, pledgeable_patents=0,
        liquidation_value=200_000, max_pledge_amount=0, registrable=True,
    )  # fmt: skip
    on, gy = _rules("city_40_60")
    ruled = fund_cover(gy, ref=_ref("g", gy, on), ead_cny=1_000_000, ip_share=1, usage=CapUsage(), available_fen=10**12)
    lgd = loss_given_default(loan, package, cover_share=ruled.share)
    assert lgd.without_cover == pytest.approx(0.8)
    assert lgd.with_cover == pytest.approx(0.8 * 0.6) and lgd.cover_share == pytest.approx(0.4)


def test_default_loss_is_the_principal_in_fen() -> None:
    loss = default_loss(1234.565, 0.5)
    assert (loss.principal_fen, loss.interest_fen, loss.claimed_fen, loss.ip_share) == (
        123457,
        0,
        123457,
        Decimal("0.5"),
    )
