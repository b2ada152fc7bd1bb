"""The bundled models meet their floors on the out-of-time test set.

The floors hold for models trained on the portfolio a real bootstrap trains on
(``Settings.bootstrap_loans``, 40,000 loans): on the suite's small shared
portfolio the claim-review model sees too few claims (its AUC was 0.50 at
4,000 loans and 0.30-0.53 at 8,000-16,000) and the PD gap to the oracle
exceeds 0.03, so the floor tests train their own store at full size once for
this module, and are marked slow. The other tests here check the shared store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import training.pipeline
from models_store import ModelStore
from service.settings import Settings
from tests.factories import Trained, train_store
from training.contract import load_dataset
from training.prepare import prepare_claims, prepare_lgd, prepare_pd, prepare_valuation
from training.registry import load_version
from training.synth.generator import generate_portfolio, write_portfolio

FULL_SIZE_LOANS = Settings.model_fields["bootstrap_loans"].default
FULL_SIZE_SEED = 11


@pytest.fixture(scope="module")
def full_size(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """The three models trained on a portfolio of a real bootstrap's size."""
    data = tmp_path_factory.mktemp("portfolio-full")
    write_portfolio(generate_portfolio(n_loans=FULL_SIZE_LOANS, seed=FULL_SIZE_SEED), data)
    with pytest.MonkeyPatch.context() as patch:
        # The floors read the runs' metrics only; drawing the reports' plots (SHAP over the whole
        # test set, matplotlib) was a quarter of this training. test_reports_written checks the plots.
        patch.setattr(training.pipeline, "build_plots", lambda *_, **__: {})
        return train_store(data, tmp_path_factory.mktemp("store-full"))


def _metrics(trained: Trained, name: str) -> dict[str, Any]:
    return next(r for r in trained.results if r.name == name).metrics


@pytest.mark.slow
def test_pd_auc_within_003_of_oracle(full_size: Trained) -> None:
    m = _metrics(full_size, "pd")
    assert m["oracle"]["auc"] - m["model"]["auc"] <= 0.03
    assert m["model"]["auc"] > 0.65
    # Calibrated: mean PD near the realised default rate of the test vintage.
    assert abs(m["model"]["mean_score"] - m["model"]["event_rate"]) < 0.02


def test_pd_calibration_by_grade_is_reported(trained: Trained) -> None:
    rows = _metrics(trained, "pd")["calibration_by_grade"]
    assert [r["grade"] for r in rows][:2] == ["A1", "A2"]
    assert sum(r["n"] for r in rows) == _metrics(trained, "pd")["n_test"]


@pytest.mark.slow
def test_lifetime_pd_and_lgd_near_the_oracle(full_size: Trained) -> None:
    life = _metrics(full_size, "pd")["lifetime"]
    assert 0.5 < life["term_structure"]["shape"] < 1.5  # the generator's hazard shape is 0.9
    assert life["oracle"]["auc"] - life["model"]["auc"] <= 0.04
    assert abs(life["mean_pd_tenor"] - life["mean_true_pd_tenor"]) < 0.02
    m = _metrics(full_size, "lgd")
    assert m["model_vs_truth"]["mae"] < 0.15  # main's haircut: about 0.3
    assert m["model"]["mae"] - m["oracle"]["mae"] <= 0.05


@pytest.mark.slow
def test_valuation_interval_coverage(full_size: Trained) -> None:
    m = _metrics(full_size, "valuation")
    assert 0.75 <= m["coverage_p10_p90_vs_true"] <= 0.85
    assert m["mdape_vs_true"] < 0.6


@pytest.mark.slow
def test_claim_review_beats_chance_and_reports_capacity(full_size: Trained) -> None:
    m = _metrics(full_size, "claim_review")
    # 0.65 until generator version 2 (0.68 measured); since then 0.60 on 127 test claims (standard error
    # about 0.05): the appraisal cause shows through the valuation model, whose error grew when a patent's
    # value became bounded by its owner's revenue shared with the owner's other patents (MdAPE 0.29 -> 0.40).
    assert m["model_vs_truth"]["auc"] > 0.58
    assert m["oracle"]["auc"] >= m["model_vs_truth"]["auc"] - 0.02  # the model never beats the oracle by much
    assert 0 < m["model"]["precision_at_capacity"] <= 1


def test_reports_written(trained: Trained) -> None:
    for r in trained.results:
        html = r.report.read_text(encoding="utf-8")
        assert "SYNTHETIC DATA" in html
        assert "data:image/png;base64" in html
        assert (r.report.parent / "metrics.json").exists()


@pytest.mark.parametrize("name", ["valuation", "pd", "lgd", "claim_review"])
def test_shap_plus_base_equals_raw(trained: Trained, portfolio_dir: Path, name: str) -> None:
    store = ModelStore(trained.models)
    model = load_version(store, f"{name}@champion")
    data = load_dataset(portfolio_dir)
    valuation = load_version(store, "valuation@champion")
    prep = {
        "valuation": lambda: prepare_valuation(data),
        "pd": lambda: prepare_pd(data, valuation),
        "lgd": lambda: prepare_lgd(data, valuation),
        "claim_review": lambda: prepare_claims(data, valuation),
    }[name]()
    role = "p50" if name == "valuation" else "main"
    x = prep.x[:500]
    contrib = model.contributions(x, role)
    np.testing.assert_allclose(contrib.sum(axis=1), model.raw(x, role), atol=1e-6)


def test_every_model_has_a_champion_and_manifest(trained: Trained) -> None:
    store = ModelStore(trained.models)
    for name in ("valuation", "pd", "lgd", "claim_review"):
        _, version = store.resolve(name)
        manifest = store.verify(name, version)
        assert manifest.synthetic is True
        assert manifest.data_fingerprint
        assert "lightgbm" in manifest.library_versions
        assert [f.name for f in manifest.features]


def test_lgd_gate_runs_on_the_holdout(trained: Trained, portfolio_dir: Path) -> None:
    from training.promotion import evaluate_promotion

    result = evaluate_promotion(ModelStore(trained.models), "lgd", "1", portfolio_dir)
    (check,) = result.checks
    assert check.metric == "mae" and check.candidate is not None and 0 < check.candidate < 0.45
    assert result.passed


def test_predict_writes_lifetime_pd_and_lgd_columns(trained: Trained, portfolio_dir: Path) -> None:
    from training.predict import predict

    store = ModelStore(trained.models)
    pd_frame = predict(store, "pd@champion", portfolio_dir)
    assert {"loan_id", "pd_12m", "pd_tenor"} <= set(pd_frame.columns)
    assert (pd_frame["pd_tenor"] >= pd_frame["pd_12m"] - 1e-12).all()
    loans = load_dataset(portfolio_dir)["loans"].set_index("loan_id")
    twelve = pd_frame["loan_id"].map(loans["tenor_months"]) == 12
    np.testing.assert_allclose(pd_frame.loc[twelve, "pd_tenor"], pd_frame.loc[twelve, "pd_12m"], rtol=1e-12)
    lgd_frame = predict(store, "lgd@champion", portfolio_dir)
    assert len(lgd_frame) == len(loans)
    assert lgd_frame["lgd"].between(0, 1).all() and lgd_frame["lgd"].std() > 0
