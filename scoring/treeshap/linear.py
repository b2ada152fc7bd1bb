"""The single-row kernel: exact path-dependent TreeSHAP over the tree's edges, without per-leaf tables.

Linear TreeSHAP's polynomial form (Yu et al., NeurIPS 2022).  A leaf of
value ``v`` whose path has distinct features ``j`` with cover fractions
``z_j`` and one-fractions ``o_j`` (1 when the row takes the path's direction
at every split on ``j``, else 0) gives feature ``i``

    phi_i = v * integral_0^1 (o_i - z_i) / g_i(t) * prod_j g_j(t) dt,
    g_j(t) = o_j * t + (1 - t) * z_j,

which is TreeSHAP's Shapley sum (``w(s, D) = integral t**s (1-t)**(D-s-1)``).
The integrand is a polynomial of degree ``D - 1``, so Gauss-Legendre with
``ceil(D / 2)`` points is exact.  Writing ``c(t) = (o - z) / g(t)`` for a
feature's running values down the path, ``c`` at the leaf is the sum of its
increments over the edges that split on ``i`` (``c`` is 0 above the first),
and the quadrature is linear, so each edge ``e`` contributes
``sum_q W_q * S_e(t_q) * (c_e(t_q) - c_prev(t_q))``, with ``S_e`` the sum of
``v * prod g`` over the leaves below ``e``: one pass down the tree (products),
one pass up (sums), ``O(nodes * Q)`` arithmetic and nothing but the nodes
read: 52 bytes per split (0.4 MB for a valuation booster) instead of the
table kernel's 1.6 MB of paths and leaf tables, which is what a single row
pays for when other work has taken the caches (see ``docs/performance.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from scoring.treeshap.kernels import go_left, prefetch_span
from scoring.treeshap.trees import ParsedModel, ParsedTree

LANES = 4  # Gauss points per block, written out one by one; a model needing more runs blocks of LANES
MAX_LANES = 8  # exact up to 16 distinct features on a leaf's path (the table kernel stops at 14)


def gauss_legendre(q: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``q``-point Gauss-Legendre rule on [0, 1] (points, weights): exact for polynomials of degree ``2q - 1``."""
    x, w = np.polynomial.legendre.leggauss(q)
    return (x + 1.0) / 2.0, w / 2.0


@dataclass(frozen=True)
class EdgeTables:
    """What :func:`shap_edges` reads besides the node arrays it shares with the table kernel.

    Edges are numbered per tree in preorder, the root's (from nowhere) 0, a
    left child's right after its parent's.  Per internal node, in
    LightGBM's numbering (a child's number is larger than its parent's,
    checked at build), ``node_edges``: the node's edge, its right child's
    edge, and the previous edge on the path that splits on the same feature
    (0 when none); ``node_zv``: per child, left then right, the feature's
    cover fraction down to that child (the product of the ratios of its
    splits so far), then per child its value if it is a leaf (else 0).
    ``tree_edges``: per tree, its number of edges (``2 * nodes + 1``).
    ``points``, ``weights``: the Gauss-Legendre rule every tree uses
    (``lanes`` points, enough for the model's deepest leaf).
    """

    node_edges: np.ndarray
    node_zv: np.ndarray
    tree_edges: np.ndarray
    points: np.ndarray
    weights: np.ndarray

    @property
    def lanes(self) -> int:
        """Gauss points per tree, a multiple of :data:`LANES`."""
        return len(self.points)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, in bytes."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))


def _preorder(tree: ParsedTree) -> list[int]:
    """Every node (``>= 0``) and leaf (``~leaf``) below the root, in preorder (left subtree first)."""
    order: list[int] = []
    stack = [(int(tree.right_child[0]), 0), (int(tree.left_child[0]), 0)]
    while stack:
        child, parent = stack.pop()
        if 0 <= child <= parent:  # also what keeps a malformed tree from looping here
            raise ValueError("a tree numbers a child before its parent")
        order.append(child)
        if child >= 0:
            stack.extend(((int(tree.right_child[child]), child), (int(tree.left_child[child]), child)))
    return order


def _tree_edges(tree: ParsedTree) -> tuple[np.ndarray, np.ndarray, int]:
    """``node_edges`` and ``node_zv`` rows of one tree, and its deepest leaf's distinct-feature count."""
    n = tree.num_leaves - 1
    node_edges = np.zeros((n, 4), dtype=np.int16)
    node_zv = np.zeros((n, 4), dtype=np.float64)
    if n == 0:
        return node_edges, node_zv, 0
    edge_of = {0: 0} | {child: k + 1 for k, child in enumerate(_preorder(tree))}
    z_at = np.ones(2 * n + 1)
    deepest = 0
    # (node, {feature: last edge on the path splitting on it}); parents before children
    stack: list[tuple[int, dict[int, int]]] = [(0, {})]
    while stack:
        node, last = stack.pop()
        feature = int(tree.split_feature[node])
        prev = last.get(feature, 0)
        count = float(tree.internal_count[node])
        sides = (int(tree.left_child[node]), int(tree.right_child[node]))
        if edge_of[sides[0]] != edge_of[node] + 1:
            raise ValueError("preorder numbering broken")  # cannot happen: _preorder goes left first
        node_edges[node, :3] = edge_of[node], edge_of[sides[1]], prev
        for side, child in enumerate(sides):
            k = edge_of[child]
            child_count = float(tree.internal_count[child]) if child >= 0 else float(tree.leaf_count[~child])
            z_at[k] = z_at[prev] * (child_count / count)  # LightGBM: this split's fraction times the incoming one
            node_zv[node, side] = z_at[k]
            below = {**last, feature: k}
            if child < 0:
                node_zv[node, 2 + side] = float(tree.leaf_value[~child])
                deepest = max(deepest, len(below))
            else:
                stack.append((child, below))
    return node_edges, node_zv, deepest


def build_edges(model: ParsedModel) -> EdgeTables:
    """The edge arrays of every tree of a parsed model (one whose ``unsupported`` is empty).

    Raises
    ------
    ValueError
        When a leaf has more than ``2 * MAX_LANES`` distinct path features,
        or a tree numbers a child before its parent (LightGBM never does).
    """
    parts = [_tree_edges(tree) for tree in model.trees]
    deepest = max((d for _, _, d in parts), default=0)
    if deepest > 2 * MAX_LANES:
        raise ValueError(f"a leaf has {deepest} distinct features on its path (at most {2 * MAX_LANES})")
    lanes = LANES * max(1, -(-deepest // (2 * LANES)))
    points, weights = gauss_legendre(lanes)
    return EdgeTables(
        node_edges=np.ascontiguousarray(np.concatenate([e for e, _, _ in parts]).reshape(-1, 4)),
        node_zv=np.ascontiguousarray(np.concatenate([zv for _, zv, _ in parts]).reshape(-1, 4)),
        tree_edges=np.array([2 * len(e) + 1 for e, _, _ in parts], dtype=np.int64),
        points=points,
        weights=weights,
    )


@nb.njit(nogil=True, cache=True)
def shap_edges(
    x: np.ndarray,
    out: np.ndarray,
    nodes_i: np.ndarray,
    nodes_f: np.ndarray,
    node_cat: np.ndarray,
    cat_bits: np.ndarray,
    tree_nodes: np.ndarray,
    node_edges: np.ndarray,
    node_zv: np.ndarray,
    tree_edges: np.ndarray,
    tp: np.ndarray,
    tw: np.ndarray,
) -> None:
    """Add the SHAP values of every tree for each row of ``x`` into ``out`` (see the module docstring).

    Per row and tree: every split's decision; down the tree (parents
    first), per node and for both children at once, the child's
    one-fraction ``o``, ``1 / g(t_q)``, ``c(t_q)`` and its increment, the
    path product ``G(t_q)`` and, for a leaf, ``S = v * W_q * G``; then up
    the tree (children first) each node adds ``S * dc`` of both children to
    its feature and their sum to its own ``S``.  The points are taken
    :data:`LANES` at a time, written out one by one (loads, arithmetic,
    stores), with unsigned indices so that numba adds no negative-index
    wraparound.  The next tree's arrays are prefetched while one is computed.
    """
    n_trees = tree_edges.shape[0]
    max_e = 1
    for t in range(n_trees):
        max_e = max(max_e, tree_edges[t])
    lanes = tp.shape[0]
    blocks = lanes // LANES
    dec = np.zeros(max_e, np.int64)
    one = np.zeros(max_e, np.int64)
    inv_g = np.ones((max_e, lanes))
    cval = np.zeros((max_e, lanes))
    dc = np.zeros((max_e, lanes))
    prod = np.ones((max_e, lanes))
    s = np.zeros((max_e, lanes))
    u = 1.0 - tp
    phi = np.zeros((out.shape[1], lanes))
    one[0] = 1  # the root's edge: o = z = 1, so g = 1, c = 0, G = 1
    for r in range(x.shape[0]):
        phi[:] = 0.0
        for t in range(n_trees):
            n0, n1 = tree_nodes[t], tree_nodes[t + 1]
            if t + 1 < n_trees:
                prefetch_span(nodes_i, n1, tree_nodes[t + 2])
                prefetch_span(nodes_f, n1, tree_nodes[t + 2])
                prefetch_span(node_edges, n1, tree_nodes[t + 2])
                prefetch_span(node_zv, n1, tree_nodes[t + 2])
            for g in range(n0, n1):
                dec[g - n0] = go_left(x[r, nodes_i[g, 0]], nodes_i[g, 1], nodes_f[g], g, node_cat, cat_bits)
            for g in range(n0, n1):
                _down(g, dec[g - n0], node_edges, node_zv, one, inv_g, cval, dc, prod, s, tp, u, tw, blocks)
            for g in range(n1 - 1, n0 - 1, -1):
                kp = np.uint64(node_edges[g, 0])
                kr = np.uint64(node_edges[g, 1])
                f = nodes_i[g, 0]
                for b in range(blocks):
                    _up(np.uint64(b * LANES), kp, kr, f, dc, s, phi)
        for f in range(out.shape[1]):
            acc = 0.0
            for j in range(lanes):
                acc += phi[f, j]
            out[r, f] += acc


@nb.njit(inline="always", cache=True)
def _down(
    g: int,
    goes_left: int,
    node_edges: np.ndarray,
    node_zv: np.ndarray,
    one: np.ndarray,
    inv_g: np.ndarray,
    cval: np.ndarray,
    dc: np.ndarray,
    prod: np.ndarray,
    s: np.ndarray,
    tp: np.ndarray,
    u: np.ndarray,
    tw: np.ndarray,
    blocks: int,
) -> None:
    """Both children of node ``g``: their ``o``, ``1 / g``, ``c``, ``dc``, ``G`` and (leaves) ``S``."""
    kp = np.uint64(node_edges[g, 0])
    kl = kp + np.uint64(1)
    kr = np.uint64(node_edges[g, 1])
    prev = np.uint64(node_edges[g, 2])
    o_prev = one[prev]
    ol = o_prev & goes_left
    orr = o_prev & (1 - goes_left)
    one[kl] = ol
    one[kr] = orr
    zl, zr, vl, vr = node_zv[g, 0], node_zv[g, 1], node_zv[g, 2], node_zv[g, 3]
    for b in range(blocks):
        j0 = np.uint64(b * LANES)
        _child(j0, kl, kp, prev, float(ol), zl, vl, inv_g, cval, dc, prod, s, tp, u, tw)
        _child(j0, kr, kp, prev, float(orr), zr, vr, inv_g, cval, dc, prod, s, tp, u, tw)


@nb.njit(inline="always", cache=True)
def _child(
    j0: np.uint64,
    k: np.uint64,
    kp: np.uint64,
    prev: np.uint64,
    o: float,
    z: float,
    v: float,
    inv_g: np.ndarray,
    cval: np.ndarray,
    dc: np.ndarray,
    prod: np.ndarray,
    s: np.ndarray,
    tp: np.ndarray,
    u: np.ndarray,
    tw: np.ndarray,
) -> None:
    """Edge ``k`` (parent edge ``kp``), points ``j0 .. j0 + 3``: loads, then arithmetic, then stores, by lane."""
    j1, j2, j3 = j0 + np.uint64(1), j0 + np.uint64(2), j0 + np.uint64(3)
    c0, c1, c2, c3 = cval[prev, j0], cval[prev, j1], cval[prev, j2], cval[prev, j3]
    q0, q1, q2, q3 = inv_g[prev, j0], inv_g[prev, j1], inv_g[prev, j2], inv_g[prev, j3]
    r0, r1, r2, r3 = prod[kp, j0], prod[kp, j1], prod[kp, j2], prod[kp, j3]
    g0, g1 = o * tp[j0] + u[j0] * z, o * tp[j1] + u[j1] * z
    g2, g3 = o * tp[j2] + u[j2] * z, o * tp[j3] + u[j3] * z
    i0, i1, i2, i3 = 1.0 / g0, 1.0 / g1, 1.0 / g2, 1.0 / g3
    oz = o - z
    n0, n1, n2, n3 = oz * i0, oz * i1, oz * i2, oz * i3
    r0, r1, r2, r3 = r0 * q0 * g0, r1 * q1 * g1, r2 * q2 * g2, r3 * q3 * g3
    inv_g[k, j0], inv_g[k, j1], inv_g[k, j2], inv_g[k, j3] = i0, i1, i2, i3
    cval[k, j0], cval[k, j1], cval[k, j2], cval[k, j3] = n0, n1, n2, n3
    dc[k, j0], dc[k, j1], dc[k, j2], dc[k, j3] = n0 - c0, n1 - c1, n2 - c2, n3 - c3
    prod[k, j0], prod[k, j1], prod[k, j2], prod[k, j3] = r0, r1, r2, r3
    s[k, j0], s[k, j1] = v * tw[j0] * r0, v * tw[j1] * r1
    s[k, j2], s[k, j3] = v * tw[j2] * r2, v * tw[j3] * r3


@nb.njit(inline="always", cache=True)
def _up(j0: np.uint64, kp: np.uint64, kr: np.uint64, f: int, dc: np.ndarray, s: np.ndarray, phi: np.ndarray) -> None:
    """Node with edge ``kp``, children ``kp + 1`` and ``kr``, points ``j0 .. j0 + 3``: ``phi[f] += S * dc``."""
    kl = kp + np.uint64(1)
    j1, j2, j3 = j0 + np.uint64(1), j0 + np.uint64(2), j0 + np.uint64(3)
    a0, a1, a2, a3 = s[kl, j0], s[kl, j1], s[kl, j2], s[kl, j3]
    b0, b1, b2, b3 = s[kr, j0], s[kr, j1], s[kr, j2], s[kr, j3]
    phi[f, j0] += a0 * dc[kl, j0] + b0 * dc[kr, j0]
    phi[f, j1] += a1 * dc[kl, j1] + b1 * dc[kr, j1]
    phi[f, j2] += a2 * dc[kl, j2] + b2 * dc[kr, j2]
    phi[f, j3] += a3 * dc[kl, j3] + b3 * dc[kr, j3]
    s[kp, j0], s[kp, j1], s[kp, j2], s[kp, j3] = a0 + b0, a1 + b1, a2 + b2, a3 + b3
