"""LightGBM model text, parsed into plain arrays per tree.

The model text (``Booster.model_to_string()``, the files the store keeps) is
read rather than ``dump_model()``: it holds every threshold and leaf value
with 17 significant digits, so parsing gives LightGBM's own doubles, and it
carries the counts that TreeSHAP's cover ratios use.  Anything the kernel
cannot reproduce exactly is named in :attr:`ParsedModel.unsupported`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# decision_type bits (LightGBM include/LightGBM/tree.h)
CATEGORICAL_MASK = 1
DEFAULT_LEFT_MASK = 2
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2


@dataclass(frozen=True)
class ParsedTree:
    """One tree; node arrays follow LightGBM's numbering (a child ``< 0`` is leaf ``~child``)."""

    split_feature: np.ndarray  # int32, one per internal node
    threshold: np.ndarray  # float64; for categorical nodes the index into cat_boundaries
    decision_type: np.ndarray  # int8
    left_child: np.ndarray  # int32
    right_child: np.ndarray  # int32
    leaf_value: np.ndarray  # float64, shrinkage already applied
    leaf_count: np.ndarray  # float64 (training rows per leaf)
    internal_count: np.ndarray  # float64
    cat_boundaries: np.ndarray  # int32
    cat_threshold: np.ndarray  # uint32 bitset words
    is_linear: bool

    @property
    def num_leaves(self) -> int:
        """Leaves of the tree (1 for a tree without a split)."""
        return len(self.leaf_value)

    def expected_value(self) -> float:
        """The tree's mean output over its training rows, summed in LightGBM's order (``Tree::ExpectedValue``)."""
        if self.num_leaves == 1:
            return float(self.leaf_value[0])
        total = float(self.internal_count[0])
        out = 0.0
        for count, value in zip(self.leaf_count.tolist(), self.leaf_value.tolist(), strict=True):
            out += (count / total) * value
        return out


@dataclass(frozen=True)
class ParsedModel:
    """The trees of a model and what makes it unsupported (empty when the kernel can explain it)."""

    num_features: int
    trees: tuple[ParsedTree, ...]
    unsupported: tuple[str, ...]


def _header(text: str) -> dict[str, str]:
    head = text.split("\nTree=", 1)[0]
    out: dict[str, str] = {}
    for line in head.splitlines():
        key, sep, value = line.partition("=")
        out[key.strip()] = value.strip() if sep else ""
    return out


def _array(fields: dict[str, str], key: str, dtype: type) -> np.ndarray:
    raw = fields.get(key, "").split()
    return np.array([float(v) for v in raw] if dtype is np.float64 else [int(v) for v in raw], dtype=dtype)


def _tree(block: str) -> ParsedTree:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    leaf_value = _array(fields, "leaf_value", np.float64)
    num_leaves = int(fields.get("num_leaves", "1"))
    if len(leaf_value) != num_leaves:
        raise ValueError(f"tree has num_leaves={num_leaves} but {len(leaf_value)} leaf values")
    return ParsedTree(
        split_feature=_array(fields, "split_feature", np.int32),
        threshold=_array(fields, "threshold", np.float64),
        decision_type=_array(fields, "decision_type", np.int8),
        left_child=_array(fields, "left_child", np.int32),
        right_child=_array(fields, "right_child", np.int32),
        leaf_value=leaf_value,
        leaf_count=_array(fields, "leaf_count", np.float64),
        internal_count=_array(fields, "internal_count", np.float64),
        cat_boundaries=_array(fields, "cat_boundaries", np.int32),
        cat_threshold=_array(fields, "cat_threshold", np.uint32),
        is_linear=fields.get("is_linear", "0") not in ("0", ""),
    )


def _tree_problems(i: int, tree: ParsedTree, num_features: int) -> list[str]:
    """Why tree ``i`` cannot be explained exactly, if it cannot."""
    if tree.is_linear:
        return [f"tree {i} is a linear tree (linear_tree=True): its leaves are not constants"]
    n = tree.num_leaves - 1
    arrays = (tree.split_feature, tree.threshold, tree.decision_type, tree.left_child, tree.right_child)
    if any(len(a) != n for a in arrays) or len(tree.internal_count) != n or len(tree.leaf_count) != tree.num_leaves:
        return [f"tree {i} has node arrays of inconsistent lengths"]
    if n == 0:
        return []
    problems = []
    if np.any((tree.split_feature < 0) | (tree.split_feature >= num_features)):
        problems.append(f"tree {i} splits on a feature outside 0..{num_features - 1}")
    if np.any(((tree.decision_type.astype(np.int64) >> 2) & 3) > MISSING_NAN) or np.any(tree.decision_type & ~15):
        problems.append(f"tree {i} has a decision type this kernel does not know")
    if np.any(tree.internal_count <= 0) or np.any(tree.leaf_count <= 0):
        problems.append(f"tree {i} has a node without training rows (no cover ratio)")
    categorical = (tree.decision_type & CATEGORICAL_MASK) != 0
    idx = tree.threshold[categorical]
    if np.any((idx < 0) | (idx >= max(len(tree.cat_boundaries) - 1, 0)) | (idx != np.floor(idx))):
        problems.append(f"tree {i} has a categorical split without its bitset")
    children = np.concatenate([tree.left_child, tree.right_child])
    if sorted(children[children >= 0].tolist()) != list(range(1, n)) or sorted(
        (~children[children < 0]).tolist()
    ) != list(range(tree.num_leaves)):
        problems.append(f"tree {i} is not a binary tree rooted at node 0")
    return problems


def parse_model(text: str) -> ParsedModel:
    """Parse a LightGBM model text.

    Parameters
    ----------
    text
        The whole model text, as ``Booster.model_to_string()`` writes it.

    Returns
    -------
    ParsedModel
        Its trees in boosting order, the feature count (``max_feature_idx + 1``)
        and every reason the kernel cannot explain it exactly (multiclass,
        random-forest averaging, linear trees, unknown decision types, ...).
    """
    header = _header(text)
    num_features = int(header.get("max_feature_idx", "-1")) + 1
    unsupported: list[str] = []
    num_class = int(header.get("num_class", "1"))
    per_iteration = int(header.get("num_tree_per_iteration", "1"))
    if num_class != 1 or per_iteration != 1:
        unsupported.append(f"multiclass model (num_class={num_class}): one output per class is not supported")
    if "average_output" in header:
        unsupported.append("random-forest model (average_output): averaged trees are not supported")
    body = text.split("end of trees", 1)[0]
    trees = tuple(_tree(block) for block in body.split("\nTree=")[1:])
    if not trees:
        unsupported.append("the model has no trees")
    for i, tree in enumerate(trees):
        unsupported.extend(_tree_problems(i, tree, num_features))
    return ParsedModel(num_features=num_features, trees=trees, unsupported=tuple(unsupported))
