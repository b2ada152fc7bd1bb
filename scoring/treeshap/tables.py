"""Flat arrays of a whole model for the kernels: nodes, parents-first walk orders, leaf paths and tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.treeshap.kernels import fill_tables
from scoring.treeshap.trees import CATEGORICAL_MASK, ParsedModel, ParsedTree

# A leaf's table has 2**D doubles, D its distinct path features: 14 is 128 KiB for one leaf.
MAX_PATH_FEATURES = 14
MAX_TABLE_BYTES = 256 * 2**20


class TooLarge(ValueError):
    """The model's tables would exceed what the kernel supports (path features or memory)."""


@dataclass(frozen=True)
class KernelTables:
    """Everything :mod:`scoring.treeshap.kernels` reads, for all trees of one model.

    ``nodes_i`` rows: feature, decision type, first bitset word, bitset
    words.  ``entries`` rows (one per node and leaf, parents first): parent
    entry (tree-local, -1 at the root), internal node or -1, leaf or -1, and
    the edge from the parent (``is_left | slot << 1``).  ``leaves_i`` rows:
    distinct path features ``D``, first slot, first table entry.  ``slot_f``
    rows: cover fraction ``z`` and ``1 - z``.
    """

    num_features: int
    nodes_i: np.ndarray
    nodes_f: np.ndarray
    children: np.ndarray
    tree_nodes: np.ndarray
    cat_bits: np.ndarray
    entries: np.ndarray
    tree_entries: np.ndarray
    leaves_i: np.ndarray
    slot_feat: np.ndarray
    slot_f: np.ndarray
    tables: np.ndarray
    expected: np.ndarray  # per tree, LightGBM's ExpectedValue

    @property
    def num_trees(self) -> int:
        """Trees in the model."""
        return len(self.tree_entries) - 1

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, in bytes."""
        return sum(getattr(self, f).nbytes for f in self.__dataclass_fields__ if f != "num_features")

    def bias(self, tree_lo: int = 0, tree_hi: int | None = None) -> float:
        """Sum of the trees' expected values, added in LightGBM's order (so bit-identical to its last column)."""
        out = 0.0
        for value in self.expected[tree_lo:tree_hi].tolist():
            out += value
        return out


class _Builder:
    """Accumulates the per-tree pieces; :meth:`finish` concatenates them."""

    def __init__(self) -> None:
        self.nodes_i: list[np.ndarray] = []
        self.nodes_f: list[np.ndarray] = []
        self.children: list[np.ndarray] = []
        self.cat_bits: list[np.ndarray] = []
        self.n_cat_words = 0
        self.n_nodes = 0
        self.entries: list[tuple[int, int, int, int]] = []
        self.tree_entries = [0]
        self.tree_nodes = [0]
        self.leaves: list[tuple[int, int, int]] = []
        self.leaf_value: list[float] = []
        self.slot_feat: list[int] = []
        self.slot_z: list[float] = []
        self.n_table = 0

    def add_nodes(self, tree: ParsedTree) -> None:
        n = tree.num_leaves - 1
        cat = (tree.decision_type & CATEGORICAL_MASK) != 0
        idx = np.where(cat, tree.threshold, 0).astype(np.int64)
        bounds = tree.cat_boundaries.astype(np.int64) if len(tree.cat_boundaries) else np.zeros(1, np.int64)
        start = np.where(cat, bounds[idx] + self.n_cat_words, 0)
        length = np.where(cat, bounds[np.minimum(idx + 1, len(bounds) - 1)] - bounds[idx], 0)
        cols = (tree.split_feature, tree.decision_type.astype(np.int64) & 0xFF, start, length)
        self.nodes_i.append(np.stack(cols, axis=1).astype(np.int64).reshape(n, 4))
        self.nodes_f.append(tree.threshold)
        self.children.append(np.stack([tree.left_child, tree.right_child], axis=1).reshape(n, 2))
        self.cat_bits.append(tree.cat_threshold)
        self.n_cat_words += len(tree.cat_threshold)
        self.n_nodes += n
        self.tree_nodes.append(self.n_nodes)

    def add_walk(self, tree: ParsedTree) -> None:
        """Entries parents first; each leaf's distinct path features (in order of first use) and their ``z``."""
        node_base = self.n_nodes - (tree.num_leaves - 1)
        leaf_base = len(self.leaves)
        local: list[tuple[int, int, int, int]] = []
        leaves: dict[int, tuple[tuple[int, ...], tuple[float, ...]]] = {}
        stack: list[tuple[int, int, int, tuple[int, ...], tuple[float, ...]]] = [
            (0 if tree.num_leaves > 1 else -1, -1, 0, (), ())
        ]
        while stack:
            node, parent, edge, feats, zs = stack.pop()
            here = len(local)
            if node < 0:
                local.append((parent, -1, leaf_base + ~node, edge))
                leaves[~node] = (feats, zs)
                continue
            local.append((parent, node_base + node, -1, edge))
            f = int(tree.split_feature[node])
            slot = feats.index(f) if f in feats else len(feats)
            if slot == len(feats):
                feats, zs = (*feats, f), (*zs, 1.0)
            count = float(tree.internal_count[node])
            for child, is_left in ((tree.right_child[node], 0), (tree.left_child[node], 1)):
                c = int(child)
                ratio = (float(tree.internal_count[c]) if c >= 0 else float(tree.leaf_count[~c])) / count
                z = (*zs[:slot], ratio * zs[slot], *zs[slot + 1 :])  # LightGBM: this split's fraction * incoming
                stack.append((c, here, is_left | (slot << 1), feats, z))
        self.entries.extend(local)
        self.tree_entries.append(len(self.entries))
        for leaf in range(tree.num_leaves):
            feats, zs = leaves[leaf]
            d = len(feats)
            if d > MAX_PATH_FEATURES:
                raise TooLarge(f"a leaf has {d} distinct features on its path (at most {MAX_PATH_FEATURES})")
            self.leaves.append((d, len(self.slot_feat), self.n_table))
            self.leaf_value.append(float(tree.leaf_value[leaf]))
            self.slot_feat.extend(feats)
            self.slot_z.extend(zs)
            self.n_table += (1 << d) if d else 0
            if self.n_table * 8 > MAX_TABLE_BYTES:
                raise TooLarge(f"tables would exceed {MAX_TABLE_BYTES // 2**20} MiB")

    def finish(self, model: ParsedModel) -> KernelTables:
        z = np.array(self.slot_z, dtype=np.float64)
        leaves_i = np.array(self.leaves, dtype=np.int64).reshape(-1, 3)
        slot_f = np.stack([z, 1.0 - z], axis=1).reshape(-1, 2)
        tables = np.zeros(self.n_table, dtype=np.float64)
        fill_tables(leaves_i, slot_f, np.array(self.leaf_value, dtype=np.float64), tables)

        def cat(parts: list[np.ndarray], dtype: type, shape: tuple[int, ...]) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)

        return KernelTables(
            num_features=model.num_features,
            nodes_i=np.ascontiguousarray(cat(self.nodes_i, np.int64, (0, 4))),
            nodes_f=np.ascontiguousarray(cat(self.nodes_f, np.float64, (0,))),
            children=np.ascontiguousarray(cat(self.children, np.int32, (0, 2))),
            tree_nodes=np.array(self.tree_nodes, dtype=np.int64),
            cat_bits=np.ascontiguousarray(cat(self.cat_bits, np.uint32, (0,))),
            entries=np.array(self.entries, dtype=np.int64).reshape(-1, 4),
            tree_entries=np.array(self.tree_entries, dtype=np.int64),
            leaves_i=leaves_i,
            slot_feat=np.array(self.slot_feat, dtype=np.int64),
            slot_f=np.ascontiguousarray(slot_f),
            tables=tables,
            expected=np.array([t.expected_value() for t in model.trees], dtype=np.float64),
        )


def build_tables(model: ParsedModel) -> KernelTables:
    """The kernel's arrays for a parsed model.

    Parameters
    ----------
    model
        A model whose ``unsupported`` is empty.

    Returns
    -------
    KernelTables
        About ``8 * sum(2**D)`` bytes of tables over all leaves, plus the nodes.

    Raises
    ------
    TooLarge
        When a leaf's path has more than :data:`MAX_PATH_FEATURES` distinct
        features or the tables would exceed :data:`MAX_TABLE_BYTES`.
    """
    builder = _Builder()
    for tree in model.trees:
        builder.add_nodes(tree)
        builder.add_walk(tree)
    return builder.finish(model)
