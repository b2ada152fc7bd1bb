"""Weak or thinly evidenced models are flagged at registration and every assessment says so."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scoring.features import FeatureSpec
from scoring.models import LoadedModel
from service.bundle import ModelBundle
from training.confidence import assess_confidence

# the bootstrapped claim-review model of issue 16: 0.70 AUC against an oracle's 0.89, few irregular claims
CLAIMS = {
    "n_test": 129,
    "model": {"auc": 0.70, "n": 129, "event_rate": 0.12},
    "oracle": {"auc": 0.89},
    "model_vs_truth": {"auc": 0.70, "n": 129},
}
PD = {
    "n_test": 7970,
    "model": {"auc": 0.756, "n": 7970, "event_rate": 0.04},
    "oracle": {"auc": 0.777},
    "model_vs_truth": {"auc": 0.756},
}


def test_the_weak_claim_model_is_flagged_with_every_reason() -> None:
    c = assess_confidence("claim_review", CLAIMS)
    assert c["low_confidence"] is True
    assert c["reasons"] == [
        "tested on 129 rows, fewer than the floor of 300",
        "tested on 15 events, fewer than the floor of 30",
        "AUC 0.700 is 0.190 below its oracle's 0.890 (more than the floor of 0.05)",
    ]


def test_a_well_evidenced_model_close_to_its_oracle_is_not_flagged() -> None:
    assert assess_confidence("pd", PD) == {
        "low_confidence": False,
        "reasons": [],
        "reason_codes": [],
        "floors": {"max_oracle_gap": 0.05, "min_test_rows": 200, "min_test_events": 30},
    }


def test_a_small_generic_file_is_flagged_for_its_sample() -> None:
    c = assess_confidence("credit", {"auc": 0.81, "n": 158, "event_rate": 0.16, "n_test": 158})
    assert c["low_confidence"] is True
    assert c["reasons"][0] == "tested on 158 rows, fewer than the floor of 200"


def _model(name: str, confidence: dict[str, Any] | None) -> LoadedModel:
    extra = {"confidence": confidence} if confidence is not None else {}
    return LoadedModel(name, "1", "binary", (FeatureSpec("x", "numeric"),), {}, manifest={"extra": extra})


def test_a_response_repeats_the_reasons_of_each_model_it_used() -> None:
    bundle = ModelBundle(
        {
            "valuation": _model("valuation", assess_confidence("valuation", {"mdape": 0.3})),
            "pd": _model("pd", assess_confidence("pd", {**PD, "oracle": {"auc": 0.86}})),
            "claim_review": _model("claim_review", assess_confidence("claim_review", CLAIMS)),
        },
        token="t",
        loaded_at=datetime.now(UTC),
    )
    out = bundle.confidence("valuation", "pd")
    assert out["low_confidence"] is True
    assert out["low_confidence_reasons"] == [
        "pd: AUC 0.756 is 0.104 below its oracle's 0.860 (more than the floor of 0.05)"
    ]
    assert bundle.confidence("valuation") == {"low_confidence": False, "low_confidence_reasons": []}
    legacy = ModelBundle({"pd": _model("pd", None)}, token="t", loaded_at=datetime.now(UTC))
    assert legacy.confidence("pd")["low_confidence"] is False  # registered before the record existed


def test_reasons_are_recorded_as_codes_and_given_in_the_readers_language() -> None:
    c = assess_confidence("claim_review", CLAIMS)
    assert [r["code"] for r in c["reason_codes"]] == ["FEW_TEST_ROWS", "FEW_TEST_EVENTS", "ORACLE_GAP"]
    assert c["reason_codes"][0]["params"] == {"rows": 129, "floor": 300}
    bundle = ModelBundle({"claim_review": _model("claim_review", c)}, token="t", loaded_at=datetime.now(UTC))
    assert bundle.confidence("claim_review", lang="en")["low_confidence_reasons"] == [
        f"claim_review: {r}" for r in c["reasons"]
    ]
    assert bundle.confidence("claim_review", lang="zh")["low_confidence_reasons"] == [
        "理赔审核模型：测试集仅 129 行，少于下限 300 行",
        "理赔审核模型：测试集仅含 15 个事件，少于下限 30 个",
        "理赔审核模型：AUC 为 0.700，比已知真实机制的理想基准模型（0.890）低 0.190，超过允许差距 0.05",
    ]


def test_a_record_from_before_the_codes_keeps_its_english_and_says_so_in_chinese() -> None:
    old = {"low_confidence": True, "reasons": ["tested on 129 rows, fewer than the floor of 300"]}
    bundle = ModelBundle({"pd": _model("pd", old)}, token="t", loaded_at=datetime.now(UTC))
    assert bundle.confidence("pd")["low_confidence_reasons"] == ["pd: tested on 129 rows, fewer than the floor of 300"]
    zh = bundle.confidence("pd", lang="zh")
    assert zh["low_confidence"] is True
    assert zh["low_confidence_reasons"] == [
        "违约概率模型：低于置信度下限（该模型登记时只记录了英文原因，重新训练后可显示中文原因）"
    ]
