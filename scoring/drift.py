"""Population stability: PSI between a reference sample and recent traffic."""

from __future__ import annotations

import numpy as np

PSI_WATCH = 0.10
PSI_ACT = 0.25
_EPS = 1e-4


def reference_bins(values: np.ndarray, *, n_bins: int = 10) -> dict[str, list[float]]:
    """Quantile bin edges and reference shares for one feature.

    Missing values get their own bin (the last share).
    """
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        edges = np.array([])
    else:
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return {"edges": edges.tolist(), "shares": bin_shares(v, edges).tolist()}


def bin_shares(values: np.ndarray, edges: np.ndarray | list[float]) -> np.ndarray:
    """Share of ``values`` in each bin defined by ``edges``, plus a missing bin."""
    v = np.asarray(values, dtype=float)
    e = np.asarray(edges, dtype=float)
    missing = ~np.isfinite(v)
    idx = np.searchsorted(e, v[~missing], side="right")
    counts = np.bincount(idx, minlength=len(e) + 1).astype(float)
    counts = np.append(counts, missing.sum())
    return counts / max(len(v), 1)


def psi(expected: np.ndarray | list[float], actual: np.ndarray | list[float]) -> float:
    """Population stability index Σ (a − e) · ln(a / e) over bins."""
    e = np.clip(np.asarray(expected, dtype=float), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_band(value: float) -> str:
    """``stable`` (<0.10), ``watch`` (0.10–0.25) or ``act`` (>0.25)."""
    if value < PSI_WATCH:
        return "stable"
    return "watch" if value <= PSI_ACT else "act"
