"""Choose the model family of a generic binary model by cross-validated AUC.

Candidates (a deliberately small search: every candidate costs one fit per fold):

* LightGBM, early-stopped on an inner 15% of each fold's training rows, over
  :data:`LGBM_GRID` — from very constrained (4 leaves, strong L2, slow learning
  rate: near-additive, for small or mostly linear data) to the usual 31 leaves —
  with the spec's monotone constraints;
* a scorecard (:mod:`training.scorecard`): monotone WOE bins and a logistic regression,
  over :data:`SCORECARD_C`.

The best LightGBM setting is compared with the scorecard: the scorecard wins
unless LightGBM's mean fold AUC is more than :data:`PARSIMONY_MARGIN` higher,
because a scorecard is simpler to read, validate and explain, and on small or
mostly linear data it generalises at least as well. The chosen candidate is
refitted on all the rows given (LightGBM with the mean early-stopping round).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from scoring.features import FeatureSpec
from scoring.vocab.arrays import BoolArray, FloatArray
from training.fit import BASE_PARAMS, Fitted
from training.progress import steps
from training.scorecard import fit_scorecard

LGBM_GRID: tuple[dict[str, float], ...] = (
    {"num_leaves": 4, "min_data_in_leaf": 50, "lambda_l2": 10.0, "learning_rate": 0.03},
    {"num_leaves": 7, "min_data_in_leaf": 30, "lambda_l2": 5.0, "learning_rate": 0.05},
    {"num_leaves": 15, "min_data_in_leaf": 20, "lambda_l2": 1.0, "learning_rate": 0.05},
    {"num_leaves": 31, "min_data_in_leaf": 20, "lambda_l2": 1.0, "learning_rate": 0.05},
)
# Inverse L2 strength of the scorecard's logistic regression: WOE columns are on one scale, so one
# grid serves every file; strong shrinkage wins on small files (German credit: 0.783 at C=1, 0.796 at 0.03).
SCORECARD_C = (0.03, 0.3, 3.0)
PARSIMONY_MARGIN = 0.005
FOLDS = 5
MAX_ROUNDS = 2000
EARLY_STOPPING = 50
INNER_VALID = 0.15


@dataclass(frozen=True)
class Candidate:
    """One family and setting: its name, how to fit it, and its fold results."""

    name: str
    family: str
    params: dict[str, Any]


def candidates() -> list[Candidate]:
    """The LightGBM grid, then the scorecard."""
    out = [
        Candidate(
            f"lightgbm leaves={int(g['num_leaves'])} min_leaf={int(g['min_data_in_leaf'])} "
            f"l2={g['lambda_l2']:g} lr={g['learning_rate']:g}",
            "lightgbm",
            dict(g),
        )
        for g in LGBM_GRID
    ]
    cards = [Candidate(f"scorecard C={c:g}", "scorecard", {"C": c}) for c in SCORECARD_C]
    return [*out, *cards]


def _lgb_params(c: Candidate, specs: Sequence[FeatureSpec], seed: int) -> dict[str, Any]:
    params = {**BASE_PARAMS, **c.params, "objective": "binary", "metric": "auc", "seed": seed}
    params["max_depth"] = -1
    params["num_threads"] = 1  # small data: threads cost more than they save, and the machine is shared
    if any(s.monotone for s in specs):
        params["monotone_constraints"] = [s.monotone for s in specs]
        params["monotone_constraints_method"] = "advanced"
    return params


def _dataset(x: FloatArray, y: FloatArray, specs: Sequence[FeatureSpec], ref: lgb.Dataset | None = None) -> lgb.Dataset:
    cats = [i for i, s in enumerate(specs) if s.kind == "categorical"]
    names = ["_".join(s.name.split()) for s in specs]
    return lgb.Dataset(x, y, feature_name=names, categorical_feature=cats, reference=ref, free_raw_data=False)


def fit_lgbm(
    c: Candidate, x: FloatArray, y: FloatArray, specs: Sequence[FeatureSpec], *, seed: int, rounds: int | None = None
) -> lgb.Booster:
    """Early-stopped on an inner stratified 15% (``rounds`` given: that many rounds on all rows)."""
    params = _lgb_params(c, specs, seed)
    if rounds is not None:
        return lgb.train(params, _dataset(x, y, specs), num_boost_round=max(rounds, 1))
    inner = _inner_valid(y, seed)
    train = _dataset(x[~inner], y[~inner], specs)
    valid = _dataset(x[inner], y[inner], specs, ref=train)
    return lgb.train(
        params,
        train,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)],
    )


def _inner_valid(y: FloatArray, seed: int) -> BoolArray:
    rng = np.random.default_rng(seed + 1)
    out = np.zeros(len(y), dtype=bool)
    for cls in (0.0, 1.0):
        idx = np.flatnonzero(y == cls)
        out[rng.choice(idx, size=max(1, round(INNER_VALID * len(idx))), replace=False)] = True
    return out


def _fold_auc(
    c: Candidate, x: FloatArray, y: FloatArray, tr: BoolArray, specs: Sequence[FeatureSpec], seed: int
) -> tuple[float, int]:
    te = ~tr
    if c.family == "scorecard":
        card = fit_scorecard(x[tr], y[tr], specs, c=float(c.params["C"]))
        return float(roc_auc_score(y[te], card.booster.predict(x[te], raw_score=True))), 0
    booster = fit_lgbm(c, x[tr], y[tr], specs, seed=seed)
    return float(roc_auc_score(y[te], booster.predict(x[te], raw_score=True))), int(booster.best_iteration or 1)


def cross_validate(
    x: FloatArray,
    y: FloatArray,
    specs: Sequence[FeatureSpec],
    *,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Mean and spread of the fold AUCs of every candidate (stratified ``FOLDS``-fold)."""
    folds = list(StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed).split(x, y))
    cands = candidates()
    rows = []
    with steps("cross-validation", len(folds) * len(cands), progress) as bar:
        for c in cands:
            aucs, iters = [], []
            for k, (tr_idx, _) in enumerate(folds):
                tr = np.zeros(len(y), dtype=bool)
                tr[tr_idx] = True
                auc, it = _fold_auc(c, x, y, tr, specs, seed)
                aucs.append(auc)
                iters.append(it)
                bar.advance(f"{c.name} fold {k + 1}/{len(folds)}: AUC {auc:.3f}")
            rows.append(
                {
                    "candidate": c.name,
                    "family": c.family,
                    "cv_auc": float(np.mean(aucs)),
                    "cv_auc_sd": float(np.std(aucs)),
                    "rounds": int(np.mean(iters)) if c.family == "lightgbm" else None,
                }
            )
    return rows


def choose(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """The chosen row and why (the parsimony rule of the module docstring)."""
    lgbm = max((r for r in rows if r["family"] == "lightgbm"), key=lambda r: r["cv_auc"])
    card = max((r for r in rows if r["family"] == "scorecard"), key=lambda r: r["cv_auc"])
    gap = lgbm["cv_auc"] - card["cv_auc"]
    if gap <= PARSIMONY_MARGIN:
        relation = "above" if gap < 0 else f"within the parsimony margin {PARSIMONY_MARGIN} of"
        return card, (
            f"scorecard chosen ({card['candidate']}): its cross-validated AUC {card['cv_auc']:.4f} is {relation} "
            f"the best LightGBM's ({lgbm['candidate']}, {lgbm['cv_auc']:.4f})"
        )
    return lgbm, (
        f"LightGBM chosen ({lgbm['candidate']}): cross-validated AUC {lgbm['cv_auc']:.4f}, "
        f"{gap:.4f} above the best scorecard's ({card['candidate']}, {card['cv_auc']:.4f}; "
        f"more than the parsimony margin {PARSIMONY_MARGIN})"
    )


def select_and_fit(
    x: FloatArray,
    y: FloatArray,
    specs: Sequence[FeatureSpec],
    *,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Fitted:
    """Cross-validate every candidate on ``x, y``, refit the chosen one on all of them."""
    rows = cross_validate(x, y, specs, seed=seed, progress=progress)
    chosen, reason = choose(rows)
    if progress is not None:
        progress(reason)
    cand = next(c for c in candidates() if c.name == chosen["candidate"])
    extra: dict[str, Any] = {
        "space": "log-odds",
        "family": chosen["family"],
        "candidate": chosen["candidate"],
        "family_reason": reason,
        "cv": rows,
        "cv_folds": FOLDS,
        "parsimony_margin": PARSIMONY_MARGIN,
    }
    if cand.family == "scorecard":
        card = fit_scorecard(x, y, specs, c=float(cand.params["C"]))
        extra["scorecard"] = card.summary()
        extra["explanations"] = "the scorecard's own additive terms (points = -PDO/ln 2 x the log-odds term)"
        return Fitted(
            {"main": card.booster}, {"family": "scorecard", **cand.params}, tuple(specs), "binary", None, extra
        )
    booster = fit_lgbm(cand, x, y, specs, seed=seed, rounds=chosen["rounds"])
    extra["best_iteration"] = chosen["rounds"]
    return Fitted({"main": booster}, _lgb_params(cand, specs, seed), tuple(specs), "binary", None, extra)
