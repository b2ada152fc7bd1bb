"""Bridge between the model store (files, manifests) and loaded scoring models."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import lightgbm as lgb

from models_store import ModelStore
from models_store.digests import sha256_file, sha256_files
from scoring.models import LoadedModel, load_model
from scoring.treeshap import explainer_for
from training.confidence import assess_confidence
from training.contract import TABLES, find_table_file
from training.fit import Fitted


def load_version(store: ModelStore, ref: str) -> LoadedModel:
    """Load and verify ``name``, ``name@alias`` or ``name:version`` from the store."""
    return load_model(*store.read_version(*store.resolve(ref)))


def data_fingerprint(directory: Path) -> str:
    """sha256 over the contract files of a data directory (names and bytes)."""
    paths = (find_table_file(directory, name) for name in sorted(TABLES))
    return sha256_files([p for p in paths if p is not None], with_names=True)


def shap_gates(fitted: Fitted) -> dict[str, dict[str, Any]]:
    """Per role, the exactness gate of the SHAP kernel on the booster as stored (its model text).

    Recorded in the manifest, so the model card says whether explanations of
    this version come from the kernel or from ``pred_contrib``, and why.
    """
    return {
        role: explainer_for(lgb.Booster(model_str=b.model_to_string())).gate.model_dump(mode="json")
        for role, b in fitted.boosters.items()
    }


def register_fit(
    store: ModelStore,
    name: str,
    fitted: Fitted,
    *,
    metrics: dict[str, Any],
    fingerprint: str,
    actor: str,
    synthetic: bool,
    extra: dict[str, Any] | None = None,
) -> str:
    """Register a fitted model; return its new version.

    The manifest records whether the model is weak or thinly evidenced
    (``extra.confidence``, :mod:`training.confidence`), for every answer that uses it.
    """
    features = [{k: v for k, v in asdict(f).items() if v is not None} for f in fitted.features]
    for f in features:
        if "categories" in f:
            f["categories"] = list(f["categories"])
    manifest = store.register(
        name,
        fitted.files(),
        task=fitted.task,
        features=features,
        params=fitted.params,
        metrics=metrics,
        data_fingerprint=fingerprint,
        created_by=actor,
        extra={
            **fitted.extra,
            "shap_kernel": shap_gates(fitted),
            "confidence": assess_confidence(name, metrics),
            **(extra or {}),
        },
        synthetic=synthetic,
    )
    return str(manifest.version)


def data_fingerprint_file(path: Path) -> str:
    """sha256 of one data file."""
    return sha256_file(path)
