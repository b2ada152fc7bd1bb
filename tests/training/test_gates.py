"""Promotion gates compare candidate and champion on the same test data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models_store import ModelStore
from scoring import features as F
from tests.factories import Trained, register_copy
from training.contract import load_dataset
from training.fit import Fitted, fit_binary
from training.gates import Gate, check_gates
from training.prepare import prepare_pd
from training.promotion import PromotionRefused, evaluate_promotion, promote
from training.registry import load_version, register_fit


@pytest.fixture(scope="module")
def shuffled_pd(trained: Trained, portfolio_dir: Path) -> Fitted:
    """A PD candidate fitted on shuffled default labels: worse than the champion on any test data.

    Fitted once for the module; each test registers it into its own store copy.
    """
    store = ModelStore(trained.models)
    valuation = load_version(store, "valuation@champion")
    prep = prepare_pd(load_dataset(portfolio_dir), valuation)
    prep.y = np.random.default_rng(0).permutation(prep.y)
    fitted = fit_binary(prep, F.PD_FEATURES)
    fitted.extra["valuation_version"] = valuation.version
    return fitted


def _register(store: ModelStore, fitted: Fitted) -> str:
    return register_fit(store, "pd", fitted, metrics={}, fingerprint="test", actor="tests", synthetic=True)


def test_worse_candidate_is_refused(store_copy: ModelStore, portfolio_dir: Path, shuffled_pd: Fitted) -> None:
    champion = store_copy.alias("pd", "champion")
    version = _register(store_copy, shuffled_pd)
    with pytest.raises(PromotionRefused) as info:
        promote(store_copy, "pd", version, actor="tests", reason="try", data_dir=portfolio_dir)
    failed = [c.metric for c in info.value.result.checks if not c.passed]
    assert "auc" in failed
    assert store_copy.alias("pd", "champion") == champion


def test_equal_candidate_passes_and_is_recorded(store_copy: ModelStore, portfolio_dir: Path) -> None:
    # Training is deterministic (fixed seed, deterministic LightGBM), so a retrain on the champion's
    # data is the champion's files again: register those instead of fitting them a second time.
    version = register_copy(store_copy, "pd")
    assert version != store_copy.alias("pd", "champion")
    result = evaluate_promotion(store_copy, "pd", version, portfolio_dir)
    assert result.passed, str(result)
    promote(store_copy, "pd", version, actor="alice", reason="retrained", data_dir=portfolio_dir)
    last = store_copy.history("pd")[-1]
    assert (last.to_version, last.actor, last.forced) == (version, "alice", False)


def test_forced_promotion_of_a_failing_candidate_is_marked(
    store_copy: ModelStore, portfolio_dir: Path, shuffled_pd: Fitted
) -> None:
    version = _register(store_copy, shuffled_pd)
    with pytest.raises(ValueError, match="reason"):
        promote(store_copy, "pd", version, actor="bob", reason=" ", data_dir=portfolio_dir, force=True)
    promote(
        store_copy, "pd", version, actor="bob", reason="regulator-approved override", data_dir=portfolio_dir, force=True
    )
    last = store_copy.history("pd")[-1]
    assert last.forced is True and last.to_version == version


def test_gate_arithmetic() -> None:
    gates = [
        Gate(metric="auc", higher_is_better=True, max_drop=0.01, floor=0.6),
        Gate(metric="brier", higher_is_better=False, max_drop=0.001),
    ]
    ok = check_gates("pd", gates, {"auc": 0.795, "brier": 0.0305}, {"auc": 0.80, "brier": 0.030})
    assert ok.passed
    bad = check_gates("pd", gates, {"auc": 0.78, "brier": 0.0305}, {"auc": 0.80, "brier": 0.030})
    assert [c.passed for c in bad.checks] == [False, True]
    floor = check_gates("pd", gates, {"auc": 0.55, "brier": 0.01}, None)
    assert not floor.passed and "floor" in floor.checks[0].reason


def test_the_summary_line_says_n_a_where_a_split_has_no_positive_case() -> None:
    """A small portfolio's test split may hold no paid claim: its AUC is None, and the summary says so."""
    from training.pipeline import summary_line

    metrics = {
        "model": {"auc": None, "ks": None, "brier": 0.01},
        "model_vs_truth": {"auc": None},
        "oracle": {"auc": 0.9},
    }
    assert summary_line("claim_review", metrics) == "AUC n/a, KS n/a, Brier 0.0100 (oracle AUC 0.900, gap n/a)"
    full = {"model": {"auc": 0.7, "ks": 0.3, "brier": 0.1}, "oracle": {"auc": 0.9}}
    assert summary_line("pd", full) == "AUC 0.700, KS 0.300, Brier 0.1000 (oracle AUC 0.900, gap 0.200)"
