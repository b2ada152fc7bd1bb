"""Batch scoring: the inputs ``train`` accepts, one output row per input, SHAP optional."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models_store import ModelStore
from scoring.lgd import history_of
from scoring.lifetime import term_structure_of
from scoring.models import LoadedModel, sigmoid
from scoring.vocab.arrays import AnyArray, FloatArray
from training.contract import load_dataset
from training.evaluate import lifetime_pds
from training.generic import encode_frame, probability_column
from training.prepare import Prepared, lgd_matrix_of, prepare_claims, prepare_pd, valuation_matrix
from training.progress import map_chunks
from training.registry import load_version
from training.tabular import read_table


def _valuation_rows(data: dict[str, pd.DataFrame], as_of: np.datetime64) -> tuple[AnyArray, FloatArray]:
    patents = data["patents"]
    dates = patents["price_date"].to_numpy().astype("datetime64[D]")
    dates = np.where(np.isnat(dates), as_of, dates)
    return patents["patent_id"].to_numpy(), valuation_matrix(patents, data["enterprises"], dates)


def _bundled_rows(
    store: ModelStore, model: LoadedModel, data_dir: Path, as_of: np.datetime64
) -> tuple[str, AnyArray, FloatArray]:
    data = load_dataset(data_dir, truth=False)
    if model.name == "valuation" or model.task == "quantile_regression":
        ids, x = _valuation_rows(data, as_of)
        return "patent_id", ids, x
    vv = (model.manifest.get("extra") or {}).get("valuation_version")
    valuation = load_version(store, f"valuation:{vv}") if vv else None
    if model.name in ("pd", "lgd"):
        # Scoring needs no outcomes: every loan gets a row (prepare_pd keeps loans with an outcome).
        data["outcomes"] = pd.DataFrame({"loan_id": data["loans"]["loan_id"], "default_12m": False})
        prep: Prepared = prepare_pd(data, valuation)
        if model.name == "lgd":
            return "loan_id", prep.ids, lgd_rows(data, valuation, model)
        return "loan_id", prep.ids, prep.x
    prep = prepare_claims(data, valuation)
    return "claim_id", prep.ids, prep.x


def lgd_rows(
    data: dict[str, pd.DataFrame], valuation: LoadedModel | None, model: LoadedModel | None = None
) -> FloatArray:
    """LGD model inputs of every loan (collateral valued as the PD model values it).

    With ``model``, the columns are the model's own and the channel history is the table stored
    with it, as an assessment reads them; without, every current input and the data's own
    point-in-time history.
    """
    if model is None:
        return lgd_matrix_of(data, valuation)
    return lgd_matrix_of(data, valuation, history=history_of(model), features=model.features)


def _tenors(data_dir: Path, loan_ids: pd.Series) -> FloatArray:
    loans = load_dataset(data_dir, truth=False)["loans"].set_index("loan_id")["tenor_months"]
    return loan_ids.map(loans).to_numpy(dtype=np.float64)


def predict(
    store: ModelStore,
    ref: str,
    data: Path,
    *,
    explain: bool = False,
    as_of: np.datetime64 | None = None,
    read: Callable[[Path], tuple[pd.DataFrame, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Score ``data`` with the model ``ref``.

    Parameters
    ----------
    store
        Model store.
    ref
        ``name``, ``name@alias`` or ``name:version``.
    data
        A contract data directory (bundled models) or a CSV with the training
        columns (generic models; the target column, if present, is ignored).
    explain
        Add one ``shap_<feature>`` column per feature and ``shap_base_value``
        (in the model's raw space: log-odds or log CNY).
    as_of
        Valuation date for patents without a price date (default: today).
    read
        Reads a generic model's file (default: :func:`training.tabular.read_table`, format detected).
    progress
        Receives a line per chunk of explained rows, with the time left (the slow part).

    Returns
    -------
    pandas.DataFrame
        One row per input: its id, the prediction (``pd_12m`` and ``pd_tenor`` for
        ``pd``, ``lgd`` for ``lgd``, ``probability`` for other binary models), and SHAP
        columns if asked.
    """
    model = load_version(store, ref)
    extra = model.manifest.get("extra") or {}
    day = as_of if as_of is not None else np.datetime64("today", "D")
    if extra.get("generic"):
        frame, _ = (read or read_table)(Path(data))
        x = encode_frame(frame, model.features)
        id_cols = [c for c in extra.get("id_columns", []) if c in frame.columns]
        out = frame[id_cols].copy() if id_cols else pd.DataFrame({"row": np.arange(1, len(frame) + 1)})
    else:
        id_name, ids, x = _bundled_rows(store, model, Path(data), day)
        out = pd.DataFrame({id_name: ids})
    role = "main"
    if model.task == "quantile_regression":
        role = "p50"
        for r in ("p10", "p50", "p90"):
            out[f"{r}_cny"] = np.exp(model.raw(x, r))
    elif model.name == "pd":
        out["pd_12m"] = sigmoid(model.raw(x))
        tenor = _tenors(Path(data), out["loan_id"])
        out["pd_tenor"] = lifetime_pds(out["pd_12m"].to_numpy(), tenor, term_structure_of(extra))
    elif model.name == "lgd":
        out["lgd"] = sigmoid(model.raw(x))
    elif model.task == "binary":
        out[probability_column(extra.get("positive_label"))] = sigmoid(model.raw(x))
    else:
        out["prediction"] = model.raw(x)
    out["model"] = f"{model.name}:{model.version}"
    if explain:
        contrib = map_chunks(lambda rows: model.contributions(rows, role), x, label="explain", echo=progress)
        for j, name in enumerate(model.feature_names):
            out[f"shap_{name}"] = contrib[:, j]
        out["shap_base_value"] = contrib[:, -1]
    return out
