"""Numba kernels: LightGBM's split decisions, the per-leaf tables and exact path-dependent TreeSHAP.

The closed form (Fast TreeSHAP v2, Yang 2021).  For a leaf of value ``v``
whose path has ``D`` distinct features with cover fractions ``z_j`` (the
product of ``count(child) / count(node)`` over that feature's splits on the
path), a row satisfies a subset ``A`` of them (it would take the path's
direction at every split on that feature).  TreeSHAP gives feature ``i``

    i not in A:  -Zout(A) * T[A]
    i in A:      (1 - z_i) * Zout(A) * T[A - {i}]

with ``Zout(A)`` the product of ``z_j`` over features outside ``A`` and
``T[B] = v * sum_{S in B} w(|S|, D) * prod_{j in B - S} z_j``,
``w(s, D) = s! (D - s - 1)! / D!`` (TreeSHAP's Shapley weights).  The
kernel keeps ``U[B] = Zout(B) * T[B]``, ``2**D`` entries per leaf built
once per model; since ``Zout(A) = Zout(A - {i}) / z_i`` both cases are one
lookup times a per-feature factor (``-1``, or ``(1 - z_i) / z_i``), so a row
costs one pass over the tree's nodes and ``D`` multiply-adds per leaf.

Every kernel releases the GIL and allocates its own scratch, so any number
of threads may call them at once on the same tables.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from scoring.treeshap.prefetch import prefetch

# LightGBM's kZeroThreshold is the float literal 1e-35f, compared as a double.
K_ZERO = float(np.float32(1e-35))
_INT_LIMIT = 2147483648.0  # categories are C ints: anything at or past 2**31 is no category


NAN_LEFT = 16  # set by the table builder on top of LightGBM's decision type: where NaN goes


@nb.njit(inline="always", cache=True)
def go_left(v: float, dtype: int, threshold: float, node: int, node_cat: np.ndarray, cat_bits: np.ndarray) -> bool:
    """LightGBM's ``Tree::Decision`` for one node: whether ``v`` goes to the left child.

    ``node_cat[node]`` (first bitset word, words) is read only for a
    categorical node.

    Categorical: NaN, anything whose C ``int`` truncation is negative and
    anything out of ``int`` range go right (on x86-64 LightGBM's cast of those
    gives ``INT_MIN``); -0.7 truncates to category 0.  Numerical: NaN goes
    where :data:`NAN_LEFT` says (the default direction for missing types NaN
    and Zero, else where 0.0 goes); ``|v| <= 1e-35f`` takes the default
    direction for missing type Zero; otherwise ``v <= threshold`` goes left.
    """
    if dtype & 1:
        if not (v > -1.0 and v < _INT_LIMIT):  # also NaN
            return False
        c = int(v)
        word = c >> 5
        if word >= node_cat[node, 1]:
            return False
        return bool((cat_bits[node_cat[node, 0] + word] >> np.uint32(c & 31)) & np.uint32(1))
    if v != v:
        return (dtype & NAN_LEFT) != 0
    if (dtype & 12) == 4 and -K_ZERO <= v <= K_ZERO:
        return (dtype & 2) != 0
    return v <= threshold


@nb.njit(nogil=True, cache=True)
def fill_tables(leaves_i: np.ndarray, slot_z: np.ndarray, leaf_value: np.ndarray, tables: np.ndarray) -> None:
    """Fill every leaf's ``U`` table (see the module docstring) in place.

    The inner sum is taken over the size of ``B - S``: with ``e_k(B)`` the
    elementary symmetric polynomials of the ``z_j`` in ``B``, built one bit
    at a time, ``T[B] = v * sum_k w(|B| - k, D) * e_k(B)``; ``Zout(B)`` is
    the product of ``z_j`` over the complement of ``B``.
    """
    for leaf in range(leaves_i.shape[0]):
        d = leaves_i[leaf, 0]
        if d == 0:
            continue
        s0 = leaves_i[leaf, 1]
        t0 = leaves_i[leaf, 2]
        n = 1 << d
        w = np.empty(d)
        for s in range(d):  # s! (d-s-1)! / d! = 1 / (d * C(d-1, s))
            comb = 1.0
            for k in range(s):
                comb = comb * (d - 1 - k) / (k + 1)
            w[s] = 1.0 / (d * comb)
        e = np.zeros((n, d + 1))
        e[0, 0] = 1.0
        size = np.zeros(n, np.int64)
        prod = np.ones(n)
        for m in range(1, n):
            prev = m & (m - 1)
            j = 0
            while not (m >> j) & 1:
                j += 1
            z = slot_z[s0 + j]
            size[m] = size[prev] + 1
            prod[m] = prod[prev] * z
            e[m, 0] = e[prev, 0]
            for k in range(1, d + 1):
                e[m, k] = e[prev, k] + z * e[prev, k - 1]
        v = leaf_value[leaf]
        for m in range(n - 1):
            h = 0.0
            for k in range(size[m] + 1):
                h += w[size[m] - k] * e[m, k]
            tables[t0 + m] = prod[(n - 1) ^ m] * (v * h)
        tables[t0 + n - 1] = 0.0  # every feature satisfied: never read


@nb.njit(inline="always", cache=True)
def prefetch_span(array: np.ndarray, lo: int, hi: int) -> None:
    """Prefetch elements ``lo:hi`` of C-contiguous ``array`` (rows, for a 2-D one), a cache line at a time."""
    step = array.itemsize * (array.size // array.shape[0] if array.shape[0] else 1)
    for offset in range((lo * step) & ~63, hi * step, 64):
        prefetch(array, offset)


@nb.njit(nogil=True, cache=True)
def shap_rows(
    x: np.ndarray,
    out: np.ndarray,
    row_lo: int,
    row_hi: int,
    tree_lo: int,
    tree_hi: int,
    block: int,
    nodes_i: np.ndarray,
    nodes_f: np.ndarray,
    node_cat: np.ndarray,
    cat_bits: np.ndarray,
    tree_nodes: np.ndarray,
    entries: np.ndarray,
    tree_entries: np.ndarray,
    leaves_i: np.ndarray,
    tree_leaves: np.ndarray,
    slot_feat: np.ndarray,
    slot_f: np.ndarray,
    tables: np.ndarray,
    tree_slots: np.ndarray,
    tree_tables: np.ndarray,
    ahead: bool,
) -> None:
    """Add the SHAP values of trees ``tree_lo:tree_hi`` for rows ``row_lo:row_hi`` of ``x`` into ``out``.

    Rows are taken ``block`` at a time and every tree is run over the whole
    block before the next, so one tree's tables stay in cache.  Per row and
    tree: every split's decision; then, parents first, each node's ``fail``
    mask (the path features the row does not follow down to it); then each
    leaf's share: per path feature one table entry times -1 or
    ``slot_f = (1 - z) / z``, picked by the feature's bit in the satisfied
    set (an index into a pair, not a branch: the bits follow the row).
    A leaf's first slot and table entry are running sums from its tree's
    (:func:`leaf_table_start` gives the alignment), so a leaf costs 4 bytes
    of indices.  With ``ahead``, the next tree's arrays are prefetched.
    """
    max_e = 1
    for t in range(tree_lo, tree_hi):
        max_e = max(max_e, tree_entries[t + 1] - tree_entries[t])
    fail = np.zeros(max_e, np.int64)
    dec = np.zeros(max_e, np.int64)
    for b0 in range(row_lo, row_hi, block):
        b1 = min(b0 + block, row_hi)
        for t in range(tree_lo, tree_hi):
            if ahead and t + 1 < tree_hi:
                prefetch_span(nodes_i, tree_nodes[t + 1], tree_nodes[t + 2])
                prefetch_span(nodes_f, tree_nodes[t + 1], tree_nodes[t + 2])
                prefetch_span(entries, tree_entries[t + 1], tree_entries[t + 2])
                prefetch_span(leaves_i, tree_leaves[t + 1], tree_leaves[t + 2])
                prefetch_span(slot_feat, tree_slots[t + 1], tree_slots[t + 2])
                prefetch_span(slot_f, tree_slots[t + 1], tree_slots[t + 2])
                prefetch_span(tables, tree_tables[t + 1], tree_tables[t + 2])
            n0 = tree_nodes[t]
            e0 = tree_entries[t]
            for r in range(b0, b1):
                for g in range(n0, tree_nodes[t + 1]):
                    dec[g - n0] = go_left(x[r, nodes_i[g, 0]], nodes_i[g, 1], nodes_f[g], g, node_cat, cat_bits)
                fail[0] = 0
                for e in range(e0 + 1, tree_entries[t + 1]):
                    link = np.int64(entries[e, 1])  # parent node << 5 | is_left | slot << 1
                    fail[e - e0] = fail[entries[e, 0]] | ((dec[link >> 5] ^ (link & 1)) << ((link & 31) >> 1))
                s0 = tree_slots[t]
                t0 = tree_tables[t]
                for leaf in range(tree_leaves[t], tree_leaves[t + 1]):
                    d = int(leaves_i[leaf, 0])
                    t0 = leaf_table_start(t0, d)
                    a = ((np.int64(1) << d) - 1) & ~fail[leaves_i[leaf, 1]]
                    for j in range(d):
                        bit = (a >> j) & 1
                        out[r, slot_feat[s0 + j]] += (-1.0, slot_f[s0 + j])[bit] * tables[t0 + (a ^ (bit << j))]
                    s0 += d
                    t0 += (np.int64(1) << d) if d else 0


@nb.njit(inline="always", cache=True)
def leaf_table_start(after: int, d: int) -> int:
    """Where a leaf with ``d`` path features starts its table, the previous one ending at ``after``.

    A table of 8 doubles or more starts on a 64-byte line (``tables``
    itself does): one line fewer to fetch.
    """
    return (after + 7) & ~7 if d >= 3 else after


@nb.njit(nogil=True, cache=True)
def leaf_indices(
    x: np.ndarray,
    nodes_i: np.ndarray,
    nodes_f: np.ndarray,
    node_cat: np.ndarray,
    children: np.ndarray,
    tree_nodes: np.ndarray,
    cat_bits: np.ndarray,
) -> np.ndarray:
    """The leaf each row reaches in each tree (as ``pred_leaf``), by the same decisions as :func:`shap_rows`."""
    n_trees = tree_nodes.shape[0] - 1
    out = np.zeros((x.shape[0], n_trees), np.int32)
    for r in range(x.shape[0]):
        for t in range(n_trees):
            base = tree_nodes[t]
            if tree_nodes[t + 1] == base:
                continue  # one leaf, leaf 0
            node = 0
            while node >= 0:
                g = base + node
                if go_left(x[r, nodes_i[g, 0]], nodes_i[g, 1], nodes_f[g], g, node_cat, cat_bits):
                    node = children[g, 0]
                else:
                    node = children[g, 1]
            out[r, t] = ~node
    return out
