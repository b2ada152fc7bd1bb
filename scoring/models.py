"""Loaded models: LightGBM boosters built from text, ready for request-time use.

Nothing here reads files: callers hand over the model text and the manifest
(as a plain mapping), so the same object serves the API, batch scoring and
training evaluation.  Prediction runs single-threaded: on a shared 2-core
machine OpenMP threads across workers make tail latency far worse.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np

from scoring.features import FeatureSpec
from scoring.vocab.arrays import FloatArray

if TYPE_CHECKING:
    from scoring.treeshap import Explainer, GateResult

PREDICT_THREADS = 1


def _predict(booster: lgb.Booster, x: FloatArray, *, raw_score: bool = False, pred_contrib: bool = False) -> FloatArray:
    """One single-threaded LightGBM prediction over a dense matrix, as float64."""
    out = booster.predict(x, raw_score=raw_score, pred_contrib=pred_contrib, num_threads=PREDICT_THREADS)
    if not isinstance(out, np.ndarray):  # LightGBM answers sparse only for sparse input
        raise TypeError(f"LightGBM returned {type(out).__name__} for a dense matrix")
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class Explanation:
    """Exact TreeSHAP contributions of one row.

    ``base_value + sum(contributions) == output`` in ``space``.
    """

    space: str
    base_value: float
    contributions: dict[str, float]
    output: float


@dataclass(frozen=True)
class LoadedModel:
    """One model version: boosters by role, feature specs, optional calibration."""

    name: str
    version: str
    task: str
    features: tuple[FeatureSpec, ...]
    boosters: Mapping[str, lgb.Booster]
    calibration: tuple[float, float] | None = None
    manifest: Mapping[str, Any] = field(default_factory=dict)
    offsets: Mapping[str, float] = field(default_factory=dict)
    _explainers: dict[str, Explainer] = field(default_factory=dict, init=False, repr=False, compare=False)
    _explainers_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def feature_names(self) -> list[str]:
        """Feature names in matrix column order."""
        return [f.name for f in self.features]

    def raw(self, x: FloatArray, role: str = "main") -> FloatArray:
        """Raw score (log-odds, or log-value for regressions), calibrated when set."""
        out = _predict(self.boosters[role], x, raw_score=True)
        if self.calibration is not None and role == "main":
            a, b = self.calibration
            out = a * out + b
        return out + self.offsets.get(role, 0.0)

    def contributions(self, x: FloatArray, role: str = "main") -> FloatArray:
        """TreeSHAP matrix (n, n_features + 1), last column the expected value.

        Scaled by the calibration slope (and the intercept and any role offset
        added to the last column) so each row still sums to :meth:`raw`.
        """
        return self._scaled(self.explainer(role).contributions(x), role)

    def explainer(self, role: str = "main") -> Explainer:
        """The role's SHAP: the exact kernel where its gate passed, else ``pred_contrib`` (built once, gated).

        :func:`load_model` builds them all at load; a model made otherwise
        (a fit being evaluated) builds each on first use.
        """
        found = self._explainers.get(role)
        if found is None:
            from scoring.treeshap import explainer_for  # numba loads only where SHAP is computed

            with self._explainers_lock:
                found = self._explainers.get(role)
                if found is None:
                    found = self._explainers[role] = explainer_for(self.boosters[role])
        return found

    def shap_gates(self) -> dict[str, GateResult]:
        """Per role, whether the exact kernel explains it and why (or why ``pred_contrib`` does)."""
        return {role: self.explainer(role).gate for role in self.boosters}

    def _scaled(self, contrib: FloatArray, role: str) -> FloatArray:
        contrib = np.asarray(contrib, dtype=np.float64)
        if self.calibration is not None and role == "main":
            a, b = self.calibration
            contrib = contrib * a
            contrib[:, -1] += b
        contrib[:, -1] += self.offsets.get(role, 0.0)
        return contrib

    def explain(self, x: FloatArray, role: str = "main", *, space: str) -> list[Explanation]:
        """Explanations for every row of ``x``."""
        return self.explanations(self.contributions(x, role), space=space)

    def explanations(self, contrib: FloatArray, *, space: str) -> list[Explanation]:
        """Explanations of rows of a :meth:`contributions` matrix."""
        names = self.feature_names
        return [
            Explanation(
                space=space,
                base_value=float(row[-1]),
                contributions={n: float(v) for n, v in zip(names, row[:-1], strict=True)},
                output=float(row.sum()),
            )
            for row in contrib
        ]


def sigmoid(z: FloatArray) -> FloatArray:
    """Logistic function, overflow-safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def feature_specs_from_manifest(items: list[Mapping[str, Any]]) -> tuple[FeatureSpec, ...]:
    """Rebuild feature specs from manifest entries."""
    return tuple(
        FeatureSpec(
            name=str(i["name"]),
            kind=i.get("kind", "numeric"),
            categories=tuple(i["categories"]) if i.get("categories") else None,
            monotone=int(i.get("monotone", 0) or 0),
        )
        for i in items
    )


def load_model(manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> LoadedModel:
    """Build a :class:`LoadedModel` from a manifest and its model files.

    Files named ``model.txt`` give the ``main`` booster; ``model_<role>.txt``
    give role boosters (``p10``, ``p50``, ``p90`` for valuation).  Each booster's SHAP kernel is
    built and gated here (:meth:`LoadedModel.shap_gates`), off the request path.
    """
    boosters: dict[str, lgb.Booster] = {}
    for fname, data in files.items():
        if not fname.startswith("model") or not fname.endswith(".txt"):
            continue
        role = "main" if fname == "model.txt" else fname[len("model_") : -len(".txt")]
        boosters[role] = lgb.Booster(model_str=data.decode("utf-8"))
    extra = manifest.get("extra") or {}
    cal = extra.get("calibration")
    calibration = (float(cal["a"]), float(cal["b"])) if cal else None
    model = LoadedModel(
        name=str(manifest["name"]),
        version=str(manifest["version"]),
        task=str(manifest["task"]),
        features=feature_specs_from_manifest(list(manifest["features"])),
        boosters=boosters,
        calibration=calibration,
        manifest=manifest,
        offsets={str(k): float(v) for k, v in (extra.get("offsets") or {}).items()},
    )
    model.shap_gates()  # the SHAP kernels built and gated now, before the model serves
    return model
