"""Every low-confidence reason has an English and a fully Chinese text, filled with its recorded figures."""

from __future__ import annotations

from typing import get_args

import pytest

from scoring.confidence_texts import ConfidenceCode, ConfidenceReason, load_confidence_texts, recorded_reasons
from tests.zh_scan import english_words, is_zh

FIGURES: dict[str, dict[str, float | int | str]] = {
    "FEW_TEST_ROWS": {"rows": 129, "floor": 300},
    "FEW_TEST_EVENTS": {"events": 15, "floor": 30},
    "ORACLE_GAP": {"auc": 0.7, "gap": 0.19, "oracle": 0.89, "floor": 0.05},
    "SINGLE_CLASS": {},
    "UNCODED": {"text": "tested on 129 rows, fewer than the floor of 300"},
    "BELOW_FLOORS": {},
}


@pytest.mark.parametrize("code", get_args(ConfidenceCode))
@pytest.mark.parametrize("model", [None, "valuation", "pd", "lgd", "claim_review"])
def test_every_reason_reads_in_chinese_without_an_english_word(code: str, model: str | None) -> None:
    reason = ConfidenceReason.model_validate({"code": code, "params": FIGURES[code], "model": model})
    zh = load_confidence_texts().reason(reason, "zh")
    assert is_zh(zh)
    assert english_words(zh) == [], zh
    assert "{" not in zh and "{" not in load_confidence_texts().reason(reason, "en")


def test_the_figures_are_the_recorded_ones_in_both_languages() -> None:
    gap = ConfidenceReason(code="ORACLE_GAP", params=FIGURES["ORACLE_GAP"], model="pd")
    texts = load_confidence_texts()
    assert texts.reason(gap, "en") == "pd: AUC 0.700 is 0.190 below its oracle's 0.890 (more than the floor of 0.05)"
    assert "0.700" in texts.reason(gap, "zh") and "0.890" in texts.reason(gap, "zh")
    assert texts.reason(gap, "zh").startswith("违约概率模型：")


def test_a_record_not_flagged_has_no_reason_and_an_old_one_keeps_its_lines() -> None:
    assert recorded_reasons({"low_confidence": False, "reasons": ["x"]}) == []
    old = recorded_reasons({"low_confidence": True, "reasons": ["a", "b"]})
    assert load_confidence_texts().texts(old, "en") == ["a", "b"]
    assert len(load_confidence_texts().texts(old, "zh")) == 1  # one Chinese line, not one per English line
    assert recorded_reasons({"low_confidence": True}) == [ConfidenceReason(code="BELOW_FLOORS")]
