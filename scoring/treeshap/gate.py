"""The exactness gate: the kernel must equal LightGBM's ``pred_contrib`` on probes built from the model.

Two checks, on rows made of the values where LightGBM's rules can go wrong:
every threshold and the doubles either side of it, every category of every
bitset and its neighbours, the bitset's end, NaN, 0, -0, the 1e-35f zero
band, negative, fractional, 2**31 and huge values, infinities.

1. Decisions: the leaf every probe row reaches in every tree equals
   ``pred_leaf`` (cheap, so every probe value of every feature is used).
2. Values: on a sample of those rows (and one row per special value across
   all features) every SHAP value is within :data:`RELATIVE_TOLERANCE` of
   the largest absolute contribution, the expected-value column included.

The single-row (edge) kernel has its own value check on the same rows, one
row per call as it serves; its decisions are the table kernel's (the same
``go_left`` over the same node arrays), so check 1 covers both.  It serves
only where the table kernel passed; when it fails, single rows go to the
table kernel and ``row_kernel``/``row_reason`` say why.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from scoring.treeshap.engine import TreeShap
from scoring.treeshap.kernels import K_ZERO
from scoring.treeshap.tables import KernelTables

RELATIVE_TOLERANCE = 1e-9
MAX_DECISION_ROWS = 20_000
VALUE_ROWS = 96
SEED = 20240601
_TINY = float(np.nextafter(np.float32(K_ZERO), np.float32(1)))
SPECIALS = (
    *(np.nan, 0.0, -0.0, K_ZERO, -K_ZERO, _TINY, -_TINY, 1e-40, -1e-40, 0.5, -0.5, -0.99, 1.0, -1.0),
    *(2.0**31 - 1, 2.0**31, -(2.0**31), 2.0**32 + 1, 1e20, -1e20, 1e300, -1e300, np.inf, -np.inf),
)


class GateResult(BaseModel):
    """Whether a model's SHAP comes from the kernel, and why not when it does not."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    supported: bool = Field(description="The kernel passed the gate and explains this model.")
    reason: str = Field(description="Why the kernel is used, or why pred_contrib is used instead.")
    max_abs_diff: float | None = Field(None, description="Largest |kernel - pred_contrib| on the probe rows.")
    rows: int = Field(0, ge=0, description="Probe rows compared (decisions).")
    table_bytes: int = Field(0, ge=0, description="Memory of the kernel's tables, bytes.")
    row_kernel: bool = Field(
        False, description="The single-row (edge) kernel passed its own gate and explains small requests."
    )
    row_reason: str = Field("", description="Why single rows use the edge kernel, or why they do not.")
    row_max_abs_diff: float | None = Field(
        None, description="Largest |edge kernel - pred_contrib| on the probe rows, one row per call."
    )
    edge_bytes: int = Field(0, ge=0, description="Memory of the edge kernel's own arrays, bytes.")


def probe_values(tables: KernelTables) -> list[np.ndarray]:
    """Per feature, the values that test its splits (plus :data:`SPECIALS`)."""
    values: list[list[float]] = [list(SPECIALS) for _ in range(tables.num_features)]
    nodes = zip(tables.nodes_i.tolist(), tables.node_cat.tolist(), tables.nodes_f.tolist(), strict=True)
    for (feature, dtype), (start, words), threshold in nodes:
        out = values[feature]
        if dtype & 1:
            bits = tables.cat_bits[start : start + words]
            cats = [32 * w + b for w in range(words) for b in range(32) if (int(bits[w]) >> b) & 1]
            out.extend(float(c + d) for c in cats for d in (-1, 0, 0.5, 1) if c + d >= 0)
            out.extend((32.0 * words - 1, 32.0 * words, 32.0 * words + 7))
        else:
            out.extend((threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf)))
    return [np.unique(np.array(v, dtype=np.float64)) if v else np.array([0.0]) for v in values]


def probe_rows(tables: KernelTables, *, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(decision rows, value rows): every probe value of every feature in the first, a sample in the second.

    Feature ``f`` cycles through a shuffled list of its probe values, so the
    number of rows is the longest list (capped at :data:`MAX_DECISION_ROWS`,
    then each list is sampled).  The value rows are a random sample of those
    plus one row per special value (every feature NaN, every feature 0, ...).
    """
    rng = np.random.default_rng(seed)
    values = probe_values(tables)
    n = min(max(len(v) for v in values), MAX_DECISION_ROWS)
    cols = []
    for v in values:
        order = rng.permutation(len(v))
        if len(v) > n:
            order = order[:n]
        cols.append(v[order[np.arange(n) % len(order)]])
    decisions = np.stack(cols, axis=1) if cols else np.zeros((n, 0))
    specials = np.repeat(np.array(SPECIALS, dtype=np.float64)[:, None], tables.num_features, axis=1)
    sample = decisions[rng.choice(n, size=min(n, VALUE_ROWS), replace=False)]
    return decisions, np.concatenate([specials, sample])


def _check_decisions(booster: lgb.Booster, kernel: TreeShap, rows: np.ndarray) -> str | None:
    ours = kernel.leaves(rows)
    theirs = np.asarray(booster.predict(rows, pred_leaf=True, num_threads=1), dtype=np.int64)
    theirs = theirs.reshape(rows.shape[0], -1)
    if theirs.shape != ours.shape:
        return f"pred_leaf has {theirs.shape[1]} trees, the kernel {ours.shape[1]}"
    bad = np.argwhere(ours != theirs)
    if len(bad):
        r, t = (int(i) for i in bad[0])
        return (
            f"split decisions differ from LightGBM's on {len(bad)} (row, tree) pairs; first: tree {t}, "
            f"leaf {ours[r, t]} here and {theirs[r, t]} in LightGBM"
        )
    return None


def check_exact(booster: lgb.Booster, kernel: TreeShap) -> GateResult:
    """Compare ``kernel`` with ``booster.predict(pred_contrib=True)`` on probes built from the model.

    Parameters
    ----------
    booster
        The ``lightgbm.Booster`` the kernel was built from (its predictions use
        the same iterations as its model text).
    kernel
        The kernel under test.

    Returns
    -------
    GateResult
        ``supported`` only if every decision and every value agrees; otherwise
        the first disagreement, by tree or by size.
    """
    decisions, values = probe_rows(kernel.tables)
    size: dict[str, Any] = {"rows": len(decisions), "table_bytes": kernel.tables.nbytes}
    why = _check_decisions(booster, kernel, decisions)
    if why is not None:
        return GateResult(supported=False, reason=why, max_abs_diff=None, **size)
    ref = np.asarray(booster.predict(values, pred_contrib=True, num_threads=1), dtype=np.float64)
    got = kernel.contributions(values)
    if ref.shape != got.shape:
        reason = f"pred_contrib has shape {ref.shape}, the kernel {got.shape}"
        return GateResult(supported=False, reason=reason, max_abs_diff=None, **size)
    diff = float(np.max(np.abs(got - ref), initial=0.0))
    scale = float(np.max(np.abs(ref[:, :-1]), initial=0.0)) or max(float(np.max(np.abs(ref[:, -1]))), 1.0)
    if not np.all(np.isfinite(got)) or not diff <= RELATIVE_TOLERANCE * scale:
        return GateResult(
            supported=False,
            reason=f"values differ from pred_contrib by {diff:.3g} (largest contribution {scale:.3g}, "
            f"tolerance {RELATIVE_TOLERANCE:g} relative)",
            max_abs_diff=diff if np.isfinite(diff) else None,
            **size,
        )
    return GateResult(
        supported=True,
        reason=f"exact: equal to pred_contrib within {diff:.2g} on {len(values)} rows, "
        f"decisions equal on {len(decisions)} probe rows",
        max_abs_diff=diff,
        **size,
        **check_row_kernel(kernel, values, ref, scale),
    )


def check_row_kernel(kernel: TreeShap, values: np.ndarray, ref: np.ndarray, scale: float) -> dict[str, Any]:
    """The edge kernel's gate: ``row_*`` fields of :class:`GateResult`, on the value rows, one row per call.

    Parameters
    ----------
    kernel
        A kernel whose table kernel passed the gate.
    values, ref
        The value probe rows and ``pred_contrib`` of them.
    scale
        The largest absolute contribution (the tolerance is relative to it).
    """
    if kernel.edges is None:
        return {"row_reason": "no edge kernel for this model: single rows use the table kernel"}
    got = np.concatenate([kernel.row_contributions(values[i : i + 1]) for i in range(len(values))])
    diff = float(np.max(np.abs(got - ref), initial=0.0))
    out: dict[str, Any] = {"edge_bytes": kernel.edges.nbytes, "row_max_abs_diff": diff if np.isfinite(diff) else None}
    if got.shape != ref.shape or not np.all(np.isfinite(got)) or not diff <= RELATIVE_TOLERANCE * scale:
        out["row_reason"] = (
            f"edge kernel differs from pred_contrib by {diff:.3g} (largest contribution {scale:.3g}, tolerance "
            f"{RELATIVE_TOLERANCE:g} relative): single rows use the table kernel"
        )
        return out
    out["row_kernel"] = True
    out["row_reason"] = f"exact: edge kernel equal to pred_contrib within {diff:.2g} on {len(values)} single rows"
    return out
