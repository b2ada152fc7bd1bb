"""Exact SHAP: the TreeSHAP kernels (``scoring.treeshap``) against LightGBM's ``pred_contrib``, per served booster.

    .venv/bin/python benchmarks/bench_explain.py [--quick] [--home /tmp/bench-home]

Two kernels: ``kernel`` reads per-leaf tables (batches), ``edges`` reads only
the trees' edges (single rows, ``TreeShap.row_contributions``).  For every
booster of the bootstrapped champions (valuation P10/P50/P90, PD, claim
review), in one run with the implementations alternating:

* single row, back to back: blocks of calls of one implementation, then of
  the next, on the rows of the benchmark cases (``cases.py``; probe rows
  for claim review, whose inputs the cases do not build);
* single row, interleaved: before every timed call the rest of an
  assessment (the next case's matrices, its P10/P50/P90 raw scores, and the
  SHAP of the other explained booster, PD or P50, by the same
  implementation, the edge world explaining it as the service does), then
  one call; the implementations alternate in blocks of 20 calls, each in
  its own world, as a service runs one of them;
* single row, L2: the same with a sweep over 2 MiB (twice this machine's
  per-core L2) as the other work: the core's own caches lost, the shared
  L3 kept, as between two requests on a host with nothing else running;
* single row, cold: the same with a sweep over 32 MiB (this machine's whole
  L3) as the other work: every byte from memory, as when other processes
  share the L3 (the table kernel reads about 1.6 MB per valuation row, the
  edge kernel about 0.3 MB, see ``docs/performance.md``);
* rows: calls of 1 to 64 rows, interleaved as above, table kernel against
  edge kernel: where the explainer switches (``ROW_KERNEL_MAX_ROWS``);
* batch: ``--batch-rows`` rows (default 10,000) on 1 and 2 threads
  (kernel: two Python threads over row ranges, the kernel releases the GIL;
  LightGBM: ``num_threads``), alternating, ``--reps`` times;

each with the largest difference from ``pred_contrib``.  Also the build
and gate time per booster, the arrays' memory, numba's cold compile and
warm-cache load (in child processes with their own cache directory) and
numba's and llvmlite's install size.  Figures quoted are medians.  Writes
``benchmarks/results/bench_explain.json``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from bench_assessment import InProcess, ensure_store, machine
from cases import AS_OF, make_cases

from models_store import ModelStore
from scoring.credit import pd_matrix
from scoring.models import LoadedModel
from scoring.treeshap import TreeShap
from scoring.treeshap import explainer as explainer_module
from scoring.treeshap.gate import probe_rows
from scoring.valuation import quantiles, valuation_matrix
from service.bundle import SERVED, load_champion

HERE = Path(__file__).resolve().parent
COLD = np.ones(2**22)  # 32 MiB: this machine's whole L3
L2 = np.ones(2**18)  # 2 MiB: twice this machine's per-core L2, 1/16 of its L3
MODES = ("b2b", "inter", "l2", "cold")
# Interleaved calls alternate in blocks: a service runs one implementation, and LightGBM's pred_contrib between
# two kernel calls would charge the kernel for the caches and branch history pred_contrib takes (and vice versa).
BLOCK = 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"), help="IPRISK_HOME with (or for) the models")
    ap.add_argument("--quick", action="store_true", help="few calls and a small batch, for a smoke run")
    ap.add_argument("--n", type=int, help="single-row calls per implementation, mode and round (default 200)")
    ap.add_argument("--rounds", type=int, help="alternating rounds of single-row calls (default 5)")
    ap.add_argument("--batch-rows", type=int, help="rows per batch call (default 10000)")
    ap.add_argument("--reps", type=int, help="alternating batch repetitions (default 3)")
    ap.add_argument("--max-load", type=float, default=3.0, help="wait while the 1-minute load average is above this")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "bench_explain.json")
    ap.add_argument("--assessment", action="store_true", help="only the in-process assessment, edge kernel on and off")
    ap.add_argument("--numba-only", action="store_true", help="only the compile costs, into --out's numba entry")
    args = ap.parse_args(argv)
    args.n = args.n or (30 if args.quick else 200)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.batch_rows = args.batch_rows or (1000 if args.quick else 10_000)
    args.reps = args.reps or (1 if args.quick else 3)
    return args


def wait_quiet(max_load: float, max_wait: float = 300.0) -> float:
    """Wait (at most ``max_wait`` s) until the 1-minute load average is below ``max_load``; return it."""
    t0 = time.monotonic()
    while os.getloadavg()[0] > max_load and time.monotonic() - t0 < max_wait:
        time.sleep(10)
    return os.getloadavg()[0]


def model_rows(models: dict[str, LoadedModel], n: int) -> dict[str, np.ndarray]:
    """Input rows per model: the cases' valuation and PD matrices; probe rows for the others."""
    cases = make_cases(n)
    valuation, rows = models["valuation"], {}
    xv = [valuation_matrix(c.patents, AS_OF, c.borrower.revenue_cny) for c in cases]
    rows["valuation"] = np.concatenate(xv)
    rows["pd"] = np.concatenate(
        [
            pd_matrix(c.borrower, c.loan, c.patents, AS_OF, float(quantiles(valuation, x)[:, 1].sum()))
            for c, x in zip(cases, xv, strict=True)
        ]
    )
    for name, model in models.items():
        if name not in rows:
            kernel = model.explainer().kernel
            rows[name] = probe_rows(kernel.tables)[0] if kernel is not None else np.zeros((1, len(model.features)))
    return rows


def single_row(
    impls: dict[str, Callable[[np.ndarray], Any]],
    rows: np.ndarray,
    other: dict[str, Callable[[], Any]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Median single-row latency (ms) of each: back to back, between an assessment's other work, L2 lost, cold."""
    times: dict[str, list[float]] = {f"{impl}_{m}": [] for m in MODES for impl in impls}
    one = [rows[i : i + 1] for i in range(len(rows))]
    for f in impls.values():  # warm up
        for x in one[:10]:
            f(x)
    for _ in range(args.rounds):
        for impl, f in impls.items():
            for i in range(args.n):
                x = one[i % len(one)]
                t0 = time.perf_counter()
                f(x)
                times[f"{impl}_b2b"].append(time.perf_counter() - t0)
        for mode in MODES[1:]:
            for start in range(0, args.n, BLOCK):  # a block of one implementation's world, then the others'
                for impl, f in impls.items():
                    for i in range(start, min(start + BLOCK, args.n)):
                        x = one[i % len(one)]
                        if mode == "inter":
                            other[impl]()
                        else:
                            (L2 if mode == "l2" else COLD).sum()
                        t0 = time.perf_counter()
                        f(x)
                        times[f"{impl}_{mode}"].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    return {
        "median_ms": med,
        **{f"speedup_{m}": med[f"lightgbm_{m}"] / med[f"kernel_{m}"] for m in MODES},
        **{f"speedup_edges_{m}": med[f"lightgbm_{m}"] / med[f"edges_{m}"] for m in MODES},
    }


def row_counts(
    kernel: TreeShap, rows: np.ndarray, other: dict[str, Callable[[], Any]], args: argparse.Namespace
) -> dict[str, Any]:
    """Median ms per call of ``n`` rows, table kernel against edge kernel, interleaved: where the switch pays."""
    out: dict[str, Any] = {}
    calls = max(args.n // 4, 10)
    impls = {"kernel": kernel.contributions, "edges": kernel.row_contributions}
    for n in (1, 2, 4, 8, 16, 32, 64):
        x = np.resize(rows, (n, rows.shape[1]))
        times: dict[str, list[float]] = {impl: [] for impl in impls}
        for _ in range(args.rounds):
            for impl, f in impls.items():
                for _ in range(calls):
                    other[impl]()
                    t0 = time.perf_counter()
                    f(x)
                    times[impl].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        out[str(n)] = {"median_ms": med, "edges_over_kernel": med["edges"] / med["kernel"]}
    return out


def pred_contrib(booster: lgb.Booster, x: np.ndarray, threads: int = 1) -> np.ndarray:
    """The baseline: LightGBM's own TreeSHAP."""
    return np.asarray(booster.predict(x, pred_contrib=True, num_threads=threads), dtype=np.float64)


def other_work(models: dict[str, LoadedModel], name: str) -> dict[str, Callable[[], Any]]:
    """The rest of an assessment around one explanation, per implementation.

    The next case's matrices (Python), its P10/P50/P90 raw scores (LightGBM),
    and the SHAP of the assessment's other explained booster by the same
    implementation: the PD's when a valuation booster is measured, the P50's
    otherwise (in the edge world through the explainer, which sends calls
    of a few rows to the edge kernel, as the service does).
    """
    valuation, pd = models["valuation"], models["pd"]
    cases = itertools.cycle(make_cases(50, seed=7))
    other_model, other_role = (pd, "main") if name == "valuation" else (valuation, "p50")
    booster = other_model.boosters[other_role]
    explainer = other_model.explainer(other_role)
    kernel = explainer.kernel

    def matrices() -> np.ndarray:
        c = next(cases)
        xv = valuation_matrix(c.patents, AS_OF, c.borrower.revenue_cny)
        xp = pd_matrix(c.borrower, c.loan, c.patents, AS_OF, float(quantiles(valuation, xv)[:, 1].sum()))
        return xp if other_model is pd else xv

    return {
        "kernel": lambda: kernel.contributions(matrices()) if kernel is not None else None,
        "edges": lambda: explainer.contributions(matrices()),
        "lightgbm": lambda: pred_contrib(booster, matrices()),
    }


def edges_diff(kernel: TreeShap, booster: lgb.Booster, rows: np.ndarray) -> float:
    """Largest |edge kernel - pred_contrib| over ``rows``, one row per call."""
    got = np.concatenate([kernel.row_contributions(rows[i : i + 1]) for i in range(len(rows))])
    return float(np.abs(got - pred_contrib(booster, rows)).max())


def batch(model: LoadedModel, role: str, rows: np.ndarray, args: argparse.Namespace) -> dict[str, Any]:
    """Median rows/s of both on 1 and 2 threads, alternating; the largest difference."""
    explainer = model.explainer(role)
    assert explainer.kernel is not None
    kernel, booster = explainer.kernel, explainer.booster
    x = np.resize(rows, (args.batch_rows, rows.shape[1]))
    rates: dict[str, list[float]] = {}
    diff = 0.0
    bias_equal, scale = True, 0.0
    for _ in range(args.reps):
        for threads in (1, 2):
            t0 = time.perf_counter()
            got = kernel.contributions(x, threads=threads)
            t1 = time.perf_counter()
            ref = pred_contrib(booster, x, threads)
            t2 = time.perf_counter()
            rates.setdefault(f"kernel_{threads}t", []).append(len(x) / (t1 - t0))
            rates.setdefault(f"lightgbm_{threads}t", []).append(len(x) / (t2 - t1))
            diff = max(diff, float(np.abs(got - ref).max()))
            bias_equal = bias_equal and bool(np.array_equal(got[:, -1], ref[:, -1]))
            scale = max(scale, float(np.abs(ref[:, :-1]).max()))
    med = {k: statistics.median(v) for k, v in rates.items()}
    return {
        "rows": len(x),
        "median_rows_per_s": med,
        "speedup_1t": med["kernel_1t"] / med["lightgbm_1t"],
        "speedup_2t": med["kernel_2t"] / med["lightgbm_2t"],
        "max_abs_diff": diff,
        "max_abs_contribution": scale,
        "bias_column_bit_identical": bias_equal,
    }


def assessment(args: argparse.Namespace) -> dict[str, Any]:
    """An assessment in process with the edge kernel serving small calls (as shipped) and switched off.

    ``bench_assessment``'s (a), the LightGBM and SHAP calls of one
    assessment, and (a'), the whole ``run_assessment``, on the same cases;
    the two worlds (``ROW_KERNEL_MAX_ROWS`` as shipped, and 0: every call
    to the table kernel) alternate in blocks of 20 cases.  Medians in ms and
    the largest PD difference between the worlds.
    """
    settings = ensure_store(args.home)
    cases = make_cases(100, seed=11)
    local = InProcess(ModelStore(settings.store_path), cases)
    shipped = explainer_module.ROW_KERNEL_MAX_ROWS
    worlds = {"edges": shipped, "tables": 0}
    times: dict[str, list[float]] = {f"{w}_{k}": [] for w in worlds for k in ("floor", "assess")}
    pds: dict[str, dict[int, float]] = {w: {} for w in worlds}
    load_before = os.getloadavg()[0]
    try:
        for _ in range(args.rounds):
            for start in range(0, args.n, BLOCK):
                for world, limit in worlds.items():
                    explainer_module.ROW_KERNEL_MAX_ROWS = limit
                    for i in range(start, min(start + BLOCK, args.n)):
                        c = i % len(cases)
                        t0 = time.perf_counter()
                        local.floor(local.matrices[c])
                        t1 = time.perf_counter()
                        pds[world][c] = local.assess(cases[c])
                        t2 = time.perf_counter()
                        times[f"{world}_floor"].append(t1 - t0)
                        times[f"{world}_assess"].append(t2 - t1)
    finally:
        explainer_module.ROW_KERNEL_MAX_ROWS = shipped
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    return {
        "row_kernel_max_rows": shipped,
        "median_ms": med,
        "floor_edges_over_tables": med["edges_floor"] / med["tables_floor"],
        "assess_edges_over_tables": med["edges_assess"] / med["tables_assess"],
        "max_abs_pd_difference": max(abs(pds["edges"][c] - pds["tables"][c]) for c in pds["edges"]),
        "calls_per_world": len(times["edges_floor"]),
        "loadavg": [load_before, os.getloadavg()[0]],
    }


COMPILE_SCRIPT = """
import time, numpy as np, lightgbm as lgb
t0 = time.perf_counter()
from scoring.treeshap import TreeShap, explainer_for
t1 = time.perf_counter()
rng = np.random.default_rng(0)
x = rng.normal(size=(300, 3)); x[:, 2] = rng.integers(0, 6, 300)
params = {"objective": "regression", "verbosity": -1, "num_leaves": 4}
b = lgb.train(params, lgb.Dataset(x, x[:, 0], categorical_feature=[2]), 3)
t2 = time.perf_counter()
k = TreeShap.from_model_text(b.model_to_string())
k.contributions(x[:5]); k.leaves(x[:5])
t3 = time.perf_counter()
k.row_contributions(x[:1])
t4 = time.perf_counter()
e = explainer_for(b)
t5 = time.perf_counter()
assert e.gate.supported and e.gate.row_kernel, e.gate
print(t1 - t0, t3 - t2, t4 - t3, t5 - t4)
"""


def numba_costs() -> dict[str, Any]:
    """Cold compile and warm-cache load of the kernels (child processes, fresh cache), install size.

    ``*_tables_s``: the table kernels (and ``fill_tables``), ``*_edges_s``: the
    edge kernel alone, ``*_explainer_s``: the rest of a first explainer (the gate).
    """
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            done = subprocess.run(
                [sys.executable, "-c", COMPILE_SCRIPT], env=env, capture_output=True, text=True, check=True
            )
            imp, tables, edges, rest = (float(v) for v in done.stdout.split())
            out[f"{label}_import_s"], out[f"{label}_tables_s"] = imp, tables
            out[f"{label}_edges_s"], out[f"{label}_explainer_s"] = edges, rest
    out["loadavg"] = list(os.getloadavg())
    site = Path(np.__file__).resolve().parents[1]
    sizes = {p: sum(f.stat().st_size for f in (site / p).rglob("*") if f.is_file()) for p in ("numba", "llvmlite")}
    out["install_mib"] = {p: round(s / 2**20, 1) for p, s in sizes.items()}
    out["versions"] = {p: metadata.version(p) for p in ("numba", "llvmlite", "lightgbm")}
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every booster of every served model; the numba costs."""
    settings = ensure_store(args.home)
    store = ModelStore(settings.store_path)
    models = {}
    for name in SERVED:
        t0 = time.perf_counter()
        models[name] = load_champion(store, name)
        print(f"{name}: loaded with kernels built and gated in {time.perf_counter() - t0:.2f} s", flush=True)
    rows = model_rows(models, 200)
    results: dict[str, Any] = {}
    for name, model in models.items():
        for role, explainer in model._explainers.items():
            entry: dict[str, Any] = {
                "trees": explainer.booster.num_trees(),
                "gate": explainer.gate.model_dump(),
                "build_and_gate_s": explainer.build_seconds,
            }
            results[f"{name}/{role}"] = entry
            if explainer.kernel is None:
                print(f"{name}/{role}: no kernel ({explainer.gate.reason})", flush=True)
                continue
            entry["load_before"] = wait_quiet(args.max_load)
            kernel, booster = explainer.kernel, explainer.booster
            other = other_work(models, name)
            impls: dict[str, Callable[[np.ndarray], Any]] = {
                "kernel": kernel.contributions,
                "edges": kernel.row_contributions,
                "lightgbm": functools.partial(pred_contrib, booster),
            }
            entry["single_row"] = single_row(impls, rows[name], other, args)
            entry["single_row"]["edges_max_abs_diff"] = edges_diff(kernel, booster, rows[name])
            entry["rows"] = row_counts(kernel, rows[name], other, args)
            entry["batch"] = batch(model, role, rows[name], args)
            entry["load_after"] = os.getloadavg()[0]
            s, b = entry["single_row"], entry["batch"]
            ms = s["median_ms"]
            print(
                f"{name}/{role} ({entry['trees']} trees): single row interleaved: edges {ms['edges_inter']:.3f}, "
                f"tables {ms['kernel_inter']:.3f}, pred_contrib {ms['lightgbm_inter']:.3f} ms "
                f"(edges {s['speedup_edges_inter']:.1f}x, tables {s['speedup_inter']:.1f}x); "
                f"edges {s['speedup_edges_b2b']:.1f}x back to back, {s['speedup_edges_l2']:.1f}x L2 lost, "
                f"{s['speedup_edges_cold']:.1f}x cold (tables {s['speedup_b2b']:.1f}x, {s['speedup_l2']:.1f}x, "
                f"{s['speedup_cold']:.1f}x), edges max diff {s['edges_max_abs_diff']:.1e}; "
                f"edges/tables per call by rows "
                + ", ".join(f"{n}: {r['edges_over_kernel']:.2f}" for n, r in entry["rows"].items())
                + "; "
                f"batch {b['median_rows_per_s']['kernel_1t']:.0f} vs "
                f"{b['median_rows_per_s']['lightgbm_1t']:.0f} rows/s ({b['speedup_1t']:.1f}x), 2 threads "
                f"{b['speedup_2t']:.1f}x; max diff {b['max_abs_diff']:.1e}",
                flush=True,
            )
    return {"boosters": results, "numba": numba_costs()}


def main(argv: list[str] | None = None) -> int:
    """Run, print, write the JSON."""
    args = parse_args(argv)
    if args.assessment:
        result = json.loads(args.out.read_text()) if args.out.exists() else {}
        result["assessment"] = assessment(args)
        print(json.dumps(result["assessment"], indent=1))
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        return 0
    if args.numba_only:
        result = json.loads(args.out.read_text()) if args.out.exists() else {}
        result["numba"] = numba_costs()
        print(json.dumps(result["numba"], indent=1))
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        return 0
    meta: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    meta["settings"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    out = run(args)
    meta["machine"]["loadavg_end"] = list(os.getloadavg())
    print(json.dumps(out["numba"], indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, **out}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
