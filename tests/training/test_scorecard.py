"""The scorecard family and the cross-validated choice between it and LightGBM."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.features import FeatureSpec
from scoring.models import LoadedModel
from scoring.treeshap import explainer_for
from training.families import PARSIMONY_MARGIN, choose, select_and_fit
from training.progress import LineSteps
from training.report import summary_html
from training.scorecard import POINTS_PER_LOG_ODDS, bin_numeric, fit_scorecard, woe_matrix

SPECS = (FeatureSpec("debt ratio", "numeric"), FeatureSpec("sector", "categorical", ("a", "b", "c", "rare")))


def _data(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ratio = rng.uniform(0, 1, n)
    sector = rng.choice(4, size=n, p=[0.45, 0.3, 0.23, 0.02]).astype(float)
    ratio[:60] = np.nan
    sector[60:90] = np.nan
    logit = -1.5 + 2.5 * np.nan_to_num(ratio, nan=0.5) + 0.8 * (sector == 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return np.column_stack([ratio, sector]), y


def test_numeric_bins_are_monotone_and_big_enough() -> None:
    x, y = _data()
    b = bin_numeric("debt ratio", x[:, 0], y)
    rates = [e / n for e, n in zip(b.events[:-1], b.counts[:-1], strict=True)]
    assert rates == sorted(rates)  # event rate rises with the debt ratio
    assert min(b.counts[:-1]) >= 0.05 * np.sum(~np.isnan(x[:, 0]))
    assert b.labels[-1] == "missing" and b.counts[-1] == 60


def test_scorecard_booster_is_the_woe_regression_and_its_explanations_are_its_terms() -> None:
    x, y = _data()
    card = fit_scorecard(x, y, SPECS)
    raw = card.booster.predict(x, raw_score=True)
    direct = woe_matrix(card.binnings, x) @ np.asarray(card.coefficients) + card.intercept
    np.testing.assert_allclose(raw, direct, atol=1e-12)
    # exact additive explanations: each feature's contribution is its term minus the term's training mean
    contrib = np.asarray(card.booster.predict(x, pred_contrib=True), dtype=np.float64)
    terms = woe_matrix(card.binnings, x) * np.asarray(card.coefficients)
    np.testing.assert_allclose(contrib[:, :2], terms - terms.mean(axis=0), atol=1e-9)
    assert explainer_for(card.booster).gate.supported


def test_scorecard_table_has_points_and_pools_rare_categories() -> None:
    x, y = _data()
    card = fit_scorecard(x, y, SPECS)
    sector = [r for r in card.table() if r["feature"] == "sector"]
    assert [r["bin"] for r in sector] == ["a", "b", "c", "other (rare or unseen)", "missing"]
    high = next(r for r in sector if r["bin"] == "c")
    assert high["points"] == pytest.approx(-POINTS_PER_LOG_ODDS * high["log_odds"], abs=0.05)
    assert high["points"] < 0  # the riskier sector costs points
    html = summary_html({"target": "bad", "positive_label": "1", "family": "scorecard", "scorecard": card.summary()})
    assert "scorecard" in html and "other (rare or unseen)" in html


def test_choice_prefers_the_scorecard_within_the_margin() -> None:
    rows = [
        {"candidate": "lightgbm a", "family": "lightgbm", "cv_auc": 0.800},
        {"candidate": "scorecard C=1", "family": "scorecard", "cv_auc": 0.800 - PARSIMONY_MARGIN / 2},
    ]
    chosen, reason = choose(rows)
    assert chosen["family"] == "scorecard"
    assert "parsimony margin" in reason
    rows[1]["cv_auc"] = 0.790
    assert choose(rows)[0]["family"] == "lightgbm"


def test_select_and_fit_reports_every_candidate_and_fold() -> None:
    x, y = _data(n=1500)
    lines: list[str] = []
    fitted = select_and_fit(x, y, SPECS, progress=lines.append)
    cv = fitted.extra["cv"]
    assert {r["family"] for r in cv} == {"lightgbm", "scorecard"}
    assert all(0.5 < r["cv_auc"] < 1 for r in cv)
    assert fitted.extra["family"] in fitted.extra["family_reason"].lower()
    fold_lines = [line for line in lines if line.startswith("[cross-validation ")]
    assert len(fold_lines) == 5 * len(cv)
    assert "left)" in fold_lines[0]  # an estimate of the time left
    model = LoadedModel("m", "1", "binary", fitted.features, fitted.boosters)
    assert model.raw(x[:5]).shape == (5,)


def test_line_progress_estimates_the_time_left() -> None:
    lines: list[str] = []
    bar = LineSteps("predict", 4, lines.append)
    for _ in range(4):
        bar.advance("chunk")
    assert lines[0].startswith("[predict 1/4] chunk (")
    assert "about" in lines[0]
    assert "left" not in lines[-1]  # done: no estimate


def test_the_spec_direction_wins_over_the_data() -> None:
    x, y = _data()
    falling = bin_numeric("debt ratio", x[:, 0], y, monotone=-1)  # against the data: rates forced to fall
    rates = [e / n for e, n in zip(falling.events[:-1], falling.counts[:-1], strict=True)]
    assert rates == sorted(rates, reverse=True)
    assert len(rates) < len(bin_numeric("debt ratio", x[:, 0], y).counts) - 1  # pooled to obey it
