"""One booster's SHAP: the kernel where the gate proved it exact, LightGBM's ``pred_contrib`` elsewhere."""

from __future__ import annotations

import time
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from scoring.treeshap.engine import TreeShap
from scoring.treeshap.gate import GateResult, check_exact
from scoring.treeshap.linear import EdgeTables, build_edges
from scoring.treeshap.tables import TooLarge, build_tables
from scoring.treeshap.trees import ParsedModel, parse_model

# Up to this many rows a call goes to the edge kernel when its gate passed: below it the edge kernel is faster
# than the table kernel, measured (benchmarks/bench_explain.py, "rows" in docs/performance.md).
ROW_KERNEL_MAX_ROWS = 2


@dataclass(frozen=True)
class Explainer:
    """SHAP of one booster; ``gate`` says which implementation runs and why.

    ``kernel`` is None whenever the gate refused it: the fallback is
    visible in ``gate``, never silent.  Calls of at most
    :data:`ROW_KERNEL_MAX_ROWS` rows (an assessment's or a valuation's
    patents) go to the edge kernel when ``gate.row_kernel``; larger ones to
    the table kernel.
    """

    booster: lgb.Booster
    kernel: TreeShap | None
    gate: GateResult
    build_seconds: float = 0.0

    @property
    def uses_kernel(self) -> bool:
        """Whether :meth:`contributions` runs the kernel."""
        return self.kernel is not None

    def contributions(self, x: np.ndarray, *, threads: int = 1) -> np.ndarray:
        """``(n_rows, n_features + 1)`` SHAP values in raw-score space, last column the expected value."""
        if self.kernel is not None:
            if self.gate.row_kernel and len(x) <= ROW_KERNEL_MAX_ROWS:
                return self.kernel.row_contributions(x)
            return self.kernel.contributions(x, threads=threads)
        return np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=threads), dtype=np.float64)


def _refused(reason: str) -> GateResult:
    return GateResult(supported=False, reason=reason, max_abs_diff=None, rows=0, table_bytes=0)


def explainer_for(booster: lgb.Booster) -> Explainer:
    """Build the kernel for ``booster`` and gate it against ``pred_contrib``.

    Parameters
    ----------
    booster
        A LightGBM booster (the iterations its predictions use are the ones
        its model text holds).

    Returns
    -------
    Explainer
        With the kernel when it passed the gate; otherwise with the reason
        (unsupported structure, size, or the first disagreement found) and
        ``pred_contrib`` as the implementation.
    """
    t0 = time.perf_counter()
    try:
        kernel, gate = _build_and_gate(booster)
    except Exception as exc:  # noqa: BLE001 - the model still serves, on pred_contrib, and says why
        kernel, gate = None, _refused(f"the kernel could not be built: {type(exc).__name__}: {exc}")
    return Explainer(booster, kernel if gate.supported else None, gate, time.perf_counter() - t0)


def _build_and_gate(booster: lgb.Booster) -> tuple[TreeShap | None, GateResult]:
    parsed = parse_model(booster.model_to_string())
    if parsed.unsupported:
        return None, _refused("unsupported: " + "; ".join(parsed.unsupported))
    try:
        tables = build_tables(parsed)
    except TooLarge as exc:
        return None, _refused(f"unsupported: {exc}")
    edges, why_not = _edges(parsed)
    kernel = TreeShap(tables, edges)
    gate = check_exact(booster, kernel)
    if why_not is not None and gate.supported:
        gate = gate.model_copy(update={"row_reason": f"no edge kernel ({why_not}): single rows use the table kernel"})
    return kernel, gate


def _edges(parsed: ParsedModel) -> tuple[EdgeTables | None, str | None]:
    """The edge kernel's arrays, or None and why not."""
    try:
        return build_edges(parsed), None
    except ValueError as exc:
        return None, str(exc)
