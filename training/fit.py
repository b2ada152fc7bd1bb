"""Fit LightGBM models: valuation quantiles, calibrated PD, claim review, generic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from scipy.optimize import minimize, minimize_scalar

from scoring.features import FeatureSpec
from scoring.models import LoadedModel
from scoring.vocab.arrays import BoolArray, FloatArray
from training.prepare import Prepared

# Depth and leaves are capped: TreeSHAP cost grows with depth, and these
# portfolios are small (DESIGN.md, serving habits).
BASE_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "max_depth": 7,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbosity": -1,
    "num_threads": 2,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
}
MAX_ROUNDS = 1500
EARLY_STOPPING = 50
QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}


@dataclass
class Fitted:
    """Boosters by role plus what the manifest must record."""

    boosters: dict[str, lgb.Booster]
    params: dict[str, Any]
    features: tuple[FeatureSpec, ...]
    task: str
    calibration: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def files(self) -> dict[str, bytes]:
        """Model text files for the store (never pickle)."""
        return {
            ("model.txt" if role == "main" else f"model_{role}.txt"): b.model_to_string().encode()
            for role, b in self.boosters.items()
        }

    def as_loaded(self, name: str = "candidate", version: str = "0") -> LoadedModel:
        """This fit as a servable model (for evaluation before registration)."""
        return LoadedModel(
            name=name,
            version=version,
            task=self.task,
            features=self.features,
            boosters=self.boosters,
            calibration=self.calibration,
            manifest={"extra": self.extra},
            offsets=self.extra.get("offsets") or {},
        )


def _dataset(
    prep: Prepared, rows: BoolArray, specs: Sequence[FeatureSpec], reference: lgb.Dataset | None = None
) -> lgb.Dataset:
    cats = [i for i, s in enumerate(specs) if s.kind == "categorical"]
    return lgb.Dataset(
        prep.x[rows],
        prep.y[rows],
        feature_name=[s.name for s in specs],
        categorical_feature=cats,
        reference=reference,
        free_raw_data=False,
    )


def _train(
    params: dict[str, Any], prep: Prepared, specs: Sequence[FeatureSpec], callbacks: list[Any] | None = None
) -> lgb.Booster:
    train = _dataset(prep, prep.train, specs)
    valid = _dataset(prep, prep.valid, specs, reference=train)
    cbs = [lgb.early_stopping(EARLY_STOPPING, verbose=False), *(callbacks or [])]
    return lgb.train(
        params, train, num_boost_round=MAX_ROUNDS, valid_sets=[valid], valid_names=["valid"], callbacks=cbs
    )


def fit_valuation(prep: Prepared, specs: Sequence[FeatureSpec]) -> Fitted:
    """Three quantile models (P10/P50/P90) of log fair value (log CNY)."""
    boosters = {}
    for role, alpha in QUANTILES.items():
        params = {**BASE_PARAMS, "objective": "quantile", "alpha": alpha, "metric": "quantile"}
        boosters[role] = _train(params, prep, specs)
    params = {**BASE_PARAMS, "objective": "quantile", "alphas": list(QUANTILES.values())}
    offsets = conformal_offsets(boosters, prep, coverage=QUANTILES["p90"] - QUANTILES["p10"])
    return Fitted(
        boosters,
        params,
        tuple(specs),
        "quantile_regression",
        extra={
            "space": "log CNY",
            "offsets": offsets,
            "interval_calibration": "conformalised on the validation fold",
            "best_iterations": {r: b.best_iteration for r, b in boosters.items()},
        },
    )


def conformal_offsets(boosters: dict[str, lgb.Booster], prep: Prepared, *, coverage: float) -> dict[str, float]:
    """Widen (or narrow) P10/P90 so the validation fold's coverage is ``coverage``.

    Conformalised quantile regression: quantile boosters are over-confident
    on data they were early-stopped on; one shift per side, fitted on the
    validation fold, restores the nominal coverage.
    """
    x, y = prep.x[prep.valid], prep.y[prep.valid]
    lo = boosters["p10"].predict(x, raw_score=True)
    hi = boosters["p90"].predict(x, raw_score=True)
    score = np.maximum(lo - y, y - hi)
    n = len(score)
    level = min(1.0, np.ceil((n + 1) * coverage) / n)
    q = float(np.quantile(score, level))
    return {"p10": -q, "p90": q}


def fit_platt(raw: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Platt scaling: calibrated logit = a * raw + b, fitted by log-loss."""

    def loss(theta: FloatArray) -> float:
        z = theta[0] * raw + theta[1]
        return float(np.mean(np.logaddexp(0, z) - y * z))

    res = minimize(loss, x0=np.array([1.0, 0.0]), method="L-BFGS-B")
    return float(res.x[0]), float(res.x[1])


def fit_binary(
    prep: Prepared, specs: Sequence[FeatureSpec], *, calibrate: bool = True, monotone: bool = True
) -> Fitted:
    """Binary LightGBM with monotone constraints, Platt-calibrated on the validation fold.

    Platt scaling keeps explanations additive: the calibrated log-odds are a
    linear map of the raw score, so scaled SHAP values still sum to it.
    """
    params = {**BASE_PARAMS, "objective": "binary", "metric": "binary_logloss"}
    if monotone and any(s.monotone for s in specs):
        params["monotone_constraints"] = [s.monotone for s in specs]
        params["monotone_constraints_method"] = "advanced"
    booster = _train(params, prep, specs)
    calibration = None
    if calibrate:
        raw = booster.predict(prep.x[prep.valid], raw_score=True)
        calibration = fit_platt(np.asarray(raw, dtype=float), prep.y[prep.valid])
    extra: dict[str, Any] = {"space": "log-odds", "best_iteration": booster.best_iteration}
    if calibration:
        extra["calibration"] = {
            "method": "platt",
            "a": calibration[0],
            "b": calibration[1],
            "fitted_on": "validation fold",
        }
    return Fitted({"main": booster}, params, tuple(specs), "binary", calibration, extra)


# LGD learns from few, noisy (bimodal: a sale recovers most, a failed auction nothing) outcomes:
# shallow trees, and the number of rounds chosen by 5-fold cross-validation on every non-test row
# rather than early stopping on a validation fold of a hundred disposals (it stopped after 5 rounds).
LGD_PARAMS: dict[str, Any] = {"learning_rate": 0.03, "num_leaves": 4, "max_depth": 2, "min_data_in_leaf": 20}
LGD_CV_FOLDS = 5


def fit_lgd(prep: Prepared, specs: Sequence[FeatureSpec]) -> Fitted:
    """LGD in [0, 1]: LightGBM cross-entropy on realised LGDs, monotone where the direction is known.

    Cross-entropy on a fraction is a proper loss for its mean, so the
    prediction estimates the expected LGD and needs no separate calibration;
    the raw score is the log-odds of the LGD, and its SHAP values add up to it.
    The rounds are chosen by cross-validation on the training and validation
    rows together, then one booster is fitted on all of them (the test fold
    stays out).
    """
    params = {**BASE_PARAMS, **LGD_PARAMS, "objective": "cross_entropy", "metric": "cross_entropy"}
    if any(s.monotone for s in specs):
        params["monotone_constraints"] = [s.monotone for s in specs]
        params["monotone_constraints_method"] = "advanced"
    rows = ~prep.test
    data = lgb.Dataset(
        prep.x[rows],
        prep.y[rows],
        feature_name=[s.name for s in specs],
        categorical_feature=[i for i, s in enumerate(specs) if s.kind == "categorical"],
        free_raw_data=False,
    )
    cv = lgb.cv(
        params,
        data,
        num_boost_round=MAX_ROUNDS,
        nfold=LGD_CV_FOLDS,
        stratified=False,
        seed=int(params["seed"]),
        callbacks=[lgb.early_stopping(2 * EARLY_STOPPING, verbose=False)],
    )
    means = cv[f"valid {params['metric']}-mean"]  # one entry per round, up to the best
    if not isinstance(means, list):  # a CVBooster only with return_cvbooster=True
        raise TypeError("lightgbm.cv returned no metric history")
    rounds = len(means)
    boosters = {"main": lgb.train(params, data, num_boost_round=rounds)}
    extra: dict[str, Any] = {
        "space": "log-odds of LGD",
        "rounds": rounds,
        "rounds_chosen_by": f"{LGD_CV_FOLDS}-fold cross-validation on the training and validation rows",
    }
    months = prep.extra.get("months_to_cash")
    if months is not None and np.isfinite(months[rows]).sum() >= 50:
        boosters["months"] = _fit_months(params, prep.x[rows], months[rows], specs)
        extra["months_space"] = "log months from default to cash"
    return Fitted(boosters, params, tuple(specs), "fraction", None, extra)


def _fit_months(params: dict[str, Any], x: FloatArray, months: FloatArray, specs: Sequence[FeatureSpec]) -> lgb.Booster:
    """Time to recovery: L2 on log months from default to cash, rounds by the same cross-validation."""
    ok = np.isfinite(months) & (months > 0)
    p = {k: v for k, v in params.items() if not k.startswith("monotone")}
    p.update(objective="regression", metric="l2")
    data = lgb.Dataset(
        x[ok],
        np.log(months[ok]),
        feature_name=[s.name for s in specs],
        categorical_feature=[i for i, s in enumerate(specs) if s.kind == "categorical"],
        free_raw_data=False,
    )
    cv = lgb.cv(
        p,
        data,
        num_boost_round=MAX_ROUNDS,
        nfold=LGD_CV_FOLDS,
        stratified=False,
        seed=int(p["seed"]),
        callbacks=[lgb.early_stopping(2 * EARLY_STOPPING, verbose=False)],
    )
    means = cv["valid l2-mean"]
    if not isinstance(means, list):
        raise TypeError("lightgbm.cv returned no metric history")
    return lgb.train(p, data, num_boost_round=len(means))


def fit_regression(prep: Prepared, specs: Sequence[FeatureSpec]) -> Fitted:
    """Plain L2 regression (generic tabular task)."""
    params = {**BASE_PARAMS, "objective": "regression", "metric": "l2"}
    booster = _train(params, prep, specs)
    return Fitted(
        {"main": booster},
        params,
        tuple(specs),
        "regression",
        extra={"space": "target units", "best_iteration": booster.best_iteration},
    )


def fit_term_structure(
    pd_12m: FloatArray, *, default_months: FloatArray, observed_months: FloatArray
) -> dict[str, Any]:
    """Weibull shape of the cumulative hazard, by maximum likelihood with censoring.

    Each loan's hazard is scaled by its own calibrated 12-month PD,
    H(t) = −ln(1 − PD₁₂) (t/12)^k (:mod:`scoring.lifetime`).  A loan that
    defaulted at month τ contributes ln h(τ) − H(τ); one still performing when
    observation ended (at its tenor's end or the data date, whichever came
    first) contributes −H(c): the censored likelihood, so young loans count
    for the months they have lived and no more.

    Parameters
    ----------
    pd_12m
        The PD model's calibrated 12-month PD of each loan.
    default_months
        Months from origination to default; NaN when no default was seen.
    observed_months
        Months each loan was observed (tenor end or data date).

    Returns
    -------
    dict
        ``method``, ``shape``, ``fitted_on``, ``n_loans``, ``n_events`` (stored in the manifest).
    """
    lam = -np.log1p(-np.clip(pd_12m, 1e-9, 1 - 1e-9))
    event = ~np.isnan(default_months)
    t = np.maximum(np.where(event, default_months, observed_months), 1e-3) / 12.0

    def nll(k: float) -> float:
        log_h = np.log(lam[event]) + np.log(k) + (k - 1) * np.log(t[event])  # per 12 months; constants drop
        return float(np.sum(lam * t**k) - np.sum(log_h))

    res = minimize_scalar(nll, bounds=(0.2, 3.0), method="bounded")
    return {
        "method": "weibull_proportional_hazard",
        "shape": float(res.x),
        "fitted_on": "training and validation loans; defaults by month, censored at tenor end or observed_until",
        "n_loans": len(lam),
        "n_events": int(event.sum()),
    }
