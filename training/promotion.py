"""Promote a model version to champion after its gates pass, or by force with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models_store import ModelStore
from scoring.models import LoadedModel
from training.contract import load_dataset
from training.evaluate import evaluate_binary, evaluate_lgd, evaluate_valuation
from training.gates import GateCheck, GateResult, check_gates, load_gates
from training.generic import generic_holdout_metrics
from training.pipeline import REVIEW_CAPACITY
from training.prepare import Prepared, prepare_claims, prepare_lgd, prepare_pd, prepare_valuation
from training.registry import load_version
from training.tabular import read_table


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
        fmt = (candidate.manifest.get("extra") or {}).get("data_format") or {}
        frame, _ = read_table(data_dir, encoding=fmt.get("encoding"), separator=fmt.get("separator"))
        data: dict[str, Any] = {"frame": frame}
    else:
        data = load_dataset(data_dir)
    champ_version = store.alias(name, "champion")
    champion = None
    if champ_version is not None and champ_version != version:
        champion = holdout_metrics(store, load_version(store, f"{name}:{champ_version}"), data)
    gates = load_gates().get(name) or load_gates()[f"generic_{candidate.task}"]
    return check_gates(name, gates, holdout_metrics(store, candidate, data), champion)


def _meaning(manifest: Any) -> dict[str, Any]:
    extra = manifest.extra or {}
    return {"task": manifest.task, "target": extra.get("target"), "positive_label": extra.get("positive_label")}


def meaning_check(store: ModelStore, name: str, version: str) -> GateCheck | None:
    """Does ``name:version`` predict the same thing as the champion (task, target, positive label)?

    A challenger trained on the other orientation of the same target passes every
    metric gate (its AUC is the same) while every score flips meaning, so this
    check comes first and needs no data. ``None`` when there is no other champion.
    """
    champ_version = store.alias(name, "champion")
    if champ_version is None or champ_version == version:
        return None
    cand, champ = _meaning(store.manifest(name, version)), _meaning(store.manifest(name, champ_version))
    differ = [k for k in cand if cand[k] != champ[k]]
    reason = (
        "; ".join(f"{k} {cand[k]!r} differs from the champion's {champ[k]!r}" for k in differ)
        if differ
        else f"same task, target {cand['target']!r} and positive label {cand['positive_label']!r} as the champion"
    )
    return GateCheck(metric="meaning", candidate=None, champion=None, passed=not differ, reason=reason)


def promote(
    store: ModelStore, name: str, version: str, *, actor: str, reason: str, data_dir: Path | None, force: bool = False
) -> GateResult | None:
    """Promote after the gates pass; with ``force`` promote anyway and record it as forced.

    Raises
    ------
    PromotionRefused
        The candidate predicts something else than the champion (target or
        positive label), or the gates failed, and ``force`` is false.
    ValueError
        ``force`` without a reason, or gates required but no test data given.
    """
    if force and not reason.strip():
        raise ValueError("a forced promotion must give a reason")
    meaning = meaning_check(store, name, version)
    if meaning is not None and not meaning.passed and not force:
        raise PromotionRefused(GateResult(name=name, passed=False, checks=[meaning]))
    result = None
    if data_dir is not None:
        result = evaluate_promotion(store, name, version, data_dir)
        if meaning is not None:
            result = GateResult(name=name, passed=result.passed and meaning.passed, checks=[meaning, *result.checks])
    elif not force:
        raise ValueError("gates need test data: pass --data DIR (or --force with a reason)")
    if result is not None and not result.passed and not force:
        raise PromotionRefused(result)
    forced = force and (result is None or not result.passed or (meaning is not None and not meaning.passed))
    store.promote(name, version, actor=actor, reason=reason or "gates passed", forced=forced)
    return result
