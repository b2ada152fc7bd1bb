"""A credit scorecard: monotone binning, weight of evidence, logistic regression, points.

Each feature is cut into bins (numeric: quantile pre-bins merged until the event
rate is monotone in the value, every bin holding at least ``MIN_BIN_SHARE`` of
the rows; categorical: one bin per category, rare ones pooled), and each bin's
weight of evidence (WOE) replaces the value. A logistic regression on the WOE
columns gives one coefficient per feature, so the model's log-odds are a sum of
one term per feature and bin: the scorecard.

The scorecard is stored as a LightGBM text model with one single-feature tree
per feature whose leaves are the bins' log-odds terms (the intercept sits in
the first tree). So it is served, stored, signed and explained like every other
model, and its TreeSHAP explanation is exact and trivial: a feature's
contribution is its term minus the term's training mean, i.e. its points
(``-POINTS_PER_LOG_ODDS`` × the term) measured from the average applicant.

Points follow the usual scaling: ``BASE_SCORE`` points at odds of ``BASE_ODDS``
to one against the event, ``PDO`` more points for each doubling of those odds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from scoring.features import FeatureSpec
from scoring.vocab.arrays import FloatArray

MIN_BIN_SHARE = 0.05  # a bin holds at least 5% of the rows (the usual scorecard floor)
PRE_BINS = 20
SMOOTHING = 5.0  # prior rows at the overall rate in every bin: a small bin with no events keeps a finite WOE
PDO, BASE_SCORE, BASE_ODDS = 20.0, 600.0, 50.0
POINTS_PER_LOG_ODDS = PDO / np.log(2.0)
NO_SPLIT = 1e300  # the last numeric split: every finite value goes left, a missing one right


@dataclass(frozen=True)
class Binning:
    """The bins of one feature. Bin ``i`` of a numeric feature holds values ``<= edges[i]`` (above the
    previous edge); a categorical feature's bin of code ``c`` is ``code_bin[c]``. The last bin is "missing"."""

    feature: str
    kind: str
    edges: tuple[float, ...]  # numeric: upper edges of all bins but the last finite one
    code_bin: tuple[int, ...]  # categorical: bin of each category code
    labels: tuple[str, ...]  # one per bin, the missing bin last
    woe: tuple[float, ...]
    counts: tuple[int, ...]
    events: tuple[int, ...]
    code_counts: tuple[int, ...] = ()  # categorical: training rows of each code

    def assign(self, x: FloatArray) -> np.ndarray[Any, np.dtype[np.intp]]:
        """The bin index of each value (the missing bin for NaN and unknown codes)."""
        missing = len(self.labels) - 1
        out = np.full(len(x), missing, dtype=np.intp)
        ok = ~np.isnan(x)
        if self.kind == "numeric":
            out[ok] = np.searchsorted(np.asarray(self.edges), x[ok], side="left")
        else:
            codes = x[ok].astype(np.intp)
            lookup = np.asarray(self.code_bin, dtype=np.intp)
            known = (codes >= 0) & (codes < len(lookup))
            out[np.flatnonzero(ok)[known]] = lookup[codes[known]]
        return out


def _woe(events: FloatArray, counts: FloatArray, total_events: float, total: float) -> FloatArray:
    """Log-odds of the event in each bin minus the overall log-odds, with ``SMOOTHING`` prior rows per bin."""
    rate = min(max(total_events / total, 1e-6), 1 - 1e-6)
    ev = events + SMOOTHING * rate
    non = counts - events + SMOOTHING * (1 - rate)
    return np.asarray(np.log(ev / non) - np.log(rate / (1 - rate)), dtype=np.float64)


def _monotone_merge(counts: list[float], events: list[float], direction: int) -> list[int]:
    """Pool adjacent bins until event rates follow ``direction`` (+1 rising) and every bin is big enough."""
    groups = [[i] for i in range(len(counts))]
    c, e = list(counts), list(events)
    floor = MIN_BIN_SHARE * sum(counts)
    changed = True
    while changed and len(c) > 1:
        changed = False
        for i in range(len(c) - 1):
            violates = direction * (e[i + 1] / c[i + 1] - e[i] / c[i]) < 0
            if violates or c[i] < floor or c[i + 1] < floor:
                c[i : i + 2], e[i : i + 2] = [c[i] + c[i + 1]], [e[i] + e[i + 1]]
                groups[i : i + 2] = [groups[i] + groups[i + 1]]
                changed = True
                break
    # the upper edge of each merged bin is the upper edge of its last pre-bin
    return [g[-1] for g in groups[:-1]]


def bin_numeric(name: str, x: FloatArray, y: FloatArray, *, monotone: int = 0) -> Binning:
    """Monotone bins of one numeric feature (``monotone``: the spec's direction, else the data's)."""
    ok = ~np.isnan(x)
    xv, yv = x[ok], y[ok]
    qs = np.unique(np.quantile(xv, np.linspace(0, 1, PRE_BINS + 1)[1:-1])) if len(xv) else np.array([])
    pre = np.searchsorted(qs, xv, side="left")
    counts = [float(np.sum(pre == i)) for i in range(len(qs) + 1)]
    events = [float(np.sum(yv[pre == i])) for i in range(len(qs) + 1)]
    keep = [i for i, n in enumerate(counts) if n > 0]
    counts, events = [counts[i] for i in keep], [events[i] for i in keep]
    pre_edges = [float(qs[i]) for i in keep[:-1]]
    direction = monotone or (1 if len(xv) > 1 and np.corrcoef(xv, yv)[0, 1] >= 0 else -1)
    if not np.isfinite(direction):
        direction = 1
    cut = _monotone_merge(counts, events, direction) if counts else []
    edges = tuple(pre_edges[i] for i in cut)
    labels = (*_numeric_labels(edges), "missing")
    return _finish(name, "numeric", edges, (), labels, x, y)


def _numeric_labels(edges: tuple[float, ...]) -> tuple[str, ...]:
    if not edges:
        return ("all values",)
    lows = ("-inf", *(f"{e:g}" for e in edges))
    highs = (*(f"{e:g}" for e in edges), "inf")
    return tuple(f"({lo}, {hi}]" if hi != "inf" else f"({lo}, inf)" for lo, hi in zip(lows, highs, strict=True))


def bin_categorical(spec: FeatureSpec, x: FloatArray, y: FloatArray) -> Binning:
    """One bin per category; categories under ``MIN_BIN_SHARE`` of the rows are pooled into "other"."""
    cats = spec.categories or ()
    counts = np.array([np.sum(x == i) for i in range(len(cats))], dtype=float)
    big = counts >= MIN_BIN_SHARE * len(x)
    code_bin: list[int] = []
    labels: list[str] = []
    for i, c in enumerate(cats):
        if big[i]:
            code_bin.append(len(labels))
            labels.append(c)
    other = len(labels)
    if not big.all():
        labels.append("other (rare or unseen)")
    code_bin = [code_bin.pop(0) if big[i] else other for i in range(len(cats))]
    b = _finish(spec.name, "categorical", (), tuple(code_bin), (*labels, "missing"), x, y)
    return Binning(**{**b.__dict__, "code_counts": tuple(int(v) for v in counts)})


def _finish(
    name: str,
    kind: str,
    edges: tuple[float, ...],
    code_bin: tuple[int, ...],
    labels: tuple[str, ...],
    x: FloatArray,
    y: FloatArray,
) -> Binning:
    draft = Binning(name, kind, edges, code_bin, labels, (0.0,) * len(labels), (0,) * len(labels), (0,) * len(labels))
    idx = draft.assign(x)
    counts = np.bincount(idx, minlength=len(labels)).astype(np.float64)
    events = np.bincount(idx, weights=y, minlength=len(labels)).astype(np.float64)
    woe = _woe(events, counts, float(y.sum()), float(len(y)))
    woe[counts == 0] = 0.0  # an empty bin (no missing values in training) scores as the average
    return Binning(
        name, kind, edges, code_bin, labels, tuple(map(float, woe)), tuple(map(int, counts)), tuple(map(int, events))
    )


@dataclass(frozen=True)
class Scorecard:
    """Binnings, the logistic regression on their WOE columns, and the booster that serves them."""

    binnings: tuple[Binning, ...]
    coefficients: tuple[float, ...]
    intercept: float
    booster: lgb.Booster

    def table(self) -> list[dict[str, Any]]:
        """One row per feature and bin: rows, event rate, WOE, log-odds term and points."""
        rows = []
        for b, coef in zip(self.binnings, self.coefficients, strict=True):
            for label, woe, n, ev in zip(b.labels, b.woe, b.counts, b.events, strict=True):
                rows.append(
                    {
                        "feature": b.feature,
                        "bin": label,
                        "rows": n,
                        "event_rate": ev / n if n else None,
                        "woe": woe,
                        "log_odds": coef * woe,
                        "points": round(float(-POINTS_PER_LOG_ODDS * coef * woe), 1),
                    }
                )
        return rows

    def summary(self) -> dict[str, Any]:
        """The scorecard for the manifest and the report."""
        offset = BASE_SCORE - POINTS_PER_LOG_ODDS * np.log(BASE_ODDS)
        return {
            "scaling": (
                f"{BASE_SCORE:g} points at odds {BASE_ODDS:g}:1 against the event, {PDO:g} points more to double them; "
                "score = base points + the points of each feature's bin (higher score, lower probability)"
            ),
            "base_points": round(float(offset - POINTS_PER_LOG_ODDS * self.intercept), 1),
            "intercept": self.intercept,
            "coefficients": dict(zip((b.feature for b in self.binnings), self.coefficients, strict=True)),
            "table": self.table(),
        }


def fit_scorecard(x: FloatArray, y: FloatArray, specs: Sequence[FeatureSpec], *, c: float = 1.0) -> Scorecard:
    """Bin, WOE-transform and fit an L2 logistic regression (``c``: inverse regularisation strength)."""
    from sklearn.linear_model import LogisticRegression

    binnings = tuple(
        bin_numeric(s.name, x[:, j], y, monotone=s.monotone) if s.kind == "numeric" else bin_categorical(s, x[:, j], y)
        for j, s in enumerate(specs)
    )
    w = woe_matrix(binnings, x)
    lr = LogisticRegression(C=c, max_iter=1000)
    lr.fit(w, y)
    coefs = tuple(float(v) for v in lr.coef_[0])
    intercept = float(lr.intercept_[0])
    booster = lgb.Booster(model_str=scorecard_model_text(binnings, coefs, intercept, [s.name for s in specs]))
    return Scorecard(binnings, coefs, intercept, booster)


def woe_matrix(binnings: Sequence[Binning], x: FloatArray) -> FloatArray:
    """Each column replaced by its bin's WOE."""
    cols = [np.asarray(b.woe)[b.assign(x[:, j])] for j, b in enumerate(binnings)]
    return np.column_stack(cols).astype(np.float64)


def _tree_text(index: int, feature: int, b: Binning, values: list[float]) -> str:
    """A chain of numeric splits on one feature, one leaf per bin (codes for a categorical), the missing leaf last."""
    if b.kind == "numeric":
        thresholds = [*b.edges, NO_SPLIT]
        leaf_values = values  # bins in order, then missing
        counts = list(b.counts)
    else:
        thresholds = [i + 0.5 for i in range(len(b.code_bin) - 1)] + [NO_SPLIT]
        leaf_values = [values[k] for k in b.code_bin] + [values[-1]]
        counts = [*b.code_counts, b.counts[-1]]
    n = len(thresholds)
    counts = [max(int(v), 1) for v in counts]  # the SHAP expectation weighs leaves by these counts
    internal = [sum(counts[i:]) for i in range(n)]
    lines = [
        f"Tree={index}",
        f"num_leaves={n + 1}",
        "num_cat=0",
        "split_feature=" + " ".join([str(feature)] * n),
        "split_gain=" + " ".join(["1"] * n),
        "threshold=" + " ".join(repr(float(t)) for t in thresholds),
        "decision_type=" + " ".join(["8"] * n),  # missing type NaN, missing goes right
        "left_child=" + " ".join(str(-(i + 1)) for i in range(n)),
        "right_child=" + " ".join(str(i + 1) for i in range(n - 1)) + f" {-(n + 1)}",
        "leaf_value=" + " ".join(repr(float(v)) for v in leaf_values),
        "leaf_weight=" + " ".join(str(float(c)) for c in counts),
        "leaf_count=" + " ".join(str(c) for c in counts),
        "internal_value=" + " ".join(["0"] * n),
        "internal_weight=" + " ".join(str(float(c)) for c in internal),
        "internal_count=" + " ".join(str(c) for c in internal),
        "is_linear=0",
        "shrinkage=1",
    ]
    return "\n".join(lines) + "\n\n"


def scorecard_model_text(
    binnings: Sequence[Binning], coefficients: Sequence[float], intercept: float, names: Sequence[str]
) -> str:
    """LightGBM model text of the scorecard: leaves hold ``coefficient × WOE`` (the intercept in tree 0)."""
    trees: list[str] = []
    for j, (b, coef) in enumerate(zip(binnings, coefficients, strict=True)):
        values = [coef * w for w in b.woe]
        if not trees:
            values = [v + intercept for v in values]
        trees.append(_tree_text(len(trees), j, b, values))
    infos = " ".join("none" for _ in names)
    header = (
        "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n"
        f"max_feature_idx={len(names) - 1}\nobjective=binary sigmoid:1\n"
        f"feature_names={' '.join('_'.join(n.split()) for n in names)}\nfeature_infos={infos}\n\n"
    )
    return (
        header
        + "".join(trees)
        + "end of trees\n\nparameters:\n[boosting: gbdt]\n[objective: binary]\nend of parameters\n"
    )
