"""Population stability: PSI between a reference sample and recent traffic."""

from __future__ import annotations

import numpy as np

from scoring.vocab.arrays import FloatArray

PSI_WATCH = 0.10
PSI_ACT = 0.25
_EPS = 1e-4


def reference_bins(values: FloatArray, *, n_bins: int = 10) -> dict[str, list[float]]:
    """Quantile bin edges and reference shares for one feature.

    Missing values get their own bin (the last share).
    """
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        edges = np.array([])
    else:
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return {"edges": edges.tolist(), "shares": bin_shares(v, edges).tolist()}


def bin_shares(values: FloatArray, edges: FloatArray | list[float]) -> FloatArray:
    """Share of ``values`` in each bin defined by ``edges``, plus a missing bin."""
    v = np.asarray(values, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    missing = ~np.isfinite(v)
    idx = np.searchsorted(e, v[~missing], side="right")
    counts = np.append(np.bincount(idx, minlength=len(e) + 1), np.count_nonzero(missing)).astype(np.float64)
    return counts / max(len(v), 1)


def psi(expected: FloatArray | list[float], actual: FloatArray | list[float]) -> float:
    """Population stability index Σ (a − e) · ln(a / e) over bins."""
    e = np.clip(np.asarray(expected, dtype=np.float64), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_band(value: float) -> str:
    """``stable`` (<0.10), ``watch`` (0.10–0.25) or ``act`` (>0.25)."""
    if value < PSI_WATCH:
        return "stable"
    return "watch" if value <= PSI_ACT else "act"
