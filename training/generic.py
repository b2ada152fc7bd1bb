"""Train and score models on any tabular CSV: a bank's own history, a public data set.

Column roles come from an optional spec (YAML) and, where it is silent, from
the data: id-like columns (unique per row, or named ``id``/``*_id`` and nearly
unique) are excluded, text columns with few distinct values become categorical
features, other text columns are excluded and reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from scoring.features import FeatureSpec, encode_category, to_matrix
from scoring.models import LoadedModel
from scoring.vocab.arrays import FloatArray
from training.evaluate import binary_metrics
from training.fit import Fitted, fit_binary, fit_regression
from training.prepare import Prepared, split_masks

MAX_CATEGORIES = 50


class GenericSpec(BaseModel):
    """Optional declarations for a generic training file."""

    model_config = ConfigDict(extra="forbid")
    id_columns: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)
    date_column: str | None = None
    positive_label: str | None = None
    monotone: dict[str, int] = Field(default_factory=dict)


class GenericDataError(ValueError):
    """The file cannot be trained on; the message says which column and why."""


def load_spec(path: Path | None) -> GenericSpec:
    """Read a spec file (YAML), or the empty spec."""
    if path is None:
        return GenericSpec()
    return GenericSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def _is_id_like(name: str, s: pd.Series) -> bool:
    n = max(len(s), 1)
    unique_ratio = s.nunique(dropna=True) / n
    named = name.lower() == "id" or name.lower().endswith("_id")
    textual = not pd.api.types.is_numeric_dtype(s)
    return (named and unique_ratio > 0.9) or (textual and unique_ratio > 0.95)


def infer_features(
    frame: pd.DataFrame, target: str, spec: GenericSpec
) -> tuple[list[FeatureSpec], list[str], dict[str, str]]:
    """Feature specs, id columns, and the columns left out with the reason."""
    skipped: dict[str, str] = {}
    ids = [c for c in spec.id_columns if c in frame.columns]
    feats: list[FeatureSpec] = []
    for name in frame.columns:
        s = frame[name]
        if name == target or name in ids:
            continue
        if name in spec.exclude or name == spec.date_column:
            skipped[name] = "excluded by the spec" if name in spec.exclude else "date column (used to split)"
        elif _is_id_like(name, s) and name not in spec.categorical:
            ids.append(name)
            skipped[name] = "id-like (unique per row)"
        elif name in spec.categorical or not pd.api.types.is_numeric_dtype(s):
            cats = sorted({str(v) for v in s.dropna().unique()})
            if len(cats) > MAX_CATEGORIES and name not in spec.categorical:
                skipped[name] = f"text with {len(cats)} distinct values (over {MAX_CATEGORIES})"
                continue
            feats.append(FeatureSpec(name, "categorical", tuple(cats)))
        else:
            feats.append(FeatureSpec(name, "numeric", monotone=spec.monotone.get(name, 0)))
    if not feats:
        raise GenericDataError("no usable feature columns")
    return feats, ids, skipped


def encode_frame(frame: pd.DataFrame, features: tuple[FeatureSpec, ...] | list[FeatureSpec]) -> FloatArray:
    """Matrix of ``features`` from a frame; missing columns raise with their names."""
    missing = [f.name for f in features if f.name not in frame.columns]
    if missing:
        raise GenericDataError(f"columns missing from the input: {missing}")
    cols: dict[str, FloatArray] = {}
    for f in features:
        s = frame[f.name]
        if f.kind == "categorical":
            cols[f.name] = encode_category(
                s.map(lambda v: None if pd.isna(v) else str(v)).to_numpy(dtype=object), f.categories or ()
            )
        else:
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
            if bad.any():
                rows = [int(i) + 1 for i in np.flatnonzero(bad)[:10]]
                raise GenericDataError(f"column {f.name!r}: rows {rows} are not numbers")
            cols[f.name] = num.to_numpy(dtype=np.float64)
    return to_matrix(cols, features)


def _target(
    frame: pd.DataFrame, target: str, task: Literal["binary", "regression"], spec: GenericSpec
) -> tuple[FloatArray, str | None]:
    if target not in frame.columns:
        raise GenericDataError(f"target column {target!r} not in the file (columns: {list(frame.columns)})")
    y = frame[target]
    if y.isna().any():
        rows = [int(i) + 1 for i in np.flatnonzero(y.isna())[:10]]
        raise GenericDataError(f"target {target!r} is missing on rows {rows}")
    if task == "regression":
        num = pd.to_numeric(y, errors="coerce")
        if num.isna().any():
            rows = [int(i) + 1 for i in np.flatnonzero(num.isna())[:10]]
            raise GenericDataError(f"target {target!r} is not numeric on rows {rows}")
        return num.to_numpy(dtype=np.float64), None
    labels = sorted(str(v) for v in y.unique())
    if len(labels) != 2:
        raise GenericDataError(f"binary target {target!r} has {len(labels)} distinct values {labels[:5]}, needs 2")
    positive = spec.positive_label or ("1" if "1" in labels else labels[1])
    if positive not in labels:
        raise GenericDataError(f"positive_label {positive!r} is not a value of {target!r}")
    return np.asarray(y.astype(str) == positive, dtype=np.float64), positive


def train_generic(
    frame: pd.DataFrame, *, task: Literal["binary", "regression"], target: str, spec: GenericSpec, seed: int = 0
) -> tuple[Fitted, dict[str, Any], Prepared]:
    """Fit a generic model and evaluate it on a held-out test split.

    The split is out-of-time on ``spec.date_column`` when given, else random (20%).
    """
    feats, ids, skipped = infer_features(frame, target, spec)
    y, positive = _target(frame, target, task, spec)
    prep = _prepared(frame, feats, y, spec, seed)
    fitted = fit_binary(prep, feats, monotone=bool(spec.monotone)) if task == "binary" else fit_regression(prep, feats)
    metrics = generic_metrics(fitted, prep)
    fitted.extra.update(
        {
            "generic": True,
            "target": target,
            "id_columns": ids,
            "skipped_columns": skipped,
            "positive_label": positive,
            "spec": spec.model_dump(),
        }
    )
    return fitted, metrics, prep


def _prepared(
    frame: pd.DataFrame, feats: tuple[FeatureSpec, ...] | list[FeatureSpec], y: FloatArray, spec: GenericSpec, seed: int
) -> Prepared:
    x = encode_frame(frame, feats)
    if spec.date_column:
        dates = pd.to_datetime(frame[spec.date_column], errors="coerce").to_numpy().astype("datetime64[D]")
        test, valid = split_masks(dates, seed=seed)
    else:
        rng = np.random.default_rng(seed)
        u = rng.random(len(frame))
        test, valid = u < 0.2, (u >= 0.2) & (u < 0.35)
        dates = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    return Prepared(x, y, np.arange(len(frame)), dates, test, valid)


def generic_holdout_metrics(model: LoadedModel, frame: pd.DataFrame) -> dict[str, Any]:
    """Metrics of a stored generic model on the test split of ``frame`` (same split as training)."""
    extra = model.manifest.get("extra") or {}
    spec = GenericSpec.model_validate(extra.get("spec") or {})
    if extra.get("positive_label"):
        spec = spec.model_copy(update={"positive_label": extra["positive_label"]})
    task: Literal["binary", "regression"] = "binary" if model.task == "binary" else "regression"
    y, _ = _target(frame, str(extra["target"]), task, spec)
    prep = _prepared(frame, model.features, y, spec, seed=0)
    fitted = Fitted(dict(model.boosters), {}, model.features, model.task, model.calibration)
    return generic_metrics(fitted, prep)


def generic_metrics(fitted: Fitted, prep: Prepared) -> dict[str, Any]:
    """Test-split metrics: AUC/KS/Brier for binary, RMSE/MAE/R² for regression."""
    model = fitted.as_loaded()
    t = prep.test
    raw = model.raw(prep.x[t])
    if fitted.task == "binary":
        return {"n_test": int(t.sum()), **binary_metrics(prep.y[t], 1 / (1 + np.exp(-raw)))}
    err = raw - prep.y[t]
    var = float(np.var(prep.y[t])) or 1.0
    return {
        "n_test": int(t.sum()),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "r2": float(1 - np.mean(err**2) / var),
    }
