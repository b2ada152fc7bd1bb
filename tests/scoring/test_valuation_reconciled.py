"""Valuation reconciled: royalty priors by industry, tax by status, two values side by side, pledge value by basis."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest

from scoring.income import relief_from_royalty
from scoring.package import ValueBasis, compare_values, value_package
from scoring.policy import PledgeValuePolicy, load_scoring_config
from scoring.types import Patent
from scoring.vocab import TECH_FIELDS

CONFIG = load_scoring_config()
VA = CONFIG.valuation
GBT_4754 = re.compile(r"^[A-T](\d{2})?(-[a-z]+)?$")  # a section letter, optionally a division (and a named group)
# three pledgeable patents and one that does not live: P10, P50, P90 in CNY
Q = np.array([[1e6, 2e6, 3e6], [2e6, 4e6, 6e6], [0.5e6, 1e6, 2e6], [3e6, 5e6, 8e6]])
CAPS = [0.25, 0.25, 0.15, 0.25]
BASES: list[ValueBasis] = ["pledgeable", "pledgeable", "pledgeable", "not_alive"]
INCOMES = [0.5e6, 1.5e6, 0.2e6, None]


def _patent(tech_field: str = "software") -> Patent:
    return Patent(
        patent_id="CN202010000001.1",
        patent_type="invention",
        ipc_section="G",
        tech_field=tech_field,
        filing_date=date(2020, 1, 1),
        grant_date=date(2022, 1, 1),
    )


@pytest.mark.parametrize("field", TECH_FIELDS)
def test_every_tech_field_has_a_sourced_royalty_prior_by_industry(field: str) -> None:
    code, prior = VA.royalty.for_field(field)
    assert GBT_4754.match(code), code
    assert prior.source and prior.name_zh and 0 < prior.range[0] <= prior.range[1] < 0.3
    ia = relief_from_royalty(_patent(field), as_of=date(2026, 1, 1), revenue=1e6, assumptions=VA)
    assert ia is not None and ia.royalty_industry == code and ia.royalty_source == prior.source
    assert ia.royalty_range == prior.range


def test_high_tech_borrowers_pay_15_percent_tax() -> None:
    p = _patent()
    std = relief_from_royalty(p, as_of=date(2026, 1, 1), revenue=1e6, assumptions=VA)
    ht = relief_from_royalty(p, as_of=date(2026, 1, 1), revenue=1e6, assumptions=VA, high_tech=True)
    assert std is not None and ht is not None
    assert (std.tax_rate, std.tax_basis, ht.tax_rate, ht.tax_basis) == (0.25, "standard", 0.15, "high_tech")
    assert ht.value == pytest.approx(std.value * 0.85 / 0.75)


def test_divergence_is_flagged_above_the_configured_ratio() -> None:
    far = compare_values(16.8e6, 1.6e6, assumptions=VA, lang="zh")
    assert far.divergent and far.ratio == pytest.approx(10.5) and far.divergence_limit == VA.divergence_ratio
    assert far.note is not None and far.note.code == "VALUE_DIVERGENT"
    assert "相差10.5倍" in far.note.text and not re.search(r"[A-Za-z]{2,}", far.note.text)
    en = compare_values(1e6, 5e6, assumptions=VA, lang="en")
    assert en.divergent and en.note is not None and "5.0-fold" in en.note.text
    near = compare_values(2e6, 1e6, assumptions=VA, lang="en")
    assert not near.divergent and near.note is None and near.ratio == pytest.approx(2.0)
    none = compare_values(2e6, None, assumptions=VA, lang="en")
    assert (none.ratio, none.divergent) == (None, False)


@pytest.mark.parametrize(
    ("policy", "appraisal", "used", "value"),
    [
        (PledgeValuePolicy(basis="p50"), None, "p50", 7e6),
        (PledgeValuePolicy(basis="p10"), None, "p10", 3.5e6),
        (PledgeValuePolicy(basis="income"), None, "income", 2.2e6),
        # the appraisal covers the whole package: its pledgeable share (7 of 12 of the P50) counts
        (PledgeValuePolicy(basis="appraisal"), 6e6, "appraisal", 6e6 * 7 / 12),
        (PledgeValuePolicy(basis="appraisal", fallback="p10"), None, "p10", 3.5e6),
        (PledgeValuePolicy(basis="blend", weights={"p10": 0.5, "income": 0.5}), None, "blend", (3.5e6 + 2.2e6) / 2),
        # a blend without one of its figures renormalises over the others
        (PledgeValuePolicy(basis="blend", weights={"p50": 0.25, "appraisal": 0.75}), None, "blend", 7e6),
    ],
)
def test_pledge_value_by_basis(policy: PledgeValuePolicy, appraisal: float | None, used: str, value: float) -> None:
    pkg = value_package(Q, CAPS, [[]] * 4, CONFIG, bases=BASES, incomes=INCOMES, appraisal=appraisal, policy=policy)
    basis = pkg.pledge_basis
    assert basis is not None and basis.configured == policy.basis and basis.used == used
    assert pkg.pledge_value_cny == pytest.approx(value)
    assert basis.figures == {
        "p10": 3.5e6,
        "p50": 7e6,
        "income": pytest.approx(2.2e6),
        "appraisal": None if appraisal is None else pytest.approx(appraisal * 7 / 12),
    }
    assert (basis.note is not None) == (used != policy.basis)
    # the pledge value is shared out pro rata to P50, then capped by each patent's type
    scale = value / 7e6
    assert pkg.max_pledge_amount == pytest.approx(scale * (2e6 * 0.25 + 4e6 * 0.25 + 1e6 * 0.15))
    assert pkg.liquidation_value == pytest.approx(value * VA.liquidation_factor * (1 - VA.disposal_cost_share))
    assert pkg.comparison is not None and pkg.comparison.model_value_cny == 7e6
    assert pkg.comparison.income_value_cny == pytest.approx(2.2e6)
    assert pkg.comparison.divergent and pkg.comparison.ratio == pytest.approx(7 / 2.2)  # above 3


def test_the_fallback_says_why_in_both_languages() -> None:
    policy = PledgeValuePolicy(basis="appraisal", fallback="p10")
    zh = value_package(Q, CAPS, [[]] * 4, CONFIG, bases=BASES, policy=policy, lang="zh").pledge_basis
    en = value_package(Q, CAPS, [[]] * 4, CONFIG, bases=BASES, policy=policy, lang="en").pledge_basis
    assert zh is not None and zh.note is not None and en is not None and en.note is not None
    assert zh.note.text == "所配置的质押价值基础（银行提供的评估值）缺少本笔数据：改用模型估值第10百分位"
    assert (
        en.note.text
        == "The configured pledge-value basis (the bank's appraisal) has no figure for this package: "
        + ("model P10 used instead")
    )
    for code, t in VA.texts.items():
        assert t.en and t.zh and not re.search(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", "", t.zh)), code


def test_the_default_basis_is_the_p50_as_before() -> None:
    pkg = value_package(Q, CAPS, [[]] * 4, CONFIG, bases=BASES)
    assert pkg.pledge_basis is not None and pkg.pledge_basis.used == "p50" and pkg.pledge_value_cny == 7e6
    assert pkg.pledge_basis.figures["income"] is None and pkg.comparison is not None
    assert pkg.comparison.ratio is None
    assert VA.pledge_value.for_institution("bank_conservative").basis == "blend"
