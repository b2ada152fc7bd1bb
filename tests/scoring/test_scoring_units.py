"""Pure scoring functions: income approach, checks, grades, PSI, insurance, configuration."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from scoring.drift import bin_shares, psi, psi_band, reference_bins
from scoring.grades import load_grade_scale
from scoring.income import annuity_factor, relief_from_royalty
from scoring.insurance import GuaranteeQuote, LossSplit, quote_enforcement, quote_guarantee
from scoring.pledge_checks import add_months, check_pledge
from scoring.policy import load_scoring_config
from scoring.types import Patent

CONFIG = load_scoring_config()


def _patent(**over: object) -> Patent:
    base = {
        "patent_id": "CN202010000001.1",
        "patent_type": "invention",
        "ipc_section": "G",
        "tech_field": "software",
        "filing_date": date(2020, 1, 1),
        "grant_date": date(2022, 1, 1),
        "owner_id": "E1",
    }
    return Patent.model_validate({**base, **over})


def test_relief_from_royalty_by_hand() -> None:
    va = CONFIG.valuation
    p = _patent(filing_date=date(2020, 1, 1))
    ia = relief_from_royalty(p, as_of=date(2036, 1, 1), revenue=1_000_000, assumptions=va)
    assert ia is not None
    # 4 years of legal life left (2040-01-01), under the 10-year economic cap.
    life = (date(2040, 1, 1) - date(2036, 1, 1)).days / 365.25
    assert ia.remaining_economic_life_years == pytest.approx(life, abs=1e-3)
    factor = sum(1 / 1.15**t for t in range(1, 5)) + (life - 4) / 1.15**5
    assert ia.value == pytest.approx(1_000_000 * 0.065 * 0.75 * factor)
    assert ia.royalty_range == (0.05, 0.08)
    assert relief_from_royalty(p, as_of=date(2036, 1, 1), revenue=None, assumptions=va) is None


def test_annuity_factor_fractional_year() -> None:
    assert annuity_factor(0.1, 2.5) == pytest.approx(1 / 1.1 + 1 / 1.21 + 0.5 / 1.331)


def test_patent_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match=r"grant_date: .* is before filing_date"):
        _patent(grant_date=date(2019, 1, 1))
    with pytest.raises(ValueError, match="independent_claims: exceeds claims_count"):
        _patent(claims_count=2, independent_claims=3)


def test_every_refusal_ground_and_the_warning() -> None:
    texts = CONFIG.reasons.checks
    ok = check_pledge(_patent(), as_of=date(2026, 1, 1), texts=texts, pledgor="E1", tenor_months=12)
    assert all(c.status == "pass" for c in ok)
    cases: dict[str, dict[str, Any]] = {
        "registered_owner": {"owner_id": "E2"},
        "legal_status": {"legal_status": "invalidated"},
        "annual_fees": {"fees_up_to_date": False},
        "ownership_dispute": {"ownership_dispute": True},
        "preservation_order": {"preservation_order": True},
        "co_owner_consent": {"co_owned": True, "co_owner_consent": False},
        "not_already_pledged": {"currently_pledged": True},
    }
    for check, over in cases.items():
        out = {
            c.check: c.status
            for c in check_pledge(_patent(**over), as_of=date(2026, 1, 1), texts=texts, pledgor="E1", tenor_months=12)
        }
        assert out[check] == "fail", check
        assert sum(s == "fail" for s in out.values()) == 1, (check, out)
    term = check_pledge(
        _patent(filing_date=date(2006, 6, 1), grant_date=date(2008, 1, 1)),
        as_of=date(2025, 1, 1),
        texts=texts,
        pledgor="E1",
        tenor_months=24,
    )
    assert {c.check: c.status for c in term}["debt_term"] == "fail"
    pending = check_pledge(
        _patent(invalidation_pending=True),
        as_of=date(2026, 1, 1),
        texts=texts,
        pledgor="E1",
        tenor_months=12,
        lang="zh",
    )
    inv = next(c for c in pending if c.check == "invalidation")
    assert inv.status == "warn" and inv.reason == "存在待审的无效宣告请求"


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 11, 15), 14) == date(2026, 1, 15)


def test_grade_scale_boundaries() -> None:
    scale = load_grade_scale()
    assert scale.grade_of(0.0).grade == "A1"
    assert scale.grade_of(0.003).grade == "A2"
    assert scale.grade_of(0.5).grade == "D"
    assert scale.grade_of(1.0).grade == "D"


def test_psi_bands() -> None:
    rng = np.random.default_rng(0)
    ref = reference_bins(rng.normal(size=20_000))
    same = psi(ref["shares"], bin_shares(rng.normal(size=5000), ref["edges"]))
    shifted = psi(ref["shares"], bin_shares(rng.normal(0.8, 1, size=5000), ref["edges"]))
    assert psi_band(same) == "stable" and same < 0.02
    assert psi_band(shifted) == "act"


def test_guarantee_premium_and_bounds() -> None:
    split = LossSplit(government=0.5, bank=0.2, insurer=0.3)

    def quote(pd: float, lgd: float, months: int = 12) -> GuaranteeQuote:
        return quote_guarantee(
            lifetime_pd=pd,
            lgd_without_cover=lgd,
            ead=1_000_000,
            term_months=months,
            insurer_share=0.3,
            sum_insured=500_000,
            config=CONFIG.insurance,
            share_basis="what_if",
            split=split,
        )

    q = quote(0.05, 0.6, 24)
    el = 0.05 * min(0.6 * 1_000_000 * 0.3, 500_000)
    assert q.insurer_expected_loss == pytest.approx(el)
    assert q.premium == pytest.approx(el * 1.3 / 0.75)
    assert q.premium_rate == pytest.approx(q.premium / 500_000 / 2) and q.annual_premium == pytest.approx(q.premium / 2)
    assert q.expected_loss_ratio == pytest.approx(0.75 / 1.3)
    assert q.subsidy is not None and q.subsidy.government_cny + q.subsidy.borrower_cny == pytest.approx(q.premium)
    assert q.subsidy.government_cny == pytest.approx(q.premium * CONFIG.insurance.guarantee.premium_subsidy_share)
    tiny = quote(0.0001, 0.1, 36)
    assert tiny.premium == pytest.approx(0.005 * 500_000 * 3)  # the minimum annual rate, for three years
    assert "INS_RATE_BOUND_MIN" in {r.code for r in tiny.reasons}
    with pytest.raises(ValueError, match="sum to 1"):
        LossSplit(government=0.5, bank=0.5, insurer=0.5)


def test_enforcement_premium_from_design_example() -> None:
    q = quote_enforcement([_patent(), _patent(patent_id="CN202010000002.6")], tier="basic", config=CONFIG.insurance)
    assert q.premium == 2000 + 2 * 200
    assert q.limit == 15 * 2400


def test_configuration_is_complete() -> None:
    assert CONFIG.ltv.for_institution("unknown").invention == 0.25
    assert CONFIG.ltv.for_institution("bank_demo").invention == 0.30
    assert CONFIG.decision.rules[0].code in CONFIG.reasons.policy


def test_crossing_quantiles_keep_the_explained_p50() -> None:
    """Where the P10 booster says more than the P50 one, the P50 stays the P50 booster's (explained) value."""
    from scoring.valuation import quantiles

    raws = {"p10": np.log([300.0, 50.0]), "p50": np.log([200.0, 100.0]), "p90": np.log([250.0, 400.0])}

    class Crossing:
        def raw(self, x: np.ndarray, role: str) -> np.ndarray:
            return raws[role]

    q = quantiles(Crossing(), np.zeros((2, 1)))  # type: ignore[arg-type]
    np.testing.assert_allclose(q, [[200.0, 200.0, 250.0], [50.0, 100.0, 400.0]], rtol=1e-12)
