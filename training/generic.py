"""Train and score models on any tabular CSV: a bank's own history, a public data set.

Column roles come from an optional spec (YAML) and, where it is silent, from
the data: id-like columns (unique per row, or named ``id``/``*_id`` and nearly
unique) are excluded, text columns with few distinct values become categorical
features, other text columns are excluded and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from scoring.features import FeatureSpec, encode_category, to_matrix
from scoring.models import LoadedModel
from scoring.vocab.arrays import FloatArray, IndexArray
from training.evaluate import binary_metrics
from training.fit import Fitted, fit_regression
from training.prepare import Prepared, split_masks
from training.tabular import TableError

MAX_CATEGORIES = 50
NUMERIC_SHARE = 0.9  # a text column this share of whose values are numbers is numeric (the rest are errors)


class GenericSpec(BaseModel):
    """Optional declarations for a generic training file."""

    model_config = ConfigDict(extra="forbid")
    id_columns: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)
    date_column: str | None = None
    positive_label: str | None = None
    monotone: dict[str, int] = Field(default_factory=dict)


class GenericDataError(TableError):
    """The file cannot be trained on; the message says which row and column and why."""


# Label pairs whose event side is unambiguous (lower-cased); any other pair needs --positive-label.
OBVIOUS_POSITIVES = {
    frozenset({"0", "1"}): "1",
    frozenset({"0.0", "1.0"}): "1.0",
    frozenset({"false", "true"}): "true",
    frozenset({"no", "yes"}): "yes",
    frozenset({"n", "y"}): "y",
    frozenset({"否", "是"}): "是",
}


def load_spec(path: Path | None) -> GenericSpec:
    """Read a spec file (YAML), or the empty spec.

    Raises
    ------
    TableError
        The file is missing, is not YAML, or has an unknown or mistyped key (named).
    """
    if path is None:
        return GenericSpec()
    from pydantic import ValidationError

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return GenericSpec.model_validate(raw)
    except FileNotFoundError as exc:
        raise TableError("no such spec file", path=path) from exc
    except yaml.YAMLError as exc:
        raise TableError(f"not valid YAML: {str(exc).splitlines()[0]}", path=path) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise TableError(f"spec key {key!r}: {err['msg']} (see README, 'The --spec file')", path=path) from exc


def _is_id_like(name: str, s: pd.Series) -> bool:
    n = max(len(s), 1)
    unique_ratio = s.nunique(dropna=True) / n
    named = name.lower() == "id" or name.lower().endswith("_id")
    textual = not pd.api.types.is_numeric_dtype(s)
    return (named and unique_ratio > 0.9) or (textual and unique_ratio > 0.95)


def _mostly_numbers(s: pd.Series) -> bool:
    """A text column whose values are nearly all numbers is a number column with typos (reported by row)."""
    present = s.dropna().astype(str).str.strip()
    present = present[present != ""]
    if present.empty:
        return False
    return bool(pd.to_numeric(present, errors="coerce").notna().mean() >= NUMERIC_SHARE)


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
        elif name in spec.categorical or not (pd.api.types.is_numeric_dtype(s) or _mostly_numbers(s)):
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
                idx = np.flatnonzero(bad)
                raise GenericDataError(
                    f"{s.iloc[idx[0]]!r} is not a number{_more_rows(idx)}", row=file_row(idx[0]), column=f.name
                )
            cols[f.name] = num.to_numpy(dtype=np.float64)
    return to_matrix(cols, features)


def file_row(index: int) -> int:
    """The row a spreadsheet shows for data row ``index`` (0-based): the header is row 1."""
    return int(index) + 2


def _more_rows(idx: IndexArray) -> str:
    if len(idx) == 1:
        return ""
    rest = ", ".join(str(file_row(i)) for i in idx[1:6])
    return f" (also rows {rest}{', …' if len(idx) > 6 else ''}; {len(idx)} rows in all)"


def label_text(values: pd.Series) -> pd.Series:
    """Target labels as text: 1 and 1.0 read from different files are the same label ``1``."""
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all() and (num == num.round()).all():
        return num.astype("int64").astype(str)
    return values.astype(str).str.strip()


def choose_positive(labels: list[str], target: str, given: str | None) -> str:
    """The label whose probability the model gives: ``given``, or the obvious event of a 0/1, no/yes pair.

    Raises
    ------
    GenericDataError
        ``given`` is not a label, or the pair has no obvious event side (say which).
    """
    if given is not None:
        if given not in labels:
            raise GenericDataError(f"--positive-label {given!r} is not a value of {target!r} (values: {labels})")
        return given
    obvious = OBVIOUS_POSITIVES.get(frozenset(v.lower() for v in labels))
    if obvious is None:
        raise GenericDataError(
            f"target {target!r} has values {labels}: say which one is the event the model predicts, "
            f"e.g. --positive-label {labels[0]!r}",
            column=target,
        )
    return next(v for v in labels if v.lower() == obvious)


def _target(
    frame: pd.DataFrame, target: str, task: Literal["binary", "regression"], spec: GenericSpec
) -> tuple[FloatArray, str | None]:
    if target not in frame.columns:
        raise GenericDataError(f"target column {target!r} not in the file (columns: {list(frame.columns)})")
    y = frame[target]
    if y.isna().any():
        idx = np.flatnonzero(y.isna())
        raise GenericDataError(f"the target is empty{_more_rows(idx)}", row=file_row(idx[0]), column=target)
    if task == "regression":
        num = pd.to_numeric(y, errors="coerce")
        if num.isna().any():
            idx = np.flatnonzero(num.isna())
            raise GenericDataError(
                f"{y.iloc[idx[0]]!r} is not a number{_more_rows(idx)}", row=file_row(idx[0]), column=target
            )
        return num.to_numpy(dtype=np.float64), None
    text = label_text(y)
    labels = sorted(text.unique())
    if len(labels) != 2:
        raise GenericDataError(f"binary target has {len(labels)} distinct values {labels[:5]}, needs 2", column=target)
    positive = choose_positive(labels, target, spec.positive_label)
    return np.asarray(text == positive, dtype=np.float64), positive


def probability_column(positive_label: str | None) -> str:
    """The prediction column of a binary model: ``p_<label>`` (``probability`` for the bundled models)."""
    if positive_label is None:
        return "probability"
    safe = "".join(c if c.isalnum() else "_" for c in positive_label.strip())
    return f"p_{safe or 'positive'}"


def train_generic(
    frame: pd.DataFrame,
    *,
    task: Literal["binary", "regression"],
    target: str,
    spec: GenericSpec,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    holdout: bool = True,
) -> tuple[Fitted, dict[str, Any], Prepared]:
    """Fit a generic model and evaluate it on a held-out test split.

    The split is out-of-time on ``spec.date_column`` when given, else random (20%);
    ``holdout=False`` trains on every row and returns no metrics. A binary model's
    family (LightGBM or scorecard) is chosen by cross-validation on the training
    rows (:mod:`training.families`); a regression is LightGBM.
    """
    feats, ids, skipped = infer_features(frame, target, spec)
    y, positive = _target(frame, target, task, spec)
    prep = _prepared(frame, feats, y, spec, seed, holdout=holdout)
    rows = ~prep.test
    if progress is not None and positive is not None:
        progress(f"positive class: {target} = {positive!r} (the model gives P({target} = {positive!r}))")
    if progress is not None:
        progress(f"training on {int(rows.sum())} rows, {len(feats)} features; testing on {int(prep.test.sum())}")
    if task == "binary":
        from training.families import FOLDS, select_and_fit

        minority = int(min(prep.y[rows].sum(), (1 - prep.y[rows]).sum()))
        if minority < 2 * FOLDS:
            raise GenericDataError(
                f"only {minority} training rows of the rarer class of {target!r}: "
                f"cross-validation needs at least {2 * FOLDS}",
                column=target,
            )
        fitted = select_and_fit(prep.x[rows], prep.y[rows], feats, seed=seed, progress=progress)
    else:
        fitted = fit_regression(prep, feats)
    metrics = generic_metrics(fitted, prep) if holdout else {}
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
    frame: pd.DataFrame,
    feats: tuple[FeatureSpec, ...] | list[FeatureSpec],
    y: FloatArray,
    spec: GenericSpec,
    seed: int,
    *,
    holdout: bool = True,
) -> Prepared:
    x = encode_frame(frame, feats)
    if not holdout:
        rng = np.random.default_rng(seed)
        none = np.zeros(len(frame), dtype=bool)
        dates = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
        return Prepared(x, y, np.arange(len(frame)), dates, none, rng.random(len(frame)) < 0.15)
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
