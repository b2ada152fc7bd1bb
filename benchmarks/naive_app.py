"""The naive baseline: a FastAPI endpoint written the way a first prototype usually is.

Per request it builds pandas DataFrames from the JSON, computes the same model
inputs as iprisk (the shared feature code, so the models see identical rows),
and constructs ``shap.TreeExplainer(booster)`` anew for the valuation P50 and
the PD boosters before asking it for SHAP values.  P10 and P90 come from
``booster.predict`` so the model work matches an iprisk assessment.  No
authentication, validation, persistence or audit.

The boosters are built once from the champion text files read through
:class:`models_store.ModelStore`.  Served with::

    BENCH_MODEL_STORE=/tmp/bench-home/models \\
        python -m uvicorn --app-dir benchmarks --factory naive_app:create_app --port 8001
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import shap
from fastapi import FastAPI
from pydantic import BaseModel

from models_store import ModelStore
from scoring import features as F
from scoring.types import Borrower, LoanTerms, Patent

# shap 0.51 warns on every binary LightGBM explanation that its output format changed.
warnings.filterwarnings("ignore", message="LightGBM binary classifier with TreeExplainer", category=UserWarning)


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    return {n: f.default for n, f in model.model_fields.items() if not f.is_required()}


PATENT_DEFAULTS = _defaults(Patent)
BORROWER_DEFAULTS = _defaults(Borrower)
LOAN_DEFAULTS = _defaults(LoanTerms)


def _frame(rows: list[dict[str, Any]], defaults: dict[str, Any]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for name, value in defaults.items():
        if name not in df.columns:
            df[name] = value
    return df


def _columns(df: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: df[c].to_numpy() for c in df.columns}


def _shap(booster: lgb.Booster, x: pd.DataFrame) -> tuple[np.ndarray, float]:
    explainer = shap.TreeExplainer(booster)  # per request, as naive code does
    values = explainer.shap_values(x)
    if isinstance(values, list):  # older shap: one array per class for binary models
        values = values[-1]
    base = explainer.expected_value
    return np.asarray(values, dtype=float), float(np.ravel(base)[-1])


class Models:
    """Champion boosters of the valuation and PD models, with offsets and calibration."""

    def __init__(self, store: ModelStore) -> None:
        _, vv = store.resolve("valuation@champion")
        _, pv = store.resolve("pd@champion")
        self.valuation = {r: self._booster(store, "valuation", vv, f"model_{r}.txt") for r in ("p10", "p50", "p90")}
        self.pd = self._booster(store, "pd", pv, "model.txt")
        self.offsets = {k: float(v) for k, v in (store.manifest("valuation", vv).extra.get("offsets") or {}).items()}
        cal = store.manifest("pd", pv).extra.get("calibration")
        self.calibration = (float(cal["a"]), float(cal["b"])) if cal else (1.0, 0.0)

    @staticmethod
    def _booster(store: ModelStore, name: str, version: str, filename: str) -> lgb.Booster:
        return lgb.Booster(model_str=store.read_file(name, version, filename).decode("utf-8"))


def assess(models: Models, body: dict[str, Any]) -> dict[str, Any]:
    """PD, package value and SHAP contributions for one request body."""
    as_of = np.datetime64(body.get("as_of") or "today", "D")
    patents = _frame(body["patents"], PATENT_DEFAULTS)
    for c in ("filing_date", "grant_date"):
        patents[c] = pd.to_datetime(patents[c]).to_numpy().astype("datetime64[D]")
    owner_revenue = np.full(len(patents), float(body["borrower"]["revenue_cny"]))
    xv = pd.DataFrame(
        F.to_matrix(F.valuation_columns(_columns(patents), as_of, owner_revenue=owner_revenue), F.VALUATION_FEATURES),
        columns=[s.name for s in F.VALUATION_FEATURES],
    )
    p10, p90 = (
        np.asarray(models.valuation[r].predict(xv, raw_score=True)) + models.offsets.get(r, 0.0) for r in ("p10", "p90")
    )
    sv_val, base_val = _shap(models.valuation["p50"], xv)
    p50 = np.exp(base_val + sv_val.sum(axis=1))  # as scoring.valuation.quantiles: P10/P90 clamped to the P50
    q = np.column_stack([np.minimum(np.exp(p10), p50), p50, np.maximum(np.exp(p90), p50)])
    package_value = float(p50.sum())

    life = F.remaining_life_years(
        patents["patent_type"].to_numpy(dtype=object), patents["filing_date"].to_numpy(), as_of
    )
    summary = F.package_summary(
        patents["patent_type"].to_numpy(dtype=object), life, np.zeros(len(patents), dtype=int), 1
    )
    borrower = _frame([body["borrower"]], BORROWER_DEFAULTS)
    loan = _frame([body["loan"]], LOAN_DEFAULTS)
    cols = F.pd_columns(_columns(borrower), _columns(loan), summary, np.array([package_value]))
    xp = pd.DataFrame(F.to_matrix(cols, F.PD_FEATURES), columns=[s.name for s in F.PD_FEATURES])
    sv_pd, base_pd = _shap(models.pd, xp)
    a, b = models.calibration
    log_odds = a * (base_pd + float(sv_pd[0].sum())) + b
    return {
        "pd": float(1 / (1 + np.exp(-log_odds))),
        "package_p50": package_value,
        "patents": [
            {
                "patent_id": pid,
                "p10": float(r[0]),
                "p50": float(r[1]),
                "p90": float(r[2]),
                "contributions": dict(zip(xv.columns, map(float, s), strict=True)),
            }
            for pid, r, s in zip(patents["patent_id"], q, sv_val, strict=True)
        ],
        "contributions": dict(zip(xp.columns, map(float, a * sv_pd[0]), strict=True)),
    }


def create_app() -> FastAPI:
    """The naive app over the store named by ``BENCH_MODEL_STORE``."""
    models = Models(ModelStore(os.environ["BENCH_MODEL_STORE"]))
    app = FastAPI(title="naive assessment baseline")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/assess")
    def post_assess(body: dict[str, Any]) -> dict[str, Any]:
        return assess(models, body)

    return app
