"""Summaries of a benchmark run: medians over repetitions, the two targets, the printed table."""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

VARIANTS = {
    "a": "(a) floor: LightGBM calls only",
    "a_prime": "(a') run_assessment in-process",
    "b": "(b) naive FastAPI + shap",
    "c": "(c) iprisk POST /v1/assessments",
    "c_stdlib": "(c') the same, timed via http.client",
}


def _med(values: list[float]) -> float:
    return float(statistics.median(values))


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """Medians over repetitions, and the two targets."""
    lat: dict[str, dict[str, Any]] = {
        v: {k: _med([r[k] for r in runs]) for k in ("median_ms", "p90_ms", "p99_ms", "other_cpu_cores")}
        | {"median_ms_range": [min(r["median_ms"] for r in runs), max(r["median_ms"] for r in runs)]}
        for v, runs in raw["latency"].items()
    }
    for v in ("b", "c", "c_stdlib"):
        lat[v]["server_cpu_ms_per_request"] = _med([r["server_cpu_ms_per_request"] for r in raw["latency"][v]])
    load: dict[str, dict[str, Any]] = {}
    for v, runs in raw["load"].items():
        ok = [r for r in runs if r["latency"]]
        load[v] = {
            "throughput_rps": _med([r["throughput_rps"] for r in runs]),
            "throughput_rps_range": [min(r["throughput_rps"] for r in runs), max(r["throughput_rps"] for r in runs)],
            "errors": sum(r["errors"] for r in runs),
            "completed": sum(r["completed"] for r in runs),
            "server_cpu_ms_per_request": _med([r["server_cpu_ms_per_request"] for r in ok]),
            "other_cpu_cores": _med([r["other_cpu_cores"] for r in runs]),
            **{k: _med([r["latency"][k] for r in ok]) for k in ("median_ms", "p90_ms", "p99_ms")},
        }
    ratio = load["c"]["throughput_rps"] / load["b"]["throughput_rps"]
    bound = 2 * lat["a"]["median_ms"] + 1.0
    # The same comparisons inside each repetition, where both sides saw the same machine.
    per_rep_ratio = [
        c["throughput_rps"] / b["throughput_rps"] for b, c in zip(raw["load"]["b"], raw["load"]["c"], strict=True)
    ]
    per_rep_margin = [
        c["median_ms"] - (2 * a["median_ms"] + 1.0)
        for a, c in zip(raw["latency"]["a"], raw["latency"]["c"], strict=True)
    ]
    per_rep_margin_stdlib = [
        c["median_ms"] - (2 * a["median_ms"] + 1.0)
        for a, c in zip(raw["latency"]["a"], raw["latency"]["c_stdlib"], strict=True)
    ]
    targets = {
        "throughput_c_over_b": {
            "value": ratio,
            "target": ">= 2.0",
            "pass": ratio >= 2.0,
            "per_repetition": per_rep_ratio,
        },
        "latency_c_vs_floor": {
            "value_ms": lat["c"]["median_ms"],
            "bound_ms": bound,
            "target": "median(c) <= 2 x median(a) + 1 ms",
            "pass": lat["c"]["median_ms"] <= bound,
            "per_repetition_excess_ms": per_rep_margin,
        },
        "latency_c_stdlib_vs_floor": {
            "value_ms": lat["c_stdlib"]["median_ms"],
            "bound_ms": bound,
            "target": "as latency_c_vs_floor, timed through http.client",
            "pass": lat["c_stdlib"]["median_ms"] <= bound,
            "per_repetition_excess_ms": per_rep_margin_stdlib,
        },
    }
    return {"latency": lat, "load": load, "targets": targets}


def render(summary: dict[str, Any], args: argparse.Namespace) -> str:
    """The table printed at the end of a run."""
    lat, load, tg = summary["latency"], summary["load"], summary["targets"]
    lines = [
        f"single request, sequential (N={args.n} after {args.warmup} warm-up; median of {args.reps} reps)",
        f"{'variant':40s} {'median':>9s} {'p90':>9s} {'p99':>9s}  {'median range':>17s} {'other':>6s}",
    ]
    for v, label in VARIANTS.items():
        s = lat[v]
        lo, hi = s["median_ms_range"]
        lines.append(
            f"{label:40s} {s['median_ms']:7.2f}ms {s['p90_ms']:7.2f}ms {s['p99_ms']:7.2f}ms  "
            f"{lo:7.2f}–{hi:7.2f}ms {s['other_cpu_cores']:6.1f}"
        )
    lines += [
        "",
        f"throughput, {args.clients} concurrent clients, {args.duration:g} s per run (median of {args.reps})",
        f"{'variant':40s} {'req/s':>8s} {'median':>9s} {'p90':>9s} {'p99':>9s} {'errors':>7s} {'cpu/req':>9s}"
        f" {'other':>6s}",
    ]
    for v in ("b", "c"):
        s = load[v]
        lines.append(
            f"{VARIANTS[v]:40s} {s['throughput_rps']:8.1f} {s['median_ms']:7.1f}ms {s['p90_ms']:7.1f}ms "
            f"{s['p99_ms']:7.1f}ms {s['errors']:7d} {s['server_cpu_ms_per_request']:7.2f}ms "
            f"{s['other_cpu_cores']:6.1f}"
        )
    t1, t2, t3 = tg["throughput_c_over_b"], tg["latency_c_vs_floor"], tg["latency_c_stdlib_vs_floor"]
    reps1 = ", ".join(f"{v:.1f}x" for v in t1["per_repetition"])
    reps2 = ", ".join(f"{v:+.2f}" for v in t2["per_repetition_excess_ms"])
    reps3 = ", ".join(f"{v:+.2f}" for v in t3["per_repetition_excess_ms"])
    lines += [
        "",
        f"target 1: throughput (c) >= 2 x (b): {t1['value']:.1f}x -> {'PASS' if t1['pass'] else 'FAIL'}"
        f"   (per repetition: {reps1})",
        f"target 2: median (c) <= 2 x median (a) + 1 ms: {t2['value_ms']:.2f} ms vs {t2['bound_ms']:.2f} ms "
        f"-> {'PASS' if t2['pass'] else 'FAIL'}   (per repetition, ms over the bound: {reps2})",
        f"          the same, timed via http.client: {t3['value_ms']:.2f} ms vs {t3['bound_ms']:.2f} ms "
        f"-> {'PASS' if t3['pass'] else 'FAIL'}   (per repetition: {reps3})",
        "",
        "other = CPU cores kept busy by processes outside the benchmark during the measurement (of "
        f"{os.cpu_count()}); cpu/req = server process CPU per request",
    ]
    return "\n".join(lines)
