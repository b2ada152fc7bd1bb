"""One assessment, four ways, side by side on the same models and the same cases.

    .venv/bin/python benchmarks/bench_assessment.py [--quick] [--home /tmp/bench-home]

(a)  in-process floor: the model calls one assessment needs, one after
     the other (``LoadedModel``): raw P10 and P90 and the P50 SHAP
     for the pledged patents, the PD SHAP for the loan (P50 and PD
     are the SHAP row sums, so they need no predict call of their own).
(a') ``scoring.pipeline.run_assessment``: the full pure-python scoring.
(b)  a naive FastAPI endpoint (``naive_app.py``): pandas frames and a new
     ``shap.TreeExplainer`` per request.
(c)  iprisk's ``POST /v1/assessments`` end to end: auth, validation,
     scoring, SQLite persistence, audit chain, metrics, request log; timed
     through httpx.  (c') is the same requests timed through the standard
     library's ``http.client``, to show how much of (c) is the client.

Measures sequential latency for all four and closed-loop throughput at 16
clients for (b) and (c), interleaved (a, a', b, c, load b, load c) and
repeated; figures quoted are medians over the repetitions.  Prints a table
and writes JSON (default ``benchmarks/results/assessment.json``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from cases import AS_OF, Case, make_cases
from load import (
    LatencyStats,
    LoadResult,
    closed_loop_load,
    http_poster,
    time_calls,
    wait_for_quiet,
    with_foreign_load,
)
from report import VARIANTS, render, summarise
from servers import Server, serve_iprisk, serve_naive

from models_store import ModelStore
from scoring.credit import pd_matrix
from scoring.lgd import lgd_matrix
from scoring.models import LoadedModel
from scoring.pipeline import run_assessment
from scoring.policy import load_scoring_config
from scoring.valuation import quantiles, valuation_matrix
from service.bootstrap import ensure_models, missing_champions
from service.bundle import load_champion
from service.client import IpriskClient
from service.keys import new_key
from service.settings import Settings

HERE = Path(__file__).resolve().parent
PACKAGES = (
    "lightgbm",
    "shap",
    "numpy",
    "pandas",
    "fastapi",
    "starlette",
    "uvicorn",
    "h11",
    "pydantic",
    "sqlalchemy",
    "sqlmodel",
    "httpx",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` shrinks every loop for a smoke run."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few requests, short load, one repetition")
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"), help="throwaway IPRISK_HOME")
    ap.add_argument("--n", type=int, help="sequential requests per variant and repetition (default 300)")
    ap.add_argument("--reps", type=int, help="interleaved repetitions (default 3)")
    ap.add_argument("--duration", type=float, help="seconds of load per throughput run (default 12)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients in the load runs")
    ap.add_argument(
        "--quiet-below",
        type=float,
        default=0.3,
        help="before each measurement wait until other processes use fewer cores than this",
    )
    ap.add_argument("--settle-max", type=float, help="longest wait for quiet per measurement, s (default 120)")
    ap.add_argument("--out", type=Path, help="JSON output (default benchmarks/results/assessment[-quick].json)")
    args = ap.parse_args(argv)
    quick = args.quick
    args.n = args.n or (30 if quick else 300)
    args.reps = args.reps or (1 if quick else 3)
    args.duration = args.duration or (3.0 if quick else 12.0)
    args.warmup = 5 if quick else 30
    args.settle_max = args.settle_max if args.settle_max is not None else (0.0 if quick else 120.0)
    args.out = args.out or HERE / "results" / ("assessment-quick.json" if quick else "assessment.json")
    return args


def machine() -> dict[str, Any]:
    """Where and with what the figures were measured."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": list(os.getloadavg()),
        "versions": {p: metadata.version(p) for p in PACKAGES},
    }


def with_database(settings: Settings, db: Path) -> Settings:
    """``settings`` on a new SQLite file ``db``: every benchmark run starts from an empty database."""
    return settings.model_copy(update={"database_url": f"sqlite:///{db}"})


def ensure_store(home: Path) -> Settings:
    """Settings for ``home``, bootstrapping the models if its store has no champions."""
    settings = Settings(home=home, bootstrap_loans=40_000)
    settings.home.mkdir(parents=True, exist_ok=True)
    if missing_champions(ModelStore(settings.store_path)):
        print(f"bootstrapping models in {settings.home} (about a minute)...", flush=True)
        ensure_models(settings, progress=lambda m: print("  " + m, flush=True))
    return settings


class InProcess:
    """Variants (a) and (a'): the served champions called directly."""

    def __init__(self, store: ModelStore, cases: list[Case]) -> None:
        self.valuation: LoadedModel = load_champion(store, "valuation")
        self.pd: LoadedModel = load_champion(store, "pd")
        self.lgd: LoadedModel = load_champion(store, "lgd")
        self.config = load_scoring_config(None)
        self.caps = self.config.ltv.for_institution("bench")
        # The matrices one assessment feeds the models, built outside the timed calls.
        self.matrices = [self._matrices(c) for c in cases]

    def _matrices(self, case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xv = valuation_matrix(case.patents, AS_OF, case.borrower.revenue_cny)
        q = quantiles(self.valuation, xv)
        xp = pd_matrix(case.borrower, case.loan, case.patents, AS_OF, float(q[:, 1].sum()))
        xl = lgd_matrix(  # ~ pledge value
            self.lgd,
            borrower=case.borrower,
            loan=case.loan,
            patents=case.patents,
            as_of=AS_OF,
            package_value=float(q[:, 1].sum()),
        )
        return xv, xp, xl

    def floor(self, matrices: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """(a): exactly the LightGBM calls of one assessment (``value_patents`` and ``assess_credit``)."""
        xv, xp, xl = matrices
        self.valuation.contributions(xv, "p50")
        self.valuation.raw(xv, "p10")
        self.valuation.raw(xv, "p90")
        self.pd.contributions(xp)
        self.lgd.contributions(xl)

    def assess(self, case: Case) -> float:
        """(a'): the full pure-python scoring; returns the PD."""
        return run_assessment(
            self.valuation,
            self.pd,
            borrower=case.borrower,
            loan=case.loan,
            patents=case.patents,
            as_of=AS_OF,
            config=self.config,
            caps=self.caps,
            lgd_model=self.lgd,
        ).credit.pd


def check_agreement(local: InProcess, naive: Server, iprisk: Server, key: str, cases: list[Case]) -> dict[str, Any]:
    """The three implementations give the same PD on the same cases (else the comparison is moot)."""
    diffs = []
    with IpriskClient(iprisk.url, api_key=key) as client, httpx.Client(base_url=naive.url, timeout=60) as raw:
        for case in cases:
            pd_c = client.assess(case.body).pd
            pd_b = raw.post("/assess", json=case.body).raise_for_status().json()["pd"]
            diffs.append(max(abs(pd_c - local.assess(case)), abs(pd_c - pd_b)))
    return {"cases": len(cases), "max_abs_pd_difference": max(diffs)}


def in_process(call: Callable[[Any], Any], items: list[Any], *, n: int, warmup: int) -> dict[str, Any]:
    """Sequential latency of an in-process call."""
    return asdict(LatencyStats.of(time_calls(call, items, n=n, warmup=warmup)))


def _timed(
    server: Server, post: Callable[[bytes], None], payloads: list[bytes], *, n: int, warmup: int
) -> dict[str, Any]:
    cpu0 = server.cpu_seconds()
    seconds = time_calls(post, payloads, n=n, warmup=warmup)
    cpu = (server.cpu_seconds() - cpu0) * 1e3 / (n + warmup)
    return {**asdict(LatencyStats.of(seconds)), "server_cpu_ms_per_request": cpu}


def sequential(
    server: Server, path: str, headers: dict[str, str], payloads: list[bytes], *, n: int, warmup: int
) -> dict[str, Any]:
    """Sequential latency over one keep-alive httpx connection, with the server's CPU per request."""
    with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
        return _timed(server, http_poster(client, path), payloads, n=n, warmup=warmup)


def sequential_stdlib(
    server: Server, path: str, headers: dict[str, str], payloads: list[bytes], *, n: int, warmup: int
) -> dict[str, Any]:
    """As :func:`sequential`, through ``http.client`` (one keep-alive connection, body read in full)."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    sent = {**headers, "Content-Type": "application/json"}

    def post(payload: bytes) -> None:
        conn.request("POST", path, body=payload, headers=sent)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status not in (200, 201):
            raise RuntimeError(f"POST {path}: {resp.status} {body[:300]!r}")

    try:
        return _timed(server, post, payloads, n=n, warmup=warmup)
    finally:
        conn.close()


def load_run(
    server: Server, path: str, headers: dict[str, str], payloads: list[bytes], args: argparse.Namespace
) -> dict[str, Any]:
    """Closed-loop load at ``args.clients`` clients for ``args.duration`` seconds."""
    res: LoadResult = closed_loop_load(
        server.url,
        path,
        payloads,
        headers=headers,
        clients=args.clients,
        duration=args.duration,
        server_cpu=server.cpu_seconds,
    )
    out = asdict(res)
    out["latency"] = asdict(res.latency) if res.latency else None
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement, interleaved and repeated; raw per-repetition figures."""
    # Models from the home's store; a new, empty database for every run, so runs compare
    # (the home's database would grow by about 14 KB per assessment from run to run).
    db = args.home / "bench-runs" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    settings = with_database(ensure_store(args.home), db)
    try:
        return _run(args, settings)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def _run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    cases = make_cases(max(args.n, 64) + args.warmup)
    payloads = [c.payload for c in cases]
    local = InProcess(ModelStore(settings.store_path), cases)
    key, _ = new_key(settings, role="bank", institution="bench", label="benchmark")
    auth = {"Authorization": f"Bearer {key}"}
    logs = settings.home / "bench-logs"
    latency: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    load: dict[str, list[dict[str, Any]]] = {"b": [], "c": []}
    with (
        serve_naive(settings.store_path, logs / "naive.log") as naive,
        serve_iprisk(settings, logs / "iprisk.log") as iprisk,
    ):
        agreement = check_agreement(local, naive, iprisk, key, cases[:8])

        def own_cpu() -> float:
            return float(sum(os.times()[:2]) + naive.cpu_seconds() + iprisk.cpu_seconds())

        def record(series: list[dict[str, Any]], name: str, measure: Callable[[], dict[str, Any]]) -> None:
            before, waited = wait_for_quiet(own_cpu, below=args.quiet_below, max_wait=args.settle_max)
            series.append(
                with_foreign_load(measure, own_cpu) | {"other_cpu_cores_before": before, "waited_for_quiet_s": waited}
            )
            r = series[-1]
            figure = f"{r['throughput_rps']:8.1f} req/s" if "throughput_rps" in r else f"{r['median_ms']:8.2f} ms"
            print(
                f"  {name:8s} {figure}   (other processes: {r['other_cpu_cores']:.1f} cores; "
                f"waited {waited:.0f} s for quiet)",
                flush=True,
            )

        for rep in range(args.reps):
            print(f"repetition {rep + 1}/{args.reps}", flush=True)
            for name, call, items in (
                ("a", local.floor, local.matrices),
                ("a_prime", local.assess, cases),
            ):
                record(latency[name], name, partial(in_process, call, items, n=args.n, warmup=args.warmup))
            for name, server, path, headers in (("b", naive, "/assess", {}), ("c", iprisk, "/v1/assessments", auth)):
                record(
                    latency[name],
                    name,
                    partial(sequential, server, path, headers, payloads, n=args.n, warmup=args.warmup),
                )
            record(
                latency["c_stdlib"],
                "c_stdlib",
                partial(sequential_stdlib, iprisk, "/v1/assessments", auth, payloads, n=args.n, warmup=args.warmup),
            )
            for name, server, path, headers in (("b", naive, "/assess", {}), ("c", iprisk, "/v1/assessments", auth)):
                record(load[name], f"{name} load", partial(load_run, server, path, headers, payloads, args))
    return {"latency": latency, "load": load, "agreement": agreement}


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON."""
    args = parse_args(argv)
    meta = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "cases": "EXAMPLE_* with uuid patent ids and varied numbers, 1-3 patents, as_of " + AS_OF.isoformat(),
    }
    t0 = time.perf_counter()
    raw = run(args)
    summary = summarise(raw)
    meta["wall_seconds"] = round(time.perf_counter() - t0, 1)
    meta["machine"]["loadavg_end"] = list(os.getloadavg())
    print("\n" + render(summary, args))
    print(f"\nPD agreement across (a'), (b), (c): max |difference| {raw['agreement']['max_abs_pd_difference']:.2e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "summary": summary, "runs": raw}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
