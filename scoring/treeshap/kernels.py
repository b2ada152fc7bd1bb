"""Numba kernels: LightGBM's split decisions, the per-leaf tables and exact path-dependent TreeSHAP.

The closed form (Fast TreeSHAP v2, Yang 2021).  For a leaf of value ``v``
whose path has ``D`` distinct features with cover fractions ``z_j`` (the
product of ``count(child) / count(node)`` over that feature's splits on the
path), a row satisfies a subset ``A`` of them (it would take the path's
direction at every split on that feature).  TreeSHAP gives feature ``i``

    i not in A:  -Zout(A) * T[A]
    i in A:      (1 - z_i) * Zout(A) * T[A - {i}]

with ``Zout(A)`` the product of ``z_j`` over features outside ``A`` and the
table ``T[B] = v * sum_{S in B} w(|S|, D) * prod_{j in B - S} z_j``,
``w(s, D) = s! (D - s - 1)! / D!`` (TreeSHAP's Shapley weights).  ``T`` has
``2**D`` entries per leaf, built once per model; a row then costs one pass
over the tree's nodes and ``O(D)`` per leaf, with no recursion.

Every kernel releases the GIL and allocates its own scratch, so any number
of threads may call them at once on the same tables.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# LightGBM's kZeroThreshold is the float literal 1e-35f, compared as a double.
K_ZERO = float(np.float32(1e-35))
_INT_LIMIT = 2147483648.0  # categories are C ints: anything at or past 2**31 is no category


@nb.njit(inline="always", cache=True)
def go_left(v: float, dtype: int, threshold: float, cat_start: int, cat_len: int, cat_bits: np.ndarray) -> bool:
    """LightGBM's ``Tree::Decision`` for one node: whether ``v`` goes to the left child.

    Categorical: NaN, anything whose C ``int`` truncation is negative and
    anything out of ``int`` range go right (on x86-64 LightGBM's cast of those
    gives ``INT_MIN``); -0.7 truncates to category 0.  Numerical: NaN counts
    as 0 unless the missing type is NaN; a missing value (NaN for type NaN,
    ``|v| <= 1e-35f`` for type Zero) takes the default direction; otherwise
    ``v <= threshold`` goes left.
    """
    if dtype & 1:
        if not (v > -1.0 and v < _INT_LIMIT):  # also NaN
            return False
        c = int(v)
        word = c >> 5
        if word >= cat_len:
            return False
        return bool((cat_bits[cat_start + word] >> np.uint32(c & 31)) & np.uint32(1))
    missing = (dtype >> 2) & 3
    is_nan = v != v
    if is_nan and missing != 2:
        v = 0.0
    if (missing == 1 and -K_ZERO <= v <= K_ZERO) or (missing == 2 and is_nan):
        return (dtype & 2) != 0
    return v <= threshold


@nb.njit(nogil=True, cache=True)
def fill_tables(leaves_i: np.ndarray, slot_f: np.ndarray, leaf_value: np.ndarray, tables: np.ndarray) -> None:
    """Fill every leaf's ``T`` table (see the module docstring) in place.

    The inner sum is taken over the size of ``B - S``: with ``e_k(B)`` the
    elementary symmetric polynomials of the ``z_j`` in ``B``, built one bit
    at a time, ``T[B] = v * sum_k w(|B| - k, D) * e_k(B)``.
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
        for m in range(1, n):
            prev = m & (m - 1)
            j = 0
            while not (m >> j) & 1:
                j += 1
            z = slot_f[s0 + j, 0]
            size[m] = size[prev] + 1
            e[m, 0] = e[prev, 0]
            for k in range(1, d + 1):
                e[m, k] = e[prev, k] + z * e[prev, k - 1]
        v = leaf_value[leaf]
        for m in range(n - 1):
            h = 0.0
            for k in range(size[m] + 1):
                h += w[size[m] - k] * e[m, k]
            tables[t0 + m] = v * h
        tables[t0 + n - 1] = 0.0  # every feature satisfied: never read


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
    cat_bits: np.ndarray,
    entries: np.ndarray,
    tree_entries: np.ndarray,
    leaves_i: np.ndarray,
    slot_feat: np.ndarray,
    slot_f: np.ndarray,
    tables: np.ndarray,
) -> None:
    """Add the SHAP values of trees ``tree_lo:tree_hi`` for rows ``row_lo:row_hi`` of ``x`` into ``out``.

    Rows are taken ``block`` at a time and every tree is run over the whole
    block before the next, so one tree's tables stay in cache.  The trees'
    nodes are stored parents first (``entries``); a node's ``fail`` mask has
    the bits of the path features the row does not follow down to it, so a
    leaf's satisfied set is the complement of its mask.
    """
    max_e = 1
    for t in range(tree_lo, tree_hi):
        max_e = max(max_e, tree_entries[t + 1] - tree_entries[t])
    fail = np.zeros(max_e, np.int64)
    left = np.zeros(max_e, np.bool_)
    for b0 in range(row_lo, row_hi, block):
        b1 = min(b0 + block, row_hi)
        for t in range(tree_lo, tree_hi):
            e0 = tree_entries[t]
            e1 = tree_entries[t + 1]
            for r in range(b0, b1):
                for e in range(e0, e1):
                    k = e - e0
                    parent = entries[e, 0]
                    if parent >= 0:
                        bit = entries[e, 3]
                        missed = np.int64(left[parent] != ((bit & 1) == 1))
                        fail[k] = fail[parent] | (missed << (bit >> 1))
                    else:
                        fail[k] = 0
                    node = entries[e, 1]
                    if node >= 0:
                        left[k] = go_left(
                            x[r, nodes_i[node, 0]],
                            nodes_i[node, 1],
                            nodes_f[node],
                            nodes_i[node, 2],
                            nodes_i[node, 3],
                            cat_bits,
                        )
                        continue
                    leaf = entries[e, 2]
                    d = leaves_i[leaf, 0]
                    if d == 0:
                        continue
                    s0 = leaves_i[leaf, 1]
                    t0 = leaves_i[leaf, 2]
                    full = (np.int64(1) << d) - 1
                    a = full & ~fail[k]
                    zout = 1.0
                    for j in range(d):
                        if not (a >> j) & 1:
                            zout *= slot_f[s0 + j, 0]
                    outside = -zout * tables[t0 + a]
                    for j in range(d):
                        f = slot_feat[s0 + j]
                        if (a >> j) & 1:
                            out[r, f] += slot_f[s0 + j, 1] * zout * tables[t0 + (a ^ (np.int64(1) << j))]
                        else:
                            out[r, f] += outside


@nb.njit(nogil=True, cache=True)
def leaf_indices(
    x: np.ndarray,
    nodes_i: np.ndarray,
    nodes_f: np.ndarray,
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
                i = nodes_i[g]
                if go_left(x[r, i[0]], i[1], nodes_f[g], i[2], i[3], cat_bits):
                    node = children[g, 0]
                else:
                    node = children[g, 1]
            out[r, t] = ~node
    return out
