"""Small vectorised sampling helpers shared by the generator modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DAYS_PER_YEAR = 365.25


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def weights(mix: Mapping[str, float], keys: Sequence[str]) -> np.ndarray:
    """Probabilities of ``keys`` (vocabulary order) from a mix; absent keys get 0."""
    w = np.array([float(mix.get(k, 0.0)) for k in keys])
    return w / w.sum()


def pick(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from one probability vector."""
    cum = np.cumsum(probs)
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(size), side="right"), len(probs) - 1)


def pick_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One index per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0])[:, None] * cum[:, -1:]
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def matrix(table: Mapping[str, Mapping[str, float]], rows: Sequence[str], cols: Sequence[str]) -> np.ndarray:
    """A row-normalised (rows × cols) probability matrix from nested mixes."""
    return np.vstack([weights(table[r], cols) for r in rows])


def lookup(mapping: Mapping[str, float], keys: Sequence[str]) -> np.ndarray:
    """Float array of ``mapping`` values in vocabulary order (missing → 0)."""
    return np.array([float(mapping.get(k, 0.0)) for k in keys])


def years_to_days(years: np.ndarray) -> np.ndarray:
    """Durations in years → whole days (timedelta64[D])."""
    return np.rint(np.asarray(years) * DAYS_PER_YEAR).astype("int64").astype("timedelta64[D]")


def age_years(as_of: np.ndarray, since: np.ndarray) -> np.ndarray:
    """Years from ``since`` to ``as_of`` (datetime64[D] arrays)."""
    return (as_of - since).astype("timedelta64[D]").astype(float) / DAYS_PER_YEAR


def interpolate(first_last: tuple[float, float] | np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Linear drift from the first to the last vintage (``frac`` in 0..1)."""
    first, last = first_last[0], first_last[1]
    return first + (last - first) * frac
