"""Generic tabular training, batch prediction and model commands through the real CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models_store import ModelStore
from service.cli import app

DATA = Path(__file__).parent / "data"
CSV = DATA / "credit_small.csv"
SPEC = DATA / "credit_small.spec.yaml"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IPRISK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _train_credit() -> str:
    return _run(
        "train",
        "--task",
        "binary",
        "--data",
        str(CSV),
        "--target",
        "defaulted",
        "--name",
        "credit",
        "--spec",
        str(SPEC),
    )


def test_generic_binary_train_and_predict_with_shap(env: Path, tmp_path: Path) -> None:
    out = _train_credit()
    assert "credit:1 registered" in out
    store = ModelStore(env / "models")
    manifest = store.verify("credit", "1")
    assert "applicant_id" not in [f.name for f in manifest.features]
    assert {f.name: f.kind for f in manifest.features}["employment"] == "categorical"
    assert manifest.metrics["auc"] > 0.6
    # 800 rows leave 158 for the test: below the confidence floor, and it says so everywhere
    assert manifest.extra["confidence"]["low_confidence"] is True
    assert "LOW CONFIDENCE: tested on 158 rows" in out
    report = (env / "reports" / "credit" / "1" / "report.html").read_text(encoding="utf-8")
    assert "LOW CONFIDENCE" in report
    assert "<code>defaulted</code> = &#x27;yes&#x27; (the probability is of this class)" in report
    assert manifest.extra["family"] in ("scorecard", "lightgbm")
    assert "model family" in report and "cv_auc" in report
    assert store.alias("credit", "champion") == "1"

    scored = tmp_path / "scored.csv"
    out = _run("predict", "--model", "credit", "--data", str(CSV), "--out", str(scored), "--explain")
    assert "[explain 1/1] 800 of 800 rows (" in out  # progress of the slow part, with its time
    frame = pd.read_csv(scored)
    assert len(frame) == len(pd.read_csv(CSV))
    assert frame["applicant_id"].iloc[0] == "A00000"
    assert "probability" not in frame.columns  # the column names the class: defaulted = "yes"
    assert frame["p_yes"].between(0, 1).all()
    shap_cols = [c for c in frame.columns if c.startswith("shap_") and c != "shap_base_value"]
    logit = np.log(frame["p_yes"] / (1 - frame["p_yes"]))
    np.testing.assert_allclose(frame[shap_cols].sum(axis=1) + frame["shap_base_value"], logit, atol=1e-6)


def test_predict_without_target_column(env: Path, tmp_path: Path) -> None:
    _train_credit()
    no_target = tmp_path / "apply.csv"
    pd.read_csv(CSV).drop(columns=["defaulted"]).head(25).to_csv(no_target, index=False)
    scored = tmp_path / "scored.csv"
    _run("predict", "--model", "credit:1", "--data", str(no_target), "--out", str(scored))
    assert len(pd.read_csv(scored)) == 25


def test_generic_refuses_bad_target(env: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "--task", "binary", "--data", str(CSV), "--target", "age", "--name", "bad"]
    )
    assert result.exit_code == 2
    assert "needs 2" in result.output
    assert "Traceback" not in result.output
    assert not (env / "models" / "bad").exists()


def test_regression_task(env: Path) -> None:
    out = _run(
        "train",
        "--task",
        "regression",
        "--data",
        str(CSV),
        "--target",
        "debt_ratio",
        "--name",
        "debt",
        "--spec",
        str(SPEC),
    )
    assert "debt:1 registered" in out


def test_second_version_is_challenger_and_promotion_gated(env: Path) -> None:
    _train_credit()
    _train_credit()
    store = ModelStore(env / "models")
    assert store.alias("credit", "challenger") == "2"
    out = _run("models", "promote", "credit:2", "--data", str(CSV), "--reason", "same data, same model")
    assert "PASSED" in out
    assert store.alias("credit", "champion") == "2"
    history = _run("models", "history", "credit")
    assert "1 -> 2" in history
    rollback = _run("models", "rollback", "credit", "--reason", "testing rollback")
    assert "2 -> 1" in rollback
    listing = _run("models", "list")
    assert "credit:1" in listing and "champion" in listing


def test_promote_without_data_uses_the_training_file(env: Path) -> None:
    _train_credit()
    _train_credit()
    out = _run("models", "promote", "credit:2", "--reason", "same data")
    assert "gates on the training file" in out
    assert "PASSED" in out
    assert ModelStore(env / "models").alias("credit", "champion") == "2"


def test_promote_without_data_when_the_file_is_gone_needs_force_and_reason(env: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(CSV.read_bytes())
    for _ in range(2):
        _run(
            "train",
            "--task",
            "binary",
            "--data",
            str(copy),
            "--target",
            "defaulted",
            "--name",
            "credit",
            "--spec",
            str(SPEC),
        )
    copy.unlink()
    result = CliRunner().invoke(app, ["models", "promote", "credit:2"])
    assert result.exit_code == 1
    assert "is gone" in result.output
    assert "gates need test data" in result.output
    result = CliRunner().invoke(app, ["models", "promote", "credit:2", "--force"])
    assert result.exit_code == 1
    assert "must give a reason" in result.output
    _run("models", "promote", "credit:2", "--force", "--reason", "urgent fix, validated offline")
    events = ModelStore(env / "models").history("credit")
    assert events[-1].forced is True
    assert events[-1].reason == "urgent fix, validated offline"


def test_positive_label_is_printed_stored_and_names_the_column(env: Path, tmp_path: Path) -> None:
    out = _run(
        "train", "--task", "binary", "--data", str(CSV), "--target", "defaulted", "--name", "credit",
        "--positive-label", "no",
    )  # fmt: skip
    assert "positive class: defaulted = 'no'" in out
    manifest = ModelStore(env / "models").verify("credit", "1")
    assert manifest.extra["positive_label"] == "no"
    assert manifest.extra["target"] == "defaulted"
    scored = tmp_path / "scored.csv"
    _run("predict", "--model", "credit", "--data", str(CSV), "--out", str(scored))
    assert "p_no" in pd.read_csv(scored).columns


def test_labels_without_an_obvious_event_need_the_positive_label(env: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(CSV)
    frame["defaulted"] = frame["defaulted"].map({"yes": "bad", "no": "good"})
    path = tmp_path / "goodbad.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(
        app, ["train", "--task", "binary", "--data", str(path), "--target", "defaulted", "--name", "gb"]
    )
    assert result.exit_code == 2
    assert "say which one is the event the model predicts, e.g. --positive-label 'bad'" in result.output
    assert not (env / "models" / "gb").exists()


def test_promotion_refused_on_a_flipped_label_unless_forced(env: Path) -> None:
    _train_credit()  # positive label "yes" from the spec
    flipped = _run(
        "train", "--task", "binary", "--data", str(CSV), "--target", "defaulted", "--name", "credit",
        "--spec", str(SPEC), "--positive-label", "no",
    )  # fmt: skip
    assert "credit:2 registered" in flipped
    result = CliRunner().invoke(app, ["models", "promote", "credit:2", "--data", str(CSV), "--reason", "retrain"])
    assert result.exit_code == 1
    assert "promotion refused" in result.output
    assert "positive_label 'no' differs from the champion's 'yes'" in result.output
    store = ModelStore(env / "models")
    assert store.alias("credit", "champion") == "1"
    _run("models", "promote", "credit:2", "--force", "--reason", "the book now scores repayment, agreed with risk")
    assert store.alias("credit", "champion") == "2"
    assert store.history("credit")[-1].forced is True
