"""Term-aware premiums and the risk-based rate floor: pure functions over lifetime PD and LGD."""

from __future__ import annotations

import re
from datetime import date

import pytest

from scoring.insurance import quote_enforcement, quote_guarantee
from scoring.policy import load_scoring_config
from scoring.pricing import RateFloor, rate_floor
from scoring.types import Patent
from scoring.vocab.lang import Lang

CONFIG = load_scoring_config()
PARAMS = CONFIG.pricing.default
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _premium(lifetime_pd: float, months: int, lang: Lang = "en") -> float:
    q = quote_guarantee(
        lifetime_pd=lifetime_pd,
        lgd_without_cover=0.7,
        ead=3_000_000,
        term_months=months,
        insurer_share=0.16,
        sum_insured=0.16 * 3_000_000,
        config=CONFIG.insurance,
        share_basis="fund_rules",
        lang=lang,
    )
    return q.premium


def test_a_36_month_loan_pays_more_premium_than_a_12_month_one() -> None:
    """Same borrower: the cumulative PD over 36 months exceeds the 12-month one, and so does the premium."""
    pd12, pd36 = 0.04, 0.11  # lifetime PDs a term structure gives the same borrower for 12 and 36 months
    assert _premium(pd36, 36) > _premium(pd12, 12)
    # at the rate floor too: a minimum annual rate charged for three years
    assert _premium(1e-6, 36) == pytest.approx(3 * _premium(1e-6, 12))


def test_rate_floor_components_and_verdicts() -> None:
    def floor(asked: float | None, lang: Lang = "en") -> RateFloor:
        return rate_floor(
            lifetime_pd=0.09, lgd=0.6, tenor_months=36, asked_rate=asked, params=PARAMS, texts=CONFIG.pricing, lang=lang
        )

    none = floor(None)
    parts = {c.code: c.rate for c in none.components}
    assert parts["EXPECTED_LOSS"] == pytest.approx(0.09 * 0.6 / 3)
    assert parts["FUNDING_COST"] == PARAMS.funding_cost_rate
    assert parts["COST_OF_CAPITAL"] == pytest.approx(
        PARAMS.capital_requirement * PARAMS.risk_weight * (PARAMS.hurdle_rate - PARAMS.funding_cost_rate)
    )
    assert none.floor_rate == pytest.approx(sum(parts.values()))
    assert (none.asked_rate, none.margin, none.covers_risk, none.reason.code) == (None, None, None, "NO_RATE_ASKED")
    low = floor(none.floor_rate - 0.01, "zh")
    assert low.covers_risk is False and low.reason.code == "RATE_BELOW_FLOOR"
    assert low.margin == pytest.approx(-0.01) and "低于" in low.reason.text
    high = floor(0.2)
    assert high.covers_risk and high.reason.code == "RATE_COVERS_FLOOR"


def test_a_longer_tenor_spreads_a_larger_lifetime_loss() -> None:
    short = rate_floor(lifetime_pd=0.04, lgd=0.6, tenor_months=12, asked_rate=None, params=PARAMS, texts=CONFIG.pricing)
    long = rate_floor(lifetime_pd=0.11, lgd=0.6, tenor_months=36, asked_rate=None, params=PARAMS, texts=CONFIG.pricing)
    el = {r.tenor_months: next(c.rate for c in r.components if c.code == "EXPECTED_LOSS") for r in (short, long)}
    assert el[12] == pytest.approx(0.024) and el[36] == pytest.approx(0.11 * 0.6 / 3)


def test_every_insurance_and_pricing_text_is_in_both_languages() -> None:
    patent = Patent(
        patent_id="CN202010000001.1",
        patent_type="invention",
        ipc_section="G",
        tech_field="software",
        filing_date=date(2020, 1, 1),
        grant_date=date(2022, 1, 1),
        litigation_count=1,
    )
    for texts in (CONFIG.insurance.texts, CONFIG.pricing.texts):
        for code, t in texts.items():
            assert t.en and t.zh and not LATIN_WORD.search(re.sub(r"\{\w+\}", "", t.zh)), code
    zh = quote_enforcement([patent], tier="basic", config=CONFIG.insurance, lang="zh")
    assert all(not LATIN_WORD.search(r.text) for r in zh.reasons)
    g = quote_guarantee(
        lifetime_pd=0.05,
        lgd_without_cover=0.5,
        ead=1e6,
        term_months=24,
        insurer_share=0.2,
        sum_insured=2e5,
        config=CONFIG.insurance,
        share_basis="fund_rules",
        lang="zh",
    )
    assert g.reasons[0].text == "24个月保险期间内的累计违约概率"
    assert all(not LATIN_WORD.search(r.text) for r in g.reasons)
