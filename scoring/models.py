"""Loaded models: LightGBM boosters built from text, ready for request-time use.

Nothing here reads files: callers hand over the model text and the manifest
(as a plain mapping), so the same object serves the API, batch scoring and
training evaluation.  Prediction runs single-threaded: on a shared 2-core
machine OpenMP threads across workers make tail latency far worse.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import lightgbm as lgb
import numpy as np

from scoring.features import FeatureSpec

if TYPE_CHECKING:
    from scoring.treeshap import Explainer, GateResult

PREDICT_PARAMS = {"num_threads": 1}
T = TypeVar("T")


class Offload(Protocol):
    """Starts a computation (maybe partly on another thread); returns the call that waits for its parts.

    ``split(n)`` gives ``n`` calls that together make the computation (the
    caller adds their results up).  The scoring pipeline hands over the one
    computation nothing else waits on (the valuation's SHAP) so that a caller
    with a spare core can run it beside the rest of the assessment.  The join
    returns the parts' results in order and re-raises a part's error.
    """

    def __call__(self, split: Callable[[int], Sequence[Callable[[], T]]], /) -> Callable[[], list[T]]: ...


def inline(split: Callable[[int], Sequence[Callable[[], T]]], /) -> Callable[[], list[T]]:
    """The :class:`Offload` that runs the computation whole, at once, on the caller's thread."""
    results = [part() for part in split(1)]
    return lambda: results


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
    _split: dict[tuple[str, int], tuple[lgb.Booster, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _split_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _explainers: dict[str, Explainer] = field(default_factory=dict, init=False, repr=False, compare=False)
    _explainers_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def feature_names(self) -> list[str]:
        """Feature names in matrix column order."""
        return [f.name for f in self.features]

    def raw(self, x: np.ndarray, role: str = "main") -> np.ndarray:
        """Raw score (log-odds, or log-value for regressions), calibrated when set."""
        out = np.asarray(self.boosters[role].predict(x, raw_score=True, **PREDICT_PARAMS), dtype=float)
        if self.calibration is not None and role == "main":
            a, b = self.calibration
            out = a * out + b
        return out + self.offsets.get(role, 0.0)

    def contributions(self, x: np.ndarray, role: str = "main") -> np.ndarray:
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

    def contribution_parts(self, x: np.ndarray, role: str, n: int) -> list[Callable[[], np.ndarray]]:
        """:meth:`contributions` as ``n`` calls over consecutive ranges of trees; their sum is the whole.

        TreeSHAP is computed tree by tree and added up, so the parts are exact:
        they differ from one call only in the order of the additions (about
        1e-14 here).  The first part carries the intercept and offsets.  With
        the SHAP kernel the parts are its tree ranges (it is thread-safe);
        under ``pred_contrib`` each part has a booster of its own
        (:meth:`split_boosters`), so parts may run on several threads at once.
        """
        if n <= 1 or self.boosters[role].current_iteration() < 2:
            return [lambda: self.contributions(x, role)]
        kernel = self.explainer(role).kernel
        if kernel is not None:
            trees = kernel.tables.num_trees
            edges = np.linspace(0, trees, min(n, trees) + 1).round().astype(int).tolist()
            found = kernel

            def part(i: int, trees: tuple[int, int]) -> Callable[[], np.ndarray]:
                return lambda: self._scaled(found.contributions(x, trees=trees), role, first=i == 0)

            return [part(i, r) for i, r in enumerate(itertools.pairwise(edges))]
        return [
            (lambda i=i, b=b: self._scaled(b.predict(x, pred_contrib=True, **PREDICT_PARAMS), role, first=i == 0))
            for i, b in enumerate(self.split_boosters(role, n))
        ]

    def split_boosters(self, role: str, n: int) -> tuple[lgb.Booster, ...]:
        """``n`` boosters over consecutive ranges of the role's trees, built once per model and ``n``.

        Separate boosters, not one booster called with ``start_iteration``:
        LightGBM keeps the iteration range of a prediction on the booster, so
        two threads predicting different ranges of one booster at once get
        each other's trees (235 of 400 such predictions were wrong here,
        ``docs/performance.md``).
        """
        key = (role, n)
        found = self._split.get(key)
        if found is None:
            with self._split_lock:
                found = self._split.get(key)
                if found is None:
                    whole = self.boosters[role]
                    iterations = whole.current_iteration()
                    edges = np.linspace(0, iterations, min(n, iterations) + 1).round().astype(int).tolist()
                    found = tuple(
                        lgb.Booster(model_str=whole.model_to_string(start_iteration=a, num_iteration=b - a))
                        for a, b in itertools.pairwise(edges)
                    )
                    self._split[key] = found
        return found

    def _scaled(self, contrib: np.ndarray, role: str, *, first: bool = True) -> np.ndarray:
        contrib = np.asarray(contrib, dtype=float)
        if self.calibration is not None and role == "main":
            a, b = self.calibration
            contrib = contrib * a
            if first:
                contrib[:, -1] += b
        if first:
            contrib[:, -1] += self.offsets.get(role, 0.0)
        return contrib

    def explain(self, x: np.ndarray, role: str = "main", *, space: str) -> list[Explanation]:
        """Explanations for every row of ``x``."""
        return self.explanations(self.contributions(x, role), space=space)

    def explanations(self, contrib: np.ndarray, *, space: str) -> list[Explanation]:
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


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, overflow-safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


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
