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
    assert store.alias("credit", "champion") == "1"

    scored = tmp_path / "scored.csv"
    _run("predict", "--model", "credit", "--data", str(CSV), "--out", str(scored), "--explain")
    frame = pd.read_csv(scored)
    assert len(frame) == len(pd.read_csv(CSV))
    assert frame["applicant_id"].iloc[0] == "A00000"
    assert frame["probability"].between(0, 1).all()
    shap_cols = [c for c in frame.columns if c.startswith("shap_") and c != "shap_base_value"]
    logit = np.log(frame["probability"] / (1 - frame["probability"]))
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
    assert result.exit_code == 1
    assert "needs 2" in result.output
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


def test_promote_without_data_needs_force_and_reason(env: Path) -> None:
    _train_credit()
    _train_credit()
    result = CliRunner().invoke(app, ["models", "promote", "credit:2"])
    assert result.exit_code == 1
    assert "gates need test data" in result.output
    result = CliRunner().invoke(app, ["models", "promote", "credit:2", "--force"])
    assert result.exit_code == 1
    assert "must give a reason" in result.output
    _run("models", "promote", "credit:2", "--force", "--reason", "urgent fix, validated offline")
    events = ModelStore(env / "models").history("credit")
    assert events[-1].forced is True
    assert events[-1].reason == "urgent fix, validated offline"
