"""Small vectorised sampling helpers shared by the generator modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from scoring.vocab.arrays import DateArray, FloatArray, IndexArray

DAYS_PER_YEAR = 365.25


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def weights(mix: Mapping[str, float], keys: Sequence[str]) -> FloatArray:
    """Probabilities of ``keys`` (vocabulary order) from a mix; absent keys get 0."""
    w = lookup(mix, keys)
    return w / float(w.sum())


def pick(rng: np.random.Generator, probs: FloatArray, size: int) -> IndexArray:
    """Indices drawn from one probability vector."""
    cum = np.cumsum(probs)
    drawn = np.searchsorted(cum / cum[-1], rng.random(size), side="right")
    return np.minimum(drawn, len(probs) - 1).astype(np.intp)


def pick_rows(rng: np.random.Generator, probs: FloatArray) -> IndexArray:
    """One index per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return np.asarray(np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1), dtype=np.intp)


def matrix(table: Mapping[str, Mapping[str, float]], rows: Sequence[str], cols: Sequence[str]) -> FloatArray:
    """A row-normalised (rows × cols) probability matrix from nested mixes."""
    return np.vstack([weights(table[r], cols) for r in rows])


def lookup(mapping: Mapping[str, float], keys: Sequence[str]) -> FloatArray:
    """Float array of ``mapping`` values in vocabulary order (missing → 0)."""
    return np.array([float(mapping.get(k, 0.0)) for k in keys], dtype=np.float64)


def years_to_days(years: FloatArray) -> NDArray[np.timedelta64]:
    """Durations in years → whole days (timedelta64[D])."""
    return np.rint(np.asarray(years) * DAYS_PER_YEAR).astype("int64").astype("timedelta64[D]")


def age_years(as_of: DateArray | np.datetime64, since: DateArray) -> FloatArray:
    """Years from ``since`` to ``as_of`` (datetime64[D] arrays)."""
    return (as_of - since).astype("timedelta64[D]").astype(np.float64) / DAYS_PER_YEAR


def interpolate(first_last: tuple[float, float], frac: FloatArray) -> FloatArray:
    """Linear drift from the first to the last vintage (``frac`` in 0..1)."""
    first, last = first_last
    return first + (last - first) * frac
