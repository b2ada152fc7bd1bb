"""Promote a model version to champion after its gates pass, or by force with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from models_store import ModelStore
from scoring.models import LoadedModel
from training.contract import load_dataset
from training.evaluate import evaluate_binary, evaluate_lgd, evaluate_valuation
from training.gates import GateResult, check_gates, load_gates
from training.generic import generic_holdout_metrics
from training.pipeline import REVIEW_CAPACITY
from training.prepare import Prepared, prepare_claims, prepare_lgd, prepare_pd, prepare_valuation
from training.registry import load_version


class PromotionRefused(RuntimeError):
    """The candidate failed its gates and promotion was not forced."""

    def __init__(self, result: GateResult) -> None:
        super().__init__(str(result))
        self.result = result


def _prepare(store: ModelStore, model: LoadedModel, data: dict[str, Any]) -> Prepared:
    if model.name == "valuation":
        return prepare_valuation(data)
    vv = (model.manifest.get("extra") or {}).get("valuation_version")
    valuation = load_version(store, f"valuation:{vv}") if vv else None
    if model.name == "pd":
        return prepare_pd(data, valuation)
    if model.name == "claim_review":
        return prepare_claims(data, valuation)
    if model.name == "lgd":
        return prepare_lgd(data, valuation)
    raise ValueError(f"no bundled test data recipe for model {model.name!r}")


def holdout_metrics(store: ModelStore, model: LoadedModel, data: dict[str, Any]) -> dict[str, Any]:
    """Flat out-of-time metrics of one version on ``data`` (same split for every version)."""
    extra = model.manifest.get("extra") or {}
    if extra.get("generic"):
        return generic_holdout_metrics(model, data["frame"])
    prep = _prepare(store, model, data)
    if model.task == "quantile_regression":
        return evaluate_valuation(model, prep)
    if model.task == "fraction":
        return dict(evaluate_lgd(model, prep)["model"])
    m = evaluate_binary(model, prep, capacity=REVIEW_CAPACITY)
    return dict(m["model"])


def evaluate_promotion(store: ModelStore, name: str, version: str, data_dir: Path) -> GateResult:
    """Run the gates of ``name:version`` against the current champion on ``data_dir``."""
    candidate = load_version(store, f"{name}:{version}")
    if (candidate.manifest.get("extra") or {}).get("generic"):
        data: dict[str, Any] = {"frame": pd.read_csv(data_dir)}
    else:
        data = load_dataset(data_dir)
    champ_version = store.alias(name, "champion")
    champion = None
    if champ_version is not None and champ_version != version:
        champion = holdout_metrics(store, load_version(store, f"{name}:{champ_version}"), data)
    gates = load_gates().get(name) or load_gates()[f"generic_{candidate.task}"]
    return check_gates(name, gates, holdout_metrics(store, candidate, data), champion)


def promote(
    store: ModelStore, name: str, version: str, *, actor: str, reason: str, data_dir: Path | None, force: bool = False
) -> GateResult | None:
    """Promote after the gates pass; with ``force`` promote anyway and record it as forced.

    Raises
    ------
    PromotionRefused
        The gates failed and ``force`` is false.
    ValueError
        ``force`` without a reason, or gates required but no test data given.
    """
    if force and not reason.strip():
        raise ValueError("a forced promotion must give a reason")
    result = None
    if data_dir is not None:
        result = evaluate_promotion(store, name, version, data_dir)
    elif not force:
        raise ValueError("gates need test data: pass --data DIR (or --force with a reason)")
    if result is not None and not result.passed and not force:
        raise PromotionRefused(result)
    forced = force and (result is None or not result.passed)
    store.promote(name, version, actor=actor, reason=reason or "gates passed", forced=forced)
    return result
