"""Book revaluation: :func:`scoring.watch.mark_patents` against raw LightGBM predict on the same matrix.

    .venv/bin/python benchmarks/bench_revalue.py [--patents 200000] [--reps 5] [--home /tmp/bench-home]

Builds a province-sized book of synthetic patents as contract columns (numpy,
seeded), then alternates, ``--reps`` times in one process:

* **raw**: the three valuation boosters' ``predict`` (single-threaded, as
  served) on the finished feature matrix, one call each over the whole book;
* **mark**: ``mark_patents`` from the columns: features, matrix, the three
  boosters per chunk of 65,536 rows, the pledge value basis;
* **features**: the feature matrix alone (what ``mark`` adds to LightGBM).

and then ``--pairs`` short interleaved pairs (raw, then mark, on the same
``--slice`` rows), whose median ratio drifts less with the load of a shared
machine than whole-book runs a minute apart.  Reports medians: patents per
second of each, the ratios (target ≥ 0.8), the feature time, and the wall
time for the whole book.  Writes ``benchmarks/results/bench_revalue.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from bench_assessment import ensure_store, machine

from models_store import ModelStore
from scoring import features as F
from scoring import vocab
from scoring.models import PREDICT_THREADS, LoadedModel
from scoring.vocab.arrays import AnyArray, FloatArray
from scoring.watch import mark_patents
from service.bundle import load_champion

HERE = Path(__file__).resolve().parent
AS_OF = date(2026, 11, 30)


def synthetic_book(n: int, seed: int = 20261130) -> tuple[dict[str, AnyArray], FloatArray]:
    """``n`` granted patents as contract columns, and their owners' revenue (CNY)."""
    rng = np.random.default_rng(seed)
    ptype = rng.choice(np.array(vocab.PATENT_TYPES, dtype=object), n, p=[0.6, 0.3, 0.1])
    filing = np.datetime64("2012-01-01") + rng.integers(0, 365 * 12, n).astype("timedelta64[D]")
    cols: dict[str, AnyArray] = {
        "patent_id": np.array([f"P{i}" for i in range(n)], dtype=object),
        "patent_type": ptype,
        "ipc_section": rng.choice(np.array(vocab.IPC_SECTIONS, dtype=object), n),
        "tech_field": rng.choice(np.array(vocab.TECH_FIELDS, dtype=object), n),
        "industry": rng.choice(np.array(vocab.INDUSTRIES, dtype=object), n),
        "owner_type": rng.choice(np.array(vocab.OWNER_TYPES, dtype=object), n),
        "filing_date": filing,
        "grant_date": filing + rng.integers(180, 900, n).astype("timedelta64[D]"),
        "legal_status": np.where(rng.random(n) < 0.97, "granted", "lapsed").astype(object),
        "claims_count": np.where(ptype == "design", np.nan, rng.integers(1, 30, n)),
        "independent_claims": np.where(ptype == "design", np.nan, rng.integers(1, 4, n)),
        "family_size": rng.integers(1, 8, n),
        "foreign_family_members": rng.integers(0, 2, n),
        "forward_citations": rng.poisson(4, n),
        "licences_count": rng.poisson(0.3, n),
        "transfers_count": rng.poisson(0.2, n),
        "prior_pledges_count": rng.poisson(0.2, n),
        "litigation_count": rng.poisson(0.05, n),
        "invalidation_requests": rng.poisson(0.03, n),
        "annual_fees_paid_years": rng.integers(1, 12, n),
        "fees_up_to_date": rng.random(n) < 0.98,
        "strategic_emerging": rng.random(n) < 0.3,
        "patent_award": rng.random(n) < 0.02,
        "co_owned": rng.random(n) < 0.1,
        "preservation_order": rng.random(n) < 0.005,
        "ownership_dispute": rng.random(n) < 0.005,
    }
    return cols, rng.lognormal(17, 1.2, n)


def raw_predict(model: LoadedModel, x: FloatArray) -> float:
    """Seconds for the three boosters' single-threaded predict over ``x``."""
    start = time.perf_counter()
    for role in ("p10", "p50", "p90"):
        model.boosters[role].predict(x, raw_score=True, num_threads=PREDICT_THREADS)
    return time.perf_counter() - start


def mark(model: LoadedModel, cols: dict[str, AnyArray], revenue: FloatArray) -> float:
    """Seconds for ``mark_patents`` over the columns."""
    start = time.perf_counter()
    mark_patents(model, cols, AS_OF, owner_revenue=revenue)
    return time.perf_counter() - start


def features(cols: dict[str, AnyArray], revenue: FloatArray) -> float:
    """Seconds to build the feature matrix alone (the part of ``mark`` that is not LightGBM)."""
    start = time.perf_counter()
    F.to_matrix(F.valuation_columns(cols, np.datetime64(AS_OF, "D"), owner_revenue=revenue), F.VALUATION_FEATURES)
    return time.perf_counter() - start


def main() -> None:
    """Run the comparison and print and write the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patents", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--slice", type=int, default=20_000, help="Rows per interleaved pair for the ratio.")
    ap.add_argument("--pairs", type=int, default=15)
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"))
    args = ap.parse_args()
    settings = ensure_store(args.home)
    model = load_champion(ModelStore(settings.store_path), "valuation")
    cols, revenue = synthetic_book(args.patents)
    x = F.to_matrix(F.valuation_columns(cols, np.datetime64(AS_OF, "D"), owner_revenue=revenue), F.VALUATION_FEATURES)
    mark(model, {k: v[:1000] for k, v in cols.items()}, revenue[:1000])  # warm both paths
    raw_predict(model, x[:1000])
    raws, marks, feats = [], [], []
    for _ in range(args.reps):
        raws.append(raw_predict(model, x))
        marks.append(mark(model, cols, revenue))
        feats.append(features(cols, revenue))
    raw_s, mark_s = statistics.median(raws), statistics.median(marks)
    # The ratio from short interleaved pairs: a loaded machine drifts less within a pair of a few seconds.
    pairs = []
    for i in range(args.pairs):
        lo = (i * args.slice) % max(1, args.patents - args.slice + 1)
        part = {k: v[lo : lo + args.slice] for k, v in cols.items()}
        r = raw_predict(model, x[lo : lo + args.slice])
        m = mark(model, part, revenue[lo : lo + args.slice])
        pairs.append(r / m)
    out: dict[str, Any] = {
        "patents": args.patents,
        "reps": args.reps,
        "model_version": model.version,
        "trees": {r: model.boosters[r].num_trees() for r in ("p10", "p50", "p90")},
        "raw_predict_seconds_median": round(raw_s, 3),
        "mark_seconds_median": round(mark_s, 3),
        "raw_patents_per_second": round(args.patents / raw_s),
        "mark_patents_per_second": round(args.patents / mark_s),
        "ratio_mark_to_raw": round(raw_s / mark_s, 3),
        "ratio_interleaved_pairs_median": round(statistics.median(pairs), 3),
        "interleaved_pairs": {"rows": args.slice, "pairs": args.pairs, "ratios": [round(v, 3) for v in pairs]},
        "features_seconds_median": round(statistics.median(feats), 3),
        "features_seconds_all": [round(v, 3) for v in feats],
        "raw_seconds_all": [round(v, 3) for v in raws],
        "mark_seconds_all": [round(v, 3) for v in marks],
        "machine": machine(),
    }
    print(json.dumps(out, indent=2))
    (HERE / "results" / "bench_revalue.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
