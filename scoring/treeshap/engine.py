"""The kernel for one model: rows in, a ``pred_contrib``-shaped matrix out, on one or more threads."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import numpy as np

from scoring.treeshap.kernels import K_ZERO, leaf_indices, shap_rows
from scoring.treeshap.linear import EdgeTables, build_edges, shap_edges
from scoring.treeshap.tables import KernelTables, build_tables
from scoring.treeshap.trees import parse_model

# Rows per block: a block's output (64 rows x ~30 features x 8 bytes) and one tree's tables stay in L1/L2.
BLOCK_ROWS = 64
PREFETCH = True


def model_rows(x: np.ndarray, num_features: int) -> np.ndarray:
    """``x`` as LightGBM's predictor sees it: C-ordered float64, ``|v| <= 1e-35f`` read as 0.

    LightGBM drops such values when it reads a dense row (they count as
    absent, i.e. 0.0), before any split sees them.
    """
    rows = np.array(x, dtype=np.float64, order="C", ndmin=2, copy=True)
    if rows.ndim != 2 or rows.shape[1] != num_features:
        raise ValueError(f"expected rows of {num_features} features, got shape {np.shape(x)}")
    rows[np.abs(rows) <= K_ZERO] = 0.0
    return rows


@dataclass(frozen=True)
class TreeShap:
    """Exact path-dependent TreeSHAP of one LightGBM model: two kernels over the same node arrays.

    :meth:`contributions` reads precomputed per-leaf tables (fastest per row
    when many rows share them); :meth:`row_contributions` reads only the
    tree's edges (:mod:`scoring.treeshap.linear`), so a single row costs
    little when other work has evicted the caches.  ``edges`` is None when
    the model is beyond the edge kernel (see :func:`build_edges`).
    Thread-safe: the arrays are read-only and each call has its own scratch.
    """

    tables: KernelTables
    edges: EdgeTables | None = None

    @classmethod
    def from_model_text(cls, text: str) -> TreeShap:
        """Parse and tabulate a model text; ValueError naming the reason when it is not supported."""
        parsed = parse_model(text)
        if parsed.unsupported:
            raise ValueError("; ".join(parsed.unsupported))
        return cls(build_tables(parsed), build_edges(parsed))

    @property
    def num_features(self) -> int:
        """Input columns."""
        return self.tables.num_features

    def contributions(self, x: np.ndarray, *, trees: tuple[int, int] | None = None, threads: int = 1) -> np.ndarray:
        """SHAP values of rows ``x`` in raw-score space, as ``pred_contrib`` gives them.

        Parameters
        ----------
        x
            Rows by features (model column order); NaN is a missing value.
        trees
            ``(first, end)``: only these trees (their expected values in the
            last column).  Parts over consecutive ranges add up to the whole.
        threads
            Threads to split the rows across (the kernel releases the GIL).

        Returns
        -------
        numpy.ndarray
            ``(n_rows, n_features + 1)``; the last column is the expected value.
        """
        rows = model_rows(x, self.num_features)
        t = self.tables
        lo, hi = trees if trees is not None else (0, t.num_trees)
        out = np.zeros((rows.shape[0], self.num_features + 1))
        n = rows.shape[0]
        threads = max(1, min(threads, n // BLOCK_ROWS))
        if threads == 1:
            self._run(rows, out, 0, n, lo, hi)
        else:
            self._run_threads(rows, out, lo, hi, threads)
        out[:, -1] = t.total_bias if trees is None else t.bias(lo, hi)
        return out

    def row_contributions(self, x: np.ndarray) -> np.ndarray:
        """The same values as :meth:`contributions` (within rounding), from the edge kernel, one row at a time.

        Raises
        ------
        ValueError
            When the model has no edge arrays (``edges`` is None) or ``x``
            has the wrong number of columns.
        """
        if self.edges is None:
            raise ValueError("this model has no edge kernel")
        rows = model_rows(x, self.num_features)
        t, e = self.tables, self.edges
        out = np.zeros((rows.shape[0], self.num_features + 1))
        shap_edges(
            rows, out, t.nodes_i, t.nodes_f, t.node_cat, t.cat_bits, t.tree_nodes, e.node_edges, e.node_zv,
            e.tree_edges, e.points, e.weights,
        )  # fmt: skip
        out[:, -1] = t.total_bias
        return out

    def _run(self, rows: np.ndarray, out: np.ndarray, a: int, b: int, lo: int, hi: int) -> None:
        t = self.tables
        shap_rows(
            rows, out, a, b, lo, hi, BLOCK_ROWS, t.nodes_i, t.nodes_f, t.node_cat, t.cat_bits, t.tree_nodes,
            t.entries, t.tree_entries, t.leaves_i, t.tree_leaves, t.slot_feat, t.slot_f, t.tables,
            t.tree_slots, t.tree_tables, PREFETCH,
        )  # fmt: skip

    def _run_threads(self, rows: np.ndarray, out: np.ndarray, lo: int, hi: int, threads: int) -> None:
        """Consecutive row ranges on ``threads`` threads, this one included; a thread's error re-raised here."""
        edges = np.linspace(0, rows.shape[0], threads + 1).round().astype(int).tolist()
        errors: list[BaseException] = []

        def guarded(a: int, b: int) -> None:
            try:
                self._run(rows, out, a, b, lo, hi)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                errors.append(exc)

        spans = list(itertools.pairwise(edges))
        helpers = [threading.Thread(target=guarded, args=span) for span in spans[1:]]
        for h in helpers:
            h.start()
        guarded(*spans[0])
        for h in helpers:
            h.join()
        if errors:
            raise errors[0]

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf every row reaches in every tree, as ``pred_leaf`` gives it: ``(n_rows, n_trees)``."""
        t = self.tables
        rows = model_rows(x, self.num_features)
        return np.asarray(leaf_indices(rows, t.nodes_i, t.nodes_f, t.node_cat, t.children, t.tree_nodes, t.cat_bits))
