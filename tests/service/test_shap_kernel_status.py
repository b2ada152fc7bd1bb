"""A booster the SHAP kernel cannot prove exact is reported, with its reason, in readiness and in the gauge."""

from __future__ import annotations

from datetime import UTC, datetime

import lightgbm as lgb
import numpy as np

from scoring.features import FeatureSpec
from scoring.models import LoadedModel
from service.bundle import ModelBundle
from service.metrics import Metrics


def _model(**params: object) -> LoadedModel:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] > 0).astype(float) + (x[:, 1] > 1)
    booster = lgb.train(
        {"objective": "regression", "verbosity": -1, "num_leaves": 4, **params}, lgb.Dataset(x, y), num_boost_round=3
    )
    features = (FeatureSpec("a"), FeatureSpec("b"))
    return LoadedModel(name="m", version="1", task="regression", features=features, boosters={"main": booster})


def test_a_fallback_is_visible_with_its_reason() -> None:
    bundle = ModelBundle(
        {"exact": _model(), "multi": _model(objective="multiclass", num_class=3)}, "token", datetime.now(UTC)
    )
    status = bundle.shap_kernel()
    assert status["exact"]["main"]["kernel"] is True
    assert status["multi"]["main"]["kernel"] is False and "multiclass" in status["multi"]["main"]["reason"]
    metrics = Metrics()
    metrics.set_shap_kernel(status)
    assert metrics.registry.get_sample_value("iprisk_shap_kernel", {"model": "exact", "role": "main"}) == 1.0
    assert metrics.registry.get_sample_value("iprisk_shap_kernel", {"model": "multi", "role": "main"}) == 0.0
    # the single-row (edge) kernel: its own gate, reason and gauge; none where the table kernel fell back
    assert status["exact"]["main"]["row_kernel"] is True and status["exact"]["main"]["row_reason"].startswith("exact")
    assert status["multi"]["main"]["row_kernel"] is False
    assert metrics.registry.get_sample_value("iprisk_shap_row_kernel", {"model": "exact", "role": "main"}) == 1.0
    assert metrics.registry.get_sample_value("iprisk_shap_row_kernel", {"model": "multi", "role": "main"}) == 0.0
