"""Out-of-time evaluation: model metrics beside the oracle's, PSI, calibration by grade."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score

from scoring.drift import bin_shares, psi, psi_band, reference_bins
from scoring.grades import GradeScale
from scoring.lifetime import TermStructure, pd_over
from scoring.models import LoadedModel, sigmoid
from scoring.vocab.arrays import FloatArray
from training.prepare import Prepared


def ks_statistic(y: FloatArray, score: FloatArray) -> float:
    """Kolmogorov-Smirnov distance between the score distributions of the two classes."""
    order = np.argsort(score)
    ys = np.asarray(y, dtype=float)[order]
    pos = np.cumsum(ys) / max(ys.sum(), 1)
    neg = np.cumsum(1 - ys) / max((1 - ys).sum(), 1)
    return float(np.max(np.abs(pos - neg)))


def _auc(y: FloatArray, s: FloatArray) -> float | None:
    return float(roc_auc_score(y, s)) if 0 < np.sum(y) < len(y) else None


def binary_metrics(y: FloatArray, p: FloatArray) -> dict[str, float | None]:
    """AUC, Gini, KS, Brier and mean PD of a probability against outcomes."""
    auc = _auc(y, p)
    return {
        "auc": auc,
        "gini": None if auc is None else 2 * auc - 1,
        "ks": ks_statistic(y, p),
        "brier": float(np.mean((p - y) ** 2)),
        "mean_score": float(np.mean(p)),
        "event_rate": float(np.mean(y)),
        "n": len(y),
    }


def calibration_by_grade(y: FloatArray, p: FloatArray, scale: GradeScale) -> list[dict[str, Any]]:
    """Realised default rate per grade against its expected rate (two-sided binomial test)."""
    idx = scale.indices(p)
    rows = []
    for i, g in enumerate(scale.grades):
        m = idx == i
        n = int(m.sum())
        k = int(np.sum(y[m]))
        p_value = float(binomtest(k, n, g.expected_default_rate).pvalue) if n else None
        rows.append(
            {
                "grade": g.grade,
                "n": n,
                "defaults": k,
                "expected_rate": g.expected_default_rate,
                "mean_pd": float(p[m].mean()) if n else None,
                "realised_rate": k / n if n else None,
                "binomial_p_value": p_value,
            }
        )
    return rows


def precision_at_capacity(y: FloatArray, score: FloatArray, capacity: float) -> float:
    """Share of true positives among the top ``capacity`` share of scores."""
    k = max(1, round(capacity * len(score)))
    top = np.argsort(-score, kind="stable")[:k]
    return float(np.mean(y[top]))


def psi_report(
    train_x: FloatArray, test_x: FloatArray, names: list[str], train_score: FloatArray, test_score: FloatArray
) -> dict[str, Any]:
    """PSI per feature and for the score between the train and test samples."""
    out: dict[str, Any] = {"features": {}}
    for j, name in enumerate(names):
        ref = reference_bins(train_x[:, j])
        value = psi(ref["shares"], bin_shares(test_x[:, j], ref["edges"]))
        out["features"][name] = {"psi": value, "band": psi_band(value)}
    ref = reference_bins(train_score)
    value = psi(ref["shares"], bin_shares(test_score, ref["edges"]))
    out["score"] = {"psi": value, "band": psi_band(value)}
    return out


def reference_distributions(x: FloatArray, names: list[str], score: FloatArray) -> dict[str, Any]:
    """Training-sample bins kept in the manifest so the service can compute PSI on traffic."""
    return {"features": {n: reference_bins(x[:, j]) for j, n in enumerate(names)}, "score": reference_bins(score)}


def evaluate_valuation(model: LoadedModel, prep: Prepared) -> dict[str, Any]:
    """Test-set accuracy and interval coverage against true values (oracle: error 0)."""
    t = prep.test
    q = {r: np.exp(model.raw(prep.x[t], r)) for r in ("p10", "p50", "p90")}
    lo, hi = np.minimum(q["p10"], q["p90"]), np.maximum(q["p10"], q["p90"])
    obs = np.exp(prep.y[t])
    m: dict[str, Any] = {
        "n_test": int(t.sum()),
        "mdape_vs_observed": float(np.median(np.abs(q["p50"] - obs) / obs)),
        "coverage_vs_observed": float(np.mean((obs >= lo) & (obs <= hi))),
    }
    if prep.truth is not None:
        truth = prep.truth[t]
        m["mdape_vs_true"] = float(np.median(np.abs(q["p50"] - truth) / truth))
        m["coverage_p10_p90_vs_true"] = float(np.mean((truth >= lo) & (truth <= hi)))
        # The oracle knows each true value; the observed prices' own error
        # against truth is the floor any model trained on them faces.
        m["oracle"] = {
            "mdape_vs_true": 0.0,
            "observed_price_mdape_vs_true": float(np.median(np.abs(obs - truth) / truth)),
        }
    return m


def evaluate_binary(
    model: LoadedModel, prep: Prepared, *, scale: GradeScale | None = None, capacity: float | None = None
) -> dict[str, Any]:
    """Out-of-time metrics of a binary model, with the oracle's beside them."""
    t = prep.test
    p = sigmoid(model.raw(prep.x[t]))
    y = prep.y[t]
    m: dict[str, Any] = {"n_test": int(t.sum()), "model": binary_metrics(y, p)}
    if scale is not None:
        m["calibration_by_grade"] = calibration_by_grade(y, p, scale)
    if capacity is not None:
        m["model"]["precision_at_capacity"] = precision_at_capacity(y, p, capacity)
        m["capacity"] = capacity
    if prep.truth is not None:
        oracle_score = prep.extra.get("oracle_score", prep.truth)
        target = prep.truth if "oracle_score" in prep.extra else prep.y
        truth_t = np.asarray(target)[t]
        m["oracle"] = binary_metrics(truth_t, np.asarray(oracle_score)[t])
        m["model_vs_truth"] = binary_metrics(truth_t, p)
        if capacity is not None:
            m["oracle"]["precision_at_capacity"] = precision_at_capacity(truth_t, np.asarray(oracle_score)[t], capacity)
            m["model_vs_truth"]["precision_at_capacity"] = precision_at_capacity(truth_t, p, capacity)
    train_p = sigmoid(model.raw(prep.x[prep.train]))
    m["psi"] = psi_report(prep.x[prep.train], prep.x[t], model.feature_names, train_p, p)
    return m


def lifetime_pds(pd_12m: FloatArray, tenor_months: FloatArray, structure: TermStructure) -> FloatArray:
    """Cumulative PD over each loan's tenor from its 12-month PD (:func:`scoring.lifetime.pd_over`)."""
    return np.array([pd_over(float(p), float(t), structure) for p, t in zip(pd_12m, tenor_months, strict=True)])


def by_decile(score: FloatArray, columns: dict[str, FloatArray]) -> list[dict[str, Any]]:
    """Mean of each column within deciles of ``score`` (calibration tables)."""
    edges = np.quantile(score, np.linspace(0, 1, 11))
    idx = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, 9)
    rows = []
    for d in range(10):
        m = idx == d
        row: dict[str, Any] = {"decile": d + 1, "n": int(m.sum())}
        row.update(
            {k: (float(np.nanmean(v[m])) if m.any() and np.isfinite(v[m]).any() else None) for k, v in columns.items()}
        )
        rows.append(row)
    return rows


def evaluate_lifetime(model: LoadedModel, prep: Prepared, structure: TermStructure) -> dict[str, Any]:
    """Out-of-time lifetime PD: AUC on fully observed loans and calibration by decile, beside the oracle.

    A loan is fully observed when its tenor ended before observation did; its
    lifetime default is then known.  Against the truth (``true_pd_tenor``) every
    test loan counts.
    """
    t = prep.test
    pd_tenor = lifetime_pds(sigmoid(model.raw(prep.x[t])), prep.extra["tenor_months"][t], structure)
    full = prep.extra["observed_months"][t] >= prep.extra["tenor_months"][t] - 1e-9
    realised = (~np.isnan(prep.extra["default_months"][t])).astype(np.float64)
    m: dict[str, Any] = {
        "term_structure": structure.model_dump(),
        "n_test": int(t.sum()),
        "n_fully_observed": int(full.sum()),
        "mean_pd_tenor": float(pd_tenor.mean()) if t.any() else None,
        # A young book (a service export, say) may hold no test loan whose tenor has ended: the lifetime
        # default is then unknown for every one, and the figures are left unmeasured, with the reason.
        "model": binary_metrics(realised[full], pd_tenor[full]) if full.any() else None,
    }
    if not full.any():
        m["not_measured"] = "no test loan was observed for its whole tenor: lifetime defaults are not yet known"
    columns = {"pd_tenor": pd_tenor, "realised_rate_fully_observed": np.where(full, realised, np.nan)}
    if "true_pd_tenor" in prep.extra:
        truth = prep.extra["true_pd_tenor"][t]
        columns["true_pd_tenor"] = truth
        m["oracle"] = binary_metrics(realised[full], truth[full]) if full.any() else None
        m["mae_vs_true_pd_tenor"] = float(np.mean(np.abs(pd_tenor - truth)))
        m["mean_true_pd_tenor"] = float(truth.mean())
    m["calibration_by_decile"] = by_decile(pd_tenor, columns)
    return m


def lgd_metrics(y: FloatArray, pred: FloatArray) -> dict[str, float]:
    """Mean absolute error, bias and mean of an LGD estimate against LGDs."""
    return {
        "mae": float(np.mean(np.abs(pred - y))),
        "bias": float(np.mean(pred - y)),
        "mean_prediction": float(np.mean(pred)),
        "mean_target": float(np.mean(y)),
        "n": len(y),
    }


def evaluate_lgd(model: LoadedModel, prep: Prepared) -> dict[str, Any]:
    """Out-of-time LGD: error against realised LGDs and, on synthetic data, against the true expected LGD.

    The oracle (``true_lgd``, the expected LGD of each loan) has an error
    against realised LGDs too: disposals are uncertain.  The model's gap to it
    is what better inputs could still win.
    """
    t = prep.test
    pred = sigmoid(model.raw(prep.x[t]))
    y = prep.y[t]
    m: dict[str, Any] = {"n_test": int(t.sum()), "model": lgd_metrics(y, pred)}
    columns = {"lgd": pred, "realised_lgd": y}
    if prep.truth is not None:
        truth = prep.truth[t]
        m["oracle"] = lgd_metrics(y, truth)
        m["model_vs_truth"] = lgd_metrics(truth, pred)
        columns["true_lgd"] = truth
    m["calibration_by_decile"] = by_decile(pred, columns)
    months = prep.extra.get("months_to_cash")
    if "months" in model.boosters and months is not None:
        predicted = np.exp(model.raw(prep.x[t], "months"))
        m["months_to_cash"] = {
            "mae_months": float(np.mean(np.abs(predicted - months[t]))),
            "mean_prediction": float(predicted.mean()),
            "mean_target": float(months[t].mean()),
        }
    train_p = sigmoid(model.raw(prep.x[prep.train]))
    m["psi"] = psi_report(prep.x[prep.train], prep.x[t], model.feature_names, train_p, pred)
    return m
