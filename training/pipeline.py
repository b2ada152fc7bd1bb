"""The retraining pipeline: load → validate → fit → evaluate → report → register."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models_store import ModelStore
from scoring import features as F
from scoring.drift import reference_bins
from scoring.economy import growth_on, load_economy
from scoring.grades import GradeScale, load_grade_scale
from scoring.lgd import ChannelHistory, channel_history
from scoring.lifetime import term_structure_of
from scoring.models import LoadedModel, sigmoid
from scoring.vocab import INDUSTRIES
from scoring.vocab.arrays import FloatArray
from training.contract import load_dataset
from training.evaluate import (
    evaluate_binary,
    evaluate_lgd,
    evaluate_lifetime,
    evaluate_valuation,
    reference_distributions,
)
from training.fit import Fitted, fit_binary, fit_lgd, fit_term_structure, fit_valuation
from training.prepare import (
    DEFAULT_PRICE_BIAS,
    Prepared,
    check_binary_split,
    pledged_patents_matrix,
    prepare_claims,
    prepare_lgd,
    prepare_pd,
    prepare_valuation,
)
from training.registry import data_fingerprint, load_version, register_fit
from training.report import build_plots, write_report

MODEL_NAMES = ("valuation", "pd", "lgd", "claim_review")
REVIEW_CAPACITY = 0.2  # share of claims a fund can review closely (assumption)
Progress = Callable[[str], None]


@dataclass
class RunResult:
    """What one model's training run produced."""

    name: str
    version: str
    metrics: dict[str, Any]
    report: Path
    promoted: bool


def _noop(_: str) -> None:
    return None


def is_synthetic(data: Mapping[str, pd.DataFrame]) -> bool:
    """Data with ground-truth tables is the synthetic generator's."""
    return any(k.endswith("_truth") for k in data)


def fit_and_evaluate(
    name: str, data: Mapping[str, pd.DataFrame], valuation: LoadedModel | None, scale: GradeScale
) -> tuple[Fitted, Prepared, dict[str, Any]]:
    """Fit one of the bundled models and evaluate it out of time."""
    if name == "valuation":
        prep = prepare_valuation(data)
        fitted = fit_valuation(prep, F.VALUATION_FEATURES)
        metrics = evaluate_valuation(fitted.as_loaded(), prep)
        fitted.extra["price_bias"] = DEFAULT_PRICE_BIAS
        served_x, served_dates = pledged_patents_matrix(data)
        ref_rows = served_dates <= prep.dates[prep.train].max()
        fitted.extra["reference"] = reference_distributions(
            served_x[ref_rows],
            [s.name for s in F.VALUATION_FEATURES],
            fitted.as_loaded().raw(served_x[ref_rows], "p50"),
        )
        fitted.extra["reference_population"] = "pledged patents at loan origination, training period"
        # The observed prices it learned from (log CNY, de-biased by source), for the PSI of the prices
        # the province's transaction registry collects (service/usecases/transactions.price_drift).
        fitted.extra["reference_prices"] = reference_bins(prep.y[prep.train])
        return fitted, prep, metrics
    if name == "pd":
        prep = prepare_pd(data, valuation)
        check_binary_split(prep.y > 0.5, prep.test, model="pd", what="defaults within 12 months")
        fitted = fit_binary(prep, F.PD_FEATURES)
        fit_rows = ~prep.test
        fitted.extra["term_structure"] = fit_term_structure(
            sigmoid(fitted.as_loaded().raw(prep.x[fit_rows])),
            default_months=prep.extra["default_months"][fit_rows],
            observed_months=prep.extra["observed_months"][fit_rows],
        )
        metrics = evaluate_binary(fitted.as_loaded(), prep, scale=scale)
        metrics["lifetime"] = evaluate_lifetime(fitted.as_loaded(), prep, term_structure_of(fitted.extra))
    elif name == "lgd":
        prep = prepare_lgd(data, valuation)
        fitted = fit_lgd(prep, F.LGD_FEATURES)
        # Served with the model: the recovery experience of the disposals it was fitted on (not the
        # test fold's), looked up by industry in every assessment (scoring.lgd.history_value).
        fitted.extra["channel_history"] = fitted_history(prep).model_dump()
        metrics = evaluate_lgd(fitted.as_loaded(), prep)
        metrics["channel_history"] = fitted.extra["channel_history"]
    elif name == "claim_review":
        prep = prepare_claims(data, valuation)
        fitted = fit_binary(prep, F.CLAIM_FEATURES, monotone=False)
        metrics = evaluate_binary(fitted.as_loaded(), prep, capacity=REVIEW_CAPACITY)
    else:
        raise ValueError(f"unknown model {name!r}; expected one of {MODEL_NAMES}")
    loaded = fitted.as_loaded()
    ref_x = prep.x[prep.train]
    if name == "lgd":  # scored on every application: compare traffic with every loan of the training period
        last = prep.dates[prep.train].max().astype(np.float64)
        ref_x = as_served(prep.extra["population_x"][prep.extra["population_day"] <= last], prep)
        fitted.extra["reference_population"] = (
            "every loan originated up to the last training default, with the channel history and the economy an "
            "assessment would read right after training (the stored table; the last figure published by the data's "
            "last day); the economy has no PSI: it is the same for every application on a day, and its year is "
            "stated in every estimate"
        )
    fitted.extra["reference"] = reference_distributions(ref_x, loaded.feature_names, sigmoid(loaded.raw(ref_x)))
    if name == "lgd":
        fitted.extra["reference"]["features"].pop("economy_gdp_growth", None)
    if valuation is not None:
        fitted.extra["valuation_version"] = valuation.version
    return fitted, prep, metrics


def as_served(x: FloatArray, prep: Prepared) -> FloatArray:
    """LGD rows ``x`` with the two inputs from outside the application as an assessment reads them.

    Training rows carry the point-in-time history and economy of their own dates; an assessment
    reads the table stored with the model and the figure published on its day.  Drift is
    judged against the latter, or every application would look shifted.
    """
    names = [s.name for s in F.LGD_FEATURES]
    out = x.copy()
    history = fitted_history(prep)
    codes = out[:, names.index("industry")]
    by_code = np.array([history.by_industry[i].value for i in INDUSTRIES])
    out[:, names.index("industry_lgd_history")] = np.where(
        np.isnan(codes), history.overall_mean_lgd, by_code[np.nan_to_num(codes).astype(int)]
    )
    days = np.concatenate([prep.extra["population_day"], prep.extra.get("disposal_day", np.empty(0))])
    last_day = np.datetime64(int(np.nanmax(days)), "D")
    out[:, names.index("economy_gdp_growth")] = growth_on(last_day, load_economy())[0]
    return out


def fitted_history(prep: Prepared) -> ChannelHistory:
    """The channel history of the lgd model's fitted rows (training and validation disposals)."""
    rows = ~prep.test
    industry = prep.x[rows, [s.name for s in F.LGD_FEATURES].index("industry")]
    days = prep.extra.get("disposal_day")
    last = str(np.datetime64(int(np.nanmax(days[rows])), "D")) if days is not None and rows.any() else None
    return channel_history(industry, prep.y[rows], last_disposal=last)


def train_models(
    data_dir: Path,
    store: ModelStore,
    *,
    models: Sequence[str] = MODEL_NAMES,
    actor: str,
    report_dir: Path,
    promote_first: bool = True,
    progress: Progress = _noop,
) -> list[RunResult]:
    """Train, evaluate, report and register the requested models.

    The PD and claim models value collateral with the valuation model trained
    in the same run, or the store's valuation champion when it is not retrained.
    A model with no champion yet is promoted at once (``promote_first``);
    otherwise the new version becomes ``challenger`` and waits for the gates.
    Versions are signed with the store's signing key (unsigned if it has none).
    """
    if not store.has_signing_key:
        progress(
            "warning: the model store has no signing key: the versions trained now are unsigned, "
            "and a server refuses them until they are signed (iprisk models sign)"
        )
    progress(f"loading and validating {data_dir}")
    data = load_dataset(data_dir)
    fingerprint = data_fingerprint(data_dir)
    synthetic = is_synthetic(data)
    scale = load_grade_scale()
    valuation: LoadedModel | None = None
    if "valuation" not in models and store.alias("valuation", "champion"):
        valuation = load_version(store, "valuation@champion")
    results = []
    for name in [m for m in MODEL_NAMES if m in models]:
        progress(f"training {name}")
        fitted, prep, metrics = fit_and_evaluate(name, data, valuation, scale)
        version = register_fit(
            store, name, fitted, metrics=metrics, fingerprint=fingerprint, actor=actor, synthetic=synthetic
        )
        loaded = load_version(store, f"{name}:{version}")
        if name == "valuation":
            valuation = loaded
        report = write_report(
            report_dir / name / version,
            name=name,
            version=version,
            metrics=metrics,
            plots=build_plots(loaded, prep, metrics),
            synthetic=synthetic,
        )
        promoted = False
        if promote_first and store.alias(name, "champion") is None:
            store.promote(name, version, actor=actor, reason="first version of this model")
            promoted = True
        else:
            store.set_alias(name, "challenger", version, actor=actor, reason="newly trained")
        progress(f"{name} version {version}: {summary_line(name, metrics)}")
        results.append(RunResult(name, version, metrics, report, promoted))
    return results


def summary_line(name: str, metrics: Mapping[str, Any]) -> str:
    """One line of headline metrics for progress output and the README."""
    if name == "valuation":
        parts = [
            f"MdAPE vs observed {metrics['mdape_vs_observed']:.3f}",
            f"P10-P90 coverage vs observed {metrics['coverage_vs_observed']:.3f}",
        ]
        if "coverage_p10_p90_vs_true" in metrics:
            parts += [
                f"MdAPE vs true {metrics['mdape_vs_true']:.3f}",
                f"coverage vs true {metrics['coverage_p10_p90_vs_true']:.3f}",
            ]
        return ", ".join(parts)
    if name == "lgd":
        m = metrics["model"]
        line = f"MAE vs realised {m['mae']:.3f}, mean {m['mean_prediction']:.3f} vs {m['mean_target']:.3f}"
        if "oracle" in metrics:
            line += f" (oracle MAE {metrics['oracle']['mae']:.3f}, MAE vs true {metrics['model_vs_truth']['mae']:.3f})"
        return line
    m = metrics["model"]
    line = f"AUC {_figure(m['auc'], '.3f')}, KS {_figure(m['ks'], '.3f')}, Brier {_figure(m['brier'], '.4f')}"
    if "oracle" in metrics:
        o, vs = metrics["oracle"]["auc"], metrics.get("model_vs_truth", m)["auc"]
        gap = o - vs if o is not None and vs is not None else None
        line += f" (oracle AUC {_figure(o, '.3f')}, gap {_figure(gap, '.3f')})"
    return line


def _figure(value: float | None, spec: str) -> str:
    """A metric for the summary; ``n/a`` where the test split cannot give one (e.g. no positive claims)."""
    return "n/a" if value is None else format(value, spec)


def score_matrix(model: LoadedModel, x: FloatArray) -> FloatArray:
    """Scores in the model's natural output space (probability or CNY)."""
    if model.task in ("binary", "fraction"):
        return sigmoid(model.raw(x))
    if model.task == "quantile_regression":
        return np.exp(model.raw(x, "p50"))
    return model.raw(x)
