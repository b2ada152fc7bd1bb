"""Statutory terms by type and filing date: one rule for checks, features, expiry and the generator."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from scoring.features import remaining_life_years
from scoring.pledge_checks import check_pledge, life_state
from scoring.policy import load_scoring_config
from scoring.terms import DESIGN_15_YEARS_FROM, expiry, statutory_term_years, term_years
from scoring.types import Patent
from tests.patent_numbers import fresh_patent_id
from training.synth.patents import statutory_terms

TEXTS = load_scoring_config().reasons.checks


def _design(filed: date, granted: date) -> Patent:
    return Patent(
        patent_id=fresh_patent_id("design", filed=filed),
        patent_type="design",
        ipc_section="F",
        tech_field="consumer",
        filing_date=filed,
        grant_date=granted,
        owner_id="E1",
    )


@pytest.mark.parametrize(
    ("patent_type", "filed", "years"),
    [
        ("invention", date(1999, 3, 15), 20),
        ("utility_model", date(2022, 1, 1), 10),
        ("design", date(2015, 3, 1), 10),
        ("design", date(2021, 5, 31), 10),  # the day before the 4th amendment took effect
        ("design", DESIGN_15_YEARS_FROM, 15),
        ("design", date(2022, 3, 1), 15),
    ],
)
def test_term_by_type_and_filing_date(patent_type: str, filed: date, years: int) -> None:
    assert statutory_term_years(patent_type, filed) == years
    vec = term_years(np.array([patent_type], dtype=object), np.array([filed], dtype="datetime64[D]"))
    assert vec.tolist() == [years]


def test_expiry_anniversary_and_29_february() -> None:
    assert expiry("invention", date(1999, 3, 15)) == date(2019, 3, 15)
    assert expiry("design", date(2015, 3, 1)) == date(2025, 3, 1)
    assert expiry("design", date(2022, 3, 1)) == date(2037, 3, 1)
    assert expiry("utility_model", date(2020, 2, 29)) == date(2030, 2, 28)


def test_a_2015_design_is_expired_in_2026_and_a_2022_design_alive() -> None:
    as_of = date(2026, 6, 30)
    old, new = _design(date(2015, 3, 1), date(2015, 9, 1)), _design(date(2022, 3, 1), date(2022, 9, 1))
    assert old.expiry() == date(2025, 3, 1) and new.expiry() == date(2037, 3, 1)
    assert life_state(old, as_of) == "expired" and life_state(new, as_of) == "alive"
    checks = {c.check: c for c in check_pledge(old, as_of=as_of, texts=TEXTS, pledgor="E1", tenor_months=12)}
    assert checks["legal_status"].status == "fail" and checks["legal_status"].code == "STATUS_EXPIRED"
    assert "2025-03-01" in checks["legal_status"].reason and "10 years" in checks["legal_status"].reason
    assert checks["debt_term"].status == "fail"
    fresh = {c.check: c.status for c in check_pledge(new, as_of=as_of, texts=TEXTS, pledgor="E1", tenor_months=24)}
    assert fresh["legal_status"] == "pass" and fresh["debt_term"] == "pass"
    life = remaining_life_years(
        np.array(["design", "design"], dtype=object),
        np.array([old.filing_date, new.filing_date], dtype="datetime64[D]"),
        np.datetime64(as_of, "D"),
    )
    assert life[0] == 0.0 and life[1] == pytest.approx(10.67, abs=0.01)


def test_expired_reason_is_chinese_in_chinese() -> None:
    old = _design(date(2015, 3, 1), date(2015, 9, 1))
    zh = next(
        c for c in check_pledge(old, as_of=date(2026, 6, 30), texts=TEXTS, lang="zh") if c.check == "legal_status"
    )
    assert zh.reason == "专利已于2025-03-01届满（法定保护期自申请日2015-03-01起10年），仅有效专利可质押"


def test_the_generator_uses_the_same_terms() -> None:
    filed = np.array(["2015-03-01", "2022-03-01", "2015-03-01", "2015-03-01"], dtype="datetime64[D]")
    ptype = np.array([2, 2, 0, 1])  # design, design, invention, utility model (vocabulary order)
    assert statutory_terms(ptype, filed).tolist() == [10, 15, 20, 10]
