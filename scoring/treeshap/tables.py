"""Flat arrays of a whole model for the kernels: nodes, parents-first walk orders, leaf paths and tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.treeshap.kernels import NAN_LEFT, fill_tables, leaf_table_start
from scoring.treeshap.trees import CATEGORICAL_MASK, DEFAULT_LEFT_MASK, MISSING_NONE, ParsedModel, ParsedTree

# A leaf's table has 2**D doubles, D its distinct path features: 14 is 128 KiB for one leaf.
MAX_PATH_FEATURES = 14
MAX_TABLE_BYTES = 256 * 2**20
# Indices are int16 (see KernelTables): a parent node shares its int16 with the 5-bit edge.
MAX_LEAVES = 1024
MAX_FEATURES = 2**15 - 1


class TooLarge(ValueError):
    """The model's tables would exceed what the kernel supports (path features or memory)."""


@dataclass(frozen=True)
class KernelTables:
    """Everything :mod:`scoring.treeshap.kernels` reads, for all trees of one model.

    ``nodes_i`` rows (LightGBM's node order per tree): feature, decision
    type (plus :data:`~scoring.treeshap.kernels.NAN_LEFT`); ``node_cat``
    rows, read only for categorical nodes: first bitset word, bitset words.
    ``entries`` rows (one per node and leaf, parents first, the root
    first): parent entry (tree-local), and ``parent node << 5 | edge`` with
    the edge from the parent ``is_left | slot << 1``.  ``leaves_i`` rows:
    distinct path features ``D``, the leaf's entry; a leaf's first slot and
    first table entry are running sums from ``tree_slots`` and
    ``tree_tables``.  ``slot_feat``, ``slot_f`` per leaf and path feature:
    the feature and ``(1 - z) / z`` (``z`` the cover fraction).

    A single row reads every one of these arrays whole, and only part of
    ``tables``: when other work has evicted them, its time is the bytes it
    fetches from memory.  So indices are int16 (``MAX_LEAVES`` leaves per
    tree, ``MAX_FEATURES`` features) and nothing a leaf can compute from its
    neighbours is stored.
    """

    num_features: int
    nodes_i: np.ndarray
    nodes_f: np.ndarray
    node_cat: np.ndarray
    children: np.ndarray
    tree_nodes: np.ndarray
    cat_bits: np.ndarray
    entries: np.ndarray
    tree_entries: np.ndarray
    leaves_i: np.ndarray
    tree_leaves: np.ndarray
    slot_feat: np.ndarray
    slot_f: np.ndarray
    tables: np.ndarray
    tree_slots: np.ndarray  # per tree, its first slot (and the end): what to prefetch
    tree_tables: np.ndarray  # per tree, its first table entry (and the end)
    expected: np.ndarray  # per tree, LightGBM's ExpectedValue
    total_bias: float  # bias() of all trees, LightGBM's last pred_contrib column

    @property
    def num_trees(self) -> int:
        """Trees in the model."""
        return len(self.tree_entries) - 1

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, in bytes."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))

    def bias(self, tree_lo: int = 0, tree_hi: int | None = None) -> float:
        """Sum of the trees' expected values, added in LightGBM's order (so bit-identical to its last column)."""
        return _in_order_sum(self.expected[tree_lo:tree_hi])


def _aligned_zeros(n: int) -> np.ndarray:
    """``n`` float64 zeros starting on a 64-byte boundary."""
    raw = np.zeros(n + 8, dtype=np.float64)
    skip = (-raw.ctypes.data % 64) // 8
    return raw[skip : skip + n]


def _in_order_sum(values: np.ndarray) -> float:
    """Left to right, as LightGBM adds the trees' expected values (numpy's pairwise sum rounds differently)."""
    out = 0.0
    for value in values.tolist():
        out += value
    return out


class _Builder:
    """Accumulates the per-tree pieces; :meth:`finish` concatenates them."""

    def __init__(self) -> None:
        self.nodes_i: list[np.ndarray] = []
        self.nodes_f: list[np.ndarray] = []
        self.node_cat: list[np.ndarray] = []
        self.children: list[np.ndarray] = []
        self.cat_bits: list[np.ndarray] = []
        self.n_cat_words = 0
        self.n_nodes = 0
        self.entries: list[tuple[int, int]] = []
        self.tree_entries = [0]
        self.tree_nodes = [0]
        self.tree_leaves = [0]
        self.tree_slots = [0]
        self.tree_tables = [0]
        self.leaves: list[tuple[int, int, int, int]] = []
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
        dtype = tree.decision_type.astype(np.int64) & 0xFF
        # NaN: the default direction for missing types Zero and NaN, else where 0.0 goes
        none = ((dtype >> 2) & 3) == MISSING_NONE
        nan_left = np.where(none, tree.threshold >= 0.0, (dtype & DEFAULT_LEFT_MASK) != 0) & ~cat
        self.nodes_i.append(
            np.stack((tree.split_feature, dtype | np.where(nan_left, NAN_LEFT, 0)), axis=1).reshape(n, 2)
        )
        self.node_cat.append(np.stack((start, length), axis=1).astype(np.int64).reshape(n, 2))
        self.nodes_f.append(tree.threshold)
        self.children.append(np.stack([tree.left_child, tree.right_child], axis=1).reshape(n, 2))
        self.cat_bits.append(tree.cat_threshold)
        self.n_cat_words += len(tree.cat_threshold)
        self.n_nodes += n
        self.tree_nodes.append(self.n_nodes)

    def add_walk(self, tree: ParsedTree) -> None:
        """Entries parents first; each leaf's distinct path features (in order of first use) and their ``z``."""
        local: list[tuple[int, int, int]] = []
        leaves: dict[int, tuple[int, tuple[int, ...], tuple[float, ...]]] = {}
        stack: list[tuple[int, int, int, int, tuple[int, ...], tuple[float, ...]]] = [
            (0 if tree.num_leaves > 1 else -1, 0, 0, 0, (), ())
        ]
        while stack:
            node, parent, parent_node, edge, feats, zs = stack.pop()
            here = len(local)
            local.append((parent, parent_node, edge))
            if node < 0:
                leaves[~node] = (here, feats, zs)
                continue
            f = int(tree.split_feature[node])
            slot = feats.index(f) if f in feats else len(feats)
            if slot == len(feats):
                feats, zs = (*feats, f), (*zs, 1.0)
            count = float(tree.internal_count[node])
            for child, is_left in ((tree.right_child[node], 0), (tree.left_child[node], 1)):
                c = int(child)
                ratio = (float(tree.internal_count[c]) if c >= 0 else float(tree.leaf_count[~c])) / count
                z = (*zs[:slot], ratio * zs[slot], *zs[slot + 1 :])  # LightGBM: this split's fraction * incoming
                stack.append((c, here, node, is_left | (slot << 1), feats, z))
        if tree.num_leaves > MAX_LEAVES:
            raise TooLarge(f"a tree has {tree.num_leaves} leaves (at most {MAX_LEAVES})")
        self.entries.extend((parent, parent_node << 5 | edge) for parent, parent_node, edge in local)
        self.tree_entries.append(len(self.entries))
        for leaf in range(tree.num_leaves):
            entry, feats, zs = leaves[leaf]
            d = len(feats)
            if d > MAX_PATH_FEATURES:
                raise TooLarge(f"a leaf has {d} distinct features on its path (at most {MAX_PATH_FEATURES})")
            self.n_table = int(leaf_table_start(self.n_table, d))  # the kernel recomputes it with the same rule
            self.leaves.append((d, len(self.slot_feat), self.n_table, entry))
            self.leaf_value.append(float(tree.leaf_value[leaf]))
            self.slot_feat.extend(feats)
            self.slot_z.extend(zs)
            self.n_table += (1 << d) if d else 0
            if self.n_table * 8 > MAX_TABLE_BYTES:
                raise TooLarge(f"tables would exceed {MAX_TABLE_BYTES // 2**20} MiB")
        self.tree_leaves.append(len(self.leaves))
        self.tree_slots.append(len(self.slot_feat))
        self.tree_tables.append(self.n_table)

    def finish(self, model: ParsedModel) -> KernelTables:
        expected = np.array([t.expected_value() for t in model.trees], dtype=np.float64)
        z = np.array(self.slot_z, dtype=np.float64)
        leaves = np.array(self.leaves, dtype=np.int32).reshape(-1, 4)
        tables = _aligned_zeros(self.n_table)
        fill_tables(leaves, z, np.array(self.leaf_value, dtype=np.float64), tables)

        def cat(parts: list[np.ndarray], dtype: type, shape: tuple[int, ...]) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)

        return KernelTables(
            num_features=model.num_features,
            nodes_i=np.ascontiguousarray(cat(self.nodes_i, np.int16, (0, 2))),
            nodes_f=np.ascontiguousarray(cat(self.nodes_f, np.float64, (0,))),
            node_cat=np.ascontiguousarray(cat(self.node_cat, np.int32, (0, 2))),
            children=np.ascontiguousarray(cat(self.children, np.int32, (0, 2))),
            tree_nodes=np.array(self.tree_nodes, dtype=np.int64),
            cat_bits=np.ascontiguousarray(cat(self.cat_bits, np.uint32, (0,))),
            entries=np.array(self.entries, dtype=np.int16).reshape(-1, 2),
            tree_entries=np.array(self.tree_entries, dtype=np.int64),
            leaves_i=np.ascontiguousarray(leaves[:, [0, 3]].astype(np.int16)),
            tree_leaves=np.array(self.tree_leaves, dtype=np.int64),
            slot_feat=np.array(self.slot_feat, dtype=np.int16),
            slot_f=(1.0 - z) / z,
            tables=tables,
            tree_slots=np.array(self.tree_slots, dtype=np.int64),
            tree_tables=np.array(self.tree_tables, dtype=np.int64),
            expected=expected,
            total_bias=_in_order_sum(expected),
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
        features, a tree more than :data:`MAX_LEAVES` leaves, the model more
        than :data:`MAX_FEATURES` features, or the tables would exceed
        :data:`MAX_TABLE_BYTES`.
    """
    if model.num_features > MAX_FEATURES:
        raise TooLarge(f"the model has {model.num_features} features (at most {MAX_FEATURES})")
    builder = _Builder()
    for tree in model.trees:
        builder.add_nodes(tree)
        builder.add_walk(tree)
    return builder.finish(model)
