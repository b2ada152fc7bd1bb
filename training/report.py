"""Training reports: metrics JSON plus a human-readable HTML page with plots."""

from __future__ import annotations

import base64
import html
import io
import json
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_curve

from scoring.models import LoadedModel, sigmoid
from scoring.vocab.arrays import FloatArray
from training.prepare import Prepared

# Feature names from a bank's own file are often Chinese: use a CJK font where one is installed.
plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"]


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # Without a CJK font the names show as boxes; the report still lists them in its tables.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        warnings.filterwarnings("ignore", message="findfont", category=UserWarning)
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _roc(y: FloatArray, p: FloatArray, oracle: FloatArray | None, oracle_y: FloatArray | None) -> str:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr, label="model")
    if oracle is not None and oracle_y is not None and 0 < oracle_y.sum() < len(oracle_y):
        fo, to, _ = roc_curve(oracle_y, oracle)
        ax.plot(fo, to, "--", label="oracle (ground truth)")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, out-of-time test")
    ax.legend()
    return _png(fig)


def _calibration(y: FloatArray, p: FloatArray) -> str:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    edges = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    mp = [p[idx == i].mean() for i in range(len(edges) - 1) if np.any(idx == i)]
    my = [y[idx == i].mean() for i in range(len(edges) - 1) if np.any(idx == i)]
    ax.plot(mp, my, "o-", label="model")
    hi = max(max(mp, default=0.1), max(my, default=0.1))
    ax.plot([0, hi], [0, hi], ":", color="grey", label="perfect")
    ax.set(xlabel="mean predicted", ylabel="observed rate", title="Calibration (deciles)")
    ax.legend()
    return _png(fig)


def _bars(values: dict[str, float], title: str, xlabel: str, lines: tuple[float, ...] = ()) -> str:
    items = sorted(values.items(), key=lambda kv: kv[1])[-20:]
    fig, ax = plt.subplots(figsize=(5.5, 0.25 * len(items) + 1))
    ax.barh([k for k, _ in items], [v for _, v in items])
    for x in lines:
        ax.axvline(x, ls="--", color="red")
    ax.set(title=title, xlabel=xlabel)
    return _png(fig)


def _shap_summary(model: LoadedModel, x: FloatArray, role: str) -> dict[str, float]:
    sample = x[: min(len(x), 2000)]
    contrib = model.contributions(sample, role)[:, :-1]
    return {n: float(v) for n, v in zip(model.feature_names, np.abs(contrib).mean(axis=0), strict=True)}


def _valuation_scatter(model: LoadedModel, prep: Prepared) -> str:
    t = prep.test
    p50 = np.exp(model.raw(prep.x[t], "p50"))
    ref = prep.truth[t] if prep.truth is not None else np.exp(prep.y[t])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.loglog(ref, p50, ".", alpha=0.3)
    lo, hi = float(np.min(ref)), float(np.max(ref))
    ax.plot([lo, hi], [lo, hi], ":", color="grey")
    ax.set(
        xlabel="true value (CNY)" if prep.truth is not None else "observed (CNY)",
        ylabel="P50 (CNY)",
        title="Valuation, out-of-time test",
    )
    return _png(fig)


def build_plots(model: LoadedModel, prep: Prepared, metrics: dict[str, Any]) -> dict[str, str]:
    """Base64 PNG plots for the model's report."""
    role = "p50" if model.task == "quantile_regression" else "main"
    plots = {
        "shap_summary": _bars(
            _shap_summary(model, prep.x[prep.test], role), "SHAP summary (mean |contribution|)", "mean |SHAP|"
        )
    }
    if model.task == "quantile_regression":
        plots["valuation"] = _valuation_scatter(model, prep)
        return plots
    if model.task == "binary":
        t = prep.test
        p = sigmoid(model.raw(prep.x[t]))
        oracle = prep.extra.get("oracle_score", prep.truth)
        oracle_y = prep.truth if "oracle_score" in prep.extra else prep.y
        plots["roc"] = _roc(
            prep.y[t],
            p,
            None if oracle is None else np.asarray(oracle)[t],
            None if oracle_y is None else np.asarray(oracle_y)[t],
        )
        plots["calibration"] = _calibration(prep.y[t], p)
    if "psi" in metrics:
        psi_values = {k: v["psi"] for k, v in metrics["psi"]["features"].items()}
        psi_values["(score)"] = metrics["psi"]["score"]["psi"]
        plots["psi"] = _bars(psi_values, "PSI train → test", "PSI", lines=(0.10, 0.25))
    return plots


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
    return f"<table border='1' cellpadding='3'><tr>{head}</tr>{body}</table>"


def _cell(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def summary_html(summary: dict[str, Any]) -> str:
    """What a modeller checks first: target and positive class, the model family and why, the scorecard."""
    parts = []
    confidence = summary.get("confidence") or {}
    if confidence.get("low_confidence"):
        items = "".join(f"<li>{html.escape(str(r))}</li>" for r in confidence.get("reasons") or [])
        parts.append(f"<p><strong>LOW CONFIDENCE</strong>: every answer from this model says so.</p><ul>{items}</ul>")
    if summary.get("target") is not None:
        label = summary.get("positive_label")
        event = f" = {label!r} (the probability is of this class)" if label is not None else ""
        parts.append(f"<p>target <code>{html.escape(str(summary['target']))}</code>{html.escape(event)}</p>")
    if summary.get("family"):
        parts.append(f"<h2>model family: {html.escape(str(summary['family']))}</h2>")
        parts.append(f"<p>{html.escape(str(summary.get('family_reason', '')))}</p>")
        parts.append(_table(list(summary.get("cv") or [])))
    if summary.get("scorecard"):
        card = summary["scorecard"]
        parts.append(
            f"<h2>scorecard</h2><p>{html.escape(str(card.get('scaling', '')))}; "
            f"base points {html.escape(_cell(card.get('base_points', 0.0)))}</p>"
        )
        parts.append(_table(list(card.get("table") or [])))
    return "".join(parts)


def write_report(
    out_dir: Path,
    *,
    name: str,
    version: str | None,
    metrics: dict[str, Any],
    plots: dict[str, str],
    synthetic: bool,
    summary: dict[str, Any] | None = None,
) -> Path:
    """Write ``metrics.json`` and ``report.html`` for one model run; return the HTML path.

    ``summary`` (a generic model's manifest extra) adds the target and positive
    class, the chosen family with the candidates' cross-validated figures, and
    the scorecard table.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float), encoding="utf-8")
    label = "<p><strong>SYNTHETIC DATA</strong>: figures describe the bundled generator, not a real book.</p>"
    imgs = "".join(f'<h2>{html.escape(k)}</h2><img src="data:image/png;base64,{v}"/>' for k, v in plots.items())
    body = (
        f"<html><head><meta charset='utf-8'><title>{html.escape(name)} report</title></head><body>"
        f"<h1>{html.escape(name)} version {html.escape(str(version))}</h1>"
        f"{label if synthetic else ''}{summary_html(summary or {})}<h2>metrics</h2>"
        f"<pre>{html.escape(json.dumps(metrics, indent=2, default=float))}</pre>"
        f"{imgs}</body></html>"
    )
    path = out_dir / "report.html"
    path.write_text(body, encoding="utf-8")
    return path
